"""stacktop watch, delivery (issue 10): mail degrades, never disappears, and
never stops the sampling loop. Every test runs a real aiosmtpd on loopback
whose handlers misbehave the way production servers do: a recipient refused
with 550, DATA taken and never answered, long lines refused with 500, a
permanent refusal, a slow temporary failure."""
import json
import os
import re
import signal
import subprocess
import time

import pytest

from watch_support import (SmtpSink, WatchProcess, attachment_of, body_of, bundles_in, long_lines, run_once,
                           unpack, wait_until, write_config)


@pytest.fixture
def sinks():
    started = []

    def _start(**kw):
        s = SmtpSink(**kw).start()
        started.append(s)
        return s

    yield _start
    for s in started:
        s.stop()


@pytest.fixture
def watch():
    started = []

    def _start(conf, *args):
        w = WatchProcess(conf, *args)
        started.append(w)
        return w

    yield _start
    for w in started:
        try:
            w.stop(timeout=30)
        except subprocess.TimeoutExpired:
            w.kill()


def mail_config(tmp_path, body, port, to="ops@example.com, dev@example.com", extra=""):
    return write_config(tmp_path, body, mail=False,
                        extra_global=f"mail_to = {to}\nmail_from = stacktop@test.example.com\n"
                                     f"smtp_url = smtp://127.0.0.1:{port}\n{extra}")


def test_one_refused_recipient_does_not_stop_the_others(tmp_path, spawn, sinks, watch):
    """550 for one address: the others get the mail at the first attempt; the
    refused one is retried a bounded number of times, then given up with a
    log line and a FAILED marker next to the bundle."""
    sink = sinks(reject_rcpt={"gone@example.com"})
    busy = spawn("watch_busy")
    conf, bundles = mail_config(tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\nthreads_above = 2\n", sink.port,
                                to="ops@example.com, gone@example.com, dev@example.com",
                                extra="mail_retry = 200ms\n")
    w = watch(conf)
    [(_, rcpt, raw)] = sink.wait_for(1)
    assert sorted(rcpt) == ["dev@example.com", "ops@example.com"]
    msg, parts = attachment_of(raw)
    assert len(parts) == 1 and "threads_above" in msg["Subject"]
    w.wait_for(r"mail \S+\.mail to gone@example\.com given up after 3 refusals: RCPT refused: 550")
    assert wait_until(lambda: not list(bundles.glob("*.mail")), timeout=30)
    [failed] = list(bundles.glob("*.FAILED"))
    [bundle] = bundles_in(bundles)
    assert failed.name == bundle.name.replace(".tar.gz", ".FAILED")
    assert "not delivered to gone@example.com after 3 attempts" in failed.read_text()
    rc, log = w.stop()
    assert rc == 0, log
    # Each of the others got it exactly once.
    assert len(sink.messages) == 1, log
    assert len(sink.times("rcpt-refused")) == 3


def test_a_stalled_smtp_server_never_stops_sampling(tmp_path, spawn, sinks, watch):
    """The server takes DATA and never answers. The loop goes on: another
    incident is bundled while the first mail still hangs, and SIGTERM stops
    the watcher at once, leaving no job behind."""
    sink = sinks(stall=True)
    first, second = spawn("watch_busy"), spawn("watch_busy")
    conf, bundles = mail_config(
        tmp_path, f"[service first]\nmatch = pid:{first.pid}\nthreads_above = 2\n\n"
                  f"[service second]\nmatch = pid:{second.pid}\nrestart = alert\n", sink.port)
    w = watch(conf, "-v")
    assert sink.stalled.wait(60), w.log
    jobs = w.children()
    assert jobs, "the mail attempt runs in a job of its own"
    # While the mail hangs: samples go on, and a new incident gets its bundle.
    seen = w.count(r"\[second\] 1 process matched")
    w.wait_for(r"\[second\] 1 process matched", count=seen + 5)
    second.kill()
    w.wait_for(r"\[second\] bundle \S+-second-restart-\S+ written")
    assert sink.messages == [] and not sink.times("accepted"), "the server still holds the first mail"
    # SIGTERM is handled while the server still stalls.
    rc, log = w.stop(timeout=20)
    assert rc == 0, log
    assert sink.messages == []
    assert "stopping:" in log
    for pid in jobs:
        assert not os.path.exists(f"/proc/{pid}"), f"job {pid} outlived the watcher"


def test_an_attempt_ends_at_mail_timeout(tmp_path, spawn, sinks, watch):
    """A stalled attempt is cut at mail_timeout by stacktop itself (the server
    never answers), logged, and retried later; the mail stays queued."""
    sink = sinks(stall=True)
    busy = spawn("watch_busy")
    conf, bundles = mail_config(tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\nthreads_above = 2\n", sink.port,
                                extra="mail_timeout = 2s\nmail_retry = 1h\n")
    w = watch(conf)
    assert sink.stalled.wait(60), w.log
    w.wait_for(r"mail \S+ to ops@example\.com not sent \(attempt 1\).*; retrying in 3600s", timeout=60)
    assert sink.stalled.is_set() and sink.messages == []
    [queued] = list(bundles.glob("*.mail"))
    assert "\nattempts: 1\n" in queued.read_text()
    rc, log = w.stop()
    assert rc == 0, log


def test_pending_mail_of_an_earlier_run_goes_out_in_the_background(tmp_path, spawn, sinks, watch):
    """At start-up a stalled server must not delay the first sample: the old
    mail is sent off the loop while new incidents are bundled."""
    down = SmtpSink()  # never started: connections are refused
    busy = spawn("watch_busy")
    conf, bundles = mail_config(tmp_path, f"[service old]\nmatch = pid:{busy.pid}\nthreads_above = 2\n", down.port)
    r = run_once(conf)
    assert "1 mail pending" in r.stderr
    busy.kill()
    sink = sinks(stall=True, port=down.port)
    fresh = spawn("watch_busy")
    conf.write_text(conf.read_text() + f"\n[service fresh]\nmatch = pid:{fresh.pid}\nthreads_above = 2\n")
    w = watch(conf)
    assert sink.stalled.wait(60), w.log
    w.wait_for(r"\[fresh\] bundle \S+-fresh-threads_above-\S+ written")
    assert sink.messages == []
    rc, log = w.stop(timeout=20)
    assert rc == 0, log


def test_long_command_lines_reach_a_strict_server(tmp_path, spawn, sinks):
    """aiosmtpd, like many servers, refuses lines over 1000 bytes with "500
    Line too long": the mail must still get through, command line intact."""
    sink = sinks()
    arg = "--flag=" + "x" * 3000
    busy = spawn("watch_busy", arg)
    conf, bundles = mail_config(tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\nthreads_above = 2\n", sink.port)
    run_once(conf)
    [(_, _, raw)] = sink.wait_for(1, timeout=10)
    assert long_lines(raw) == []
    msg, parts = attachment_of(raw)
    assert arg in body_of(msg)
    assert len(parts) == 1


def test_each_mail_has_its_own_message_id(tmp_path, spawn, sinks):
    """Two incidents in the same second: two Message-IDs (a receiver that drops
    duplicates must not drop an incident)."""
    sink = sinks()
    a, b = spawn("watch_busy"), spawn("watch_busy")
    conf, bundles = mail_config(tmp_path, f"[service a]\nmatch = pid:{a.pid}\nthreads_above = 2\n\n"
                                          f"[service b]\nmatch = pid:{b.pid}\nthreads_above = 2\n", sink.port)
    run_once(conf)
    messages = sink.wait_for(2, timeout=10)
    assert len(messages) == 2
    ids = [attachment_of(raw)[0]["Message-ID"] for _, _, raw in messages]
    assert ids[0] and ids[1] and ids[0] != ids[1], ids


def test_mail_says_when_what_and_how_much(tmp_path, spawn, sinks):
    """The mail states the incident time, the value and the threshold, and per
    process RES, CPU% and threads at the moment it fired."""
    sink = sinks()
    busy = spawn("watch_busy")
    conf, bundles = mail_config(tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\ncpu_above = 5% for 2\n", sink.port)
    before = time.time()
    run_once(conf)
    [(_, _, raw)] = sink.wait_for(1, timeout=10)
    msg, parts = attachment_of(raw)
    body = body_of(msg).replace("\r\n", "\n")
    m = re.search(r"^incident:\s+(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) \(UTC; when the rule fired\)$", body, re.M)
    assert m, body
    fired = time.mktime(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert before - 1 <= fired <= time.time() + 1
    value = re.search(r"^value:\s+CPU ([0-9.]+)% of one core \(threshold 5% for 2\)$", body, re.M)
    assert value and float(value.group(1)) > 5, body
    assert re.search(r"PID\s+USER\s+S\s+THR\s+CPU%\s+RES", body), body
    row = re.search(rf"^\s+{busy.pid}\s+root\s+\w\s+6\s+([0-9.]+)\s+(\S+)\s", body, re.M)
    assert row, body
    assert float(row.group(1)) > 0  # the busy thread
    summary = json.loads(unpack(parts[0].get_content())["summary.json"])
    assert summary["processes"][0]["threads"] == 6


def test_a_permanent_refusal_ends_retries(tmp_path, spawn, sinks, watch):
    """554 after DATA for everyone: a bounded number of attempts, then a
    clear log line, a FAILED marker, and the queue entry is gone."""
    sink = sinks(data_reply="554 5.7.1 message refused by policy")
    busy = spawn("watch_busy")
    conf, bundles = mail_config(tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\nthreads_above = 2\n", sink.port,
                                extra="mail_retry = 200ms\n")
    w = watch(conf)
    w.wait_for(r"given up after 3 refusals: .*554", count=2)
    assert wait_until(lambda: not list(bundles.glob("*.mail")), timeout=30)
    [failed] = list(bundles.glob("*.FAILED"))
    text = failed.read_text()
    assert "not delivered to ops@example.com" in text and "not delivered to dev@example.com" in text
    rc, log = w.stop()
    assert rc == 0
    assert len(sink.times("data-refused")) == 3, log
    assert len(bundles_in(bundles)) == 1


def test_backoff_counts_from_the_end_of_an_attempt(tmp_path, spawn, sinks, watch):
    """A server that takes 2 s to say "451 try later": the retry comes
    mail_retry after the end of the failed attempt, not after its start."""
    sink = sinks(data_reply="451 4.3.0 try again later", stall_seconds=2)
    busy = spawn("watch_busy")
    conf, bundles = mail_config(tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\nthreads_above = 2\n", sink.port,
                                extra="mail_retry = 1s\n")
    w = watch(conf)
    assert wait_until(lambda: len(sink.times("mail")) >= 2, timeout=60), w.log
    rc, log = w.stop()
    ended = sink.times("data-refused")[0]
    second = sink.times("mail")[1]
    assert second - ended >= 1.0 - 0.05, (second - ended, log)


def test_service_owners_get_their_services_mail(tmp_path, spawn, sinks):
    """mail_to in [service] adds that service's owners to the global list."""
    sink = sinks()
    a, b = spawn("watch_busy"), spawn("watch_busy")
    conf, bundles = mail_config(tmp_path, f"[service a]\nmatch = pid:{a.pid}\nthreads_above = 2\n"
                                          f"mail_to = team-a@example.com, ops@example.com\n\n"
                                          f"[service b]\nmatch = pid:{b.pid}\nthreads_above = 2\n", sink.port)
    run_once(conf)
    messages = sink.wait_for(2, timeout=10)
    by_service = {}
    for _, rcpt, raw in messages:
        subject = attachment_of(raw)[0]["Subject"]
        by_service[re.search(r"testhost: (\w+) threads_above", subject).group(1)] = sorted(rcpt)
    assert by_service == {"a": ["dev@example.com", "ops@example.com", "team-a@example.com"],
                          "b": ["dev@example.com", "ops@example.com"]}
