"""stacktop watch: config validation, rules firing on real fixture processes,
diagnostic bundles (checked by unpacking them), mail through a real SMTP
server on loopback (Debian's python3-aiosmtpd), the durable mail queue,
cooldown, the flood cap, restart detection, pprof collection and the exec hook.

Intervals are short (200ms) so the suite stays fast; nothing here asserts on
timing, only on what was produced; waits are for log lines or files, with
deadlines. Delivery, durability, privilege and semantics of the rework for
issue 10 are in test_watch_*.py.
"""
import json
import os
import re
import signal
import subprocess
import time
from xml.etree import ElementTree

import pytest

from conftest import run_stacktop
from watch_support import (SmtpSink, WatchProcess, attachment_of, body_of, bundles_in, free_port, run_once,
                           unpack, wait_until, write_config)


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def watchers():
    """Starts `stacktop watch` daemons; every one is stopped in teardown."""
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


def stop_watcher(w):
    rc, log = w.stop()
    assert rc == 0, log
    return log


# ---------------------------------------------------------------- config errors

BAD_CONFIGS = [
    ("unknown-key", "[global]\nintervall = 5s\n[service a]\nmatch = pid:1\nrestart = alert\n",
     r":2: unknown key 'intervall' in \[global\]; expected one of: interval, "),
    ("bad-duration", "[global]\ninterval = 5 parsecs\n[service a]\nmatch = pid:1\nrestart = alert\n",
     r":2: \[global\] interval = '5 parsecs': expected a duration such as 200ms, 5s"),
    ("bad-size", "[service a]\nmatch = pid:1\nres_above = 2GB\n",
     r":3: \[service a\] res_above = '2GB': expected a size such as"),
    ("cpu-without-percent", "[service a]\nmatch = pid:1\ncpu_above = 90 for 3\n",
     r":3: \[service a\] cpu_above = '90 for 3': expected a percentage of one core"),
    ("bad-growth", "[service a]\nmatch = pid:1\nres_growth_above = 50MiB over 30m\n",
     r":3: \[service a\] res_growth_above = '50MiB over 30m': expected a size per s, m or h over a window"),
    ("window-too-short", "[global]\ninterval = 10s\n[service a]\nmatch = pid:1\nthread_growth_above = 5/m over 10s\n",
     r":3: \[service a\] thread_growth_above: the window must span at least three intervals"),
    ("window-too-long", "[service a]\nmatch = pid:1\nres_growth_above = 5MiB/h over 100h\n",
     r":1: \[service a\] res_growth_above: the window can be at most 3 days"),
    ("fds-over-100", "[service a]\nmatch = pid:1\nfds_above = 120%\n",
     r":3: \[service a\] fds_above = '120%': expected a percentage of the open-files limit"),
    ("bad-match-kind", "[service a]\nmatch = name:nginx\nrestart = alert\n",
     r":2: \[service a\] match = 'name:nginx': expected comm:NAME, exe:/ABSOLUTE/PATH"),
    ("bad-regex", "[service a]\nmatch = cmdline:/[unclosed/\nrestart = alert\n",
     r":2: \[service a\] match = 'cmdline:/\[unclosed/': cmdline: bad regular expression"),
    ("comm-too-long", "[service a]\nmatch = comm:averyveryverylongname\nrestart = alert\n",
     r":2: .*comm: needs a process name of 1 to 15 characters"),
    ("missing-match", "[global]\ncooldown = 1m\n\n[service lonely]\ncpu_above = 90%\n",
     r":4: \[service lonely\] has no 'match' key; expected e.g. match = comm:nginx"),
    ("empty-service", "[service empty]\n",
     r":1: \[service empty\] has no 'match' key"),
    ("no-rule", "[service a]\nmatch = pid:1\n",
     r":1: \[service a\] has no rule; expected at least one of cpu_above"),
    ("unknown-section", "[servce a]\nmatch = pid:1\n",
     r":1: unknown section \[servce a\]; expected \[global\] or \[service NAME\]"),
    ("key-before-section", "interval = 5s\n[service a]\nmatch = pid:1\nrestart = alert\n",
     r":1: 'interval' before any section"),
    ("duplicate-key", "[service a]\nmatch = pid:1\nrestart = alert\nrestart = ignore\n",
     r":4: \[service a\] 'restart' is given twice"),
    ("duplicate-service", "[service a]\nmatch = pid:1\nrestart = alert\n[service a]\nmatch = pid:2\n",
     r":4: \[service a\] is defined twice \(first at line 1\)"),
    ("syntax", "[service a]\nmatch = pid:1\nthis is not a key\n",
     r":3: cannot parse this line; expected 'key = value'"),
    ("mail-without-server", "[global]\nmail_to = ops@example.com\nmail_from = s@example.com\n"
     "[service a]\nmatch = pid:1\nrestart = alert\n",
     r":2: mail_to is set but smtp_url is missing"),
    ("bad-address", "[global]\nmail_to = ops@example.com, nobody\n[service a]\nmatch = pid:1\nrestart = alert\n",
     r":2: \[global\] mail_to = .*'nobody' is not a mail address"),
    ("bad-smtp-url", "[global]\nsmtp_url = http://mail\n[service a]\nmatch = pid:1\nrestart = alert\n",
     r":2: \[global\] smtp_url = 'http://mail': expected smtp://HOST"),
    ("unreadable-password", "[global]\nsmtp_user = bob\nsmtp_password_file = /nonexistent/smtp.pass\n"
     "[service a]\nmatch = pid:1\nrestart = alert\n",
     r":3: \[global\] smtp_password_file = '/nonexistent/smtp.pass': cannot read '/nonexistent/smtp.pass': "
     r"No such file or directory"),
    ("user-without-password", "[global]\nsmtp_user = bob\n[service a]\nmatch = pid:1\nrestart = alert\n",
     r": smtp_user and smtp_password_file go together"),
    ("bad-tls", "[global]\nsmtp_tls = maybe\n[service a]\nmatch = pid:1\nrestart = alert\n",
     r":2: \[global\] smtp_tls = 'maybe': expected 'required' \(STARTTLS\) or 'none'"),
    ("bad-restart", "[service a]\nmatch = pid:1\nrestart = yes\n",
     r":3: \[service a\] restart = 'yes': expected 'alert' or 'ignore'"),
    ("nothing-to-watch", "[global]\ncooldown = 1m\n",
     r": nothing to watch; expected at least one \[service NAME\] section"),
    # Issue 10: an absurd interval spins a core; a sub-millisecond timeout is no timeout for libcurl;
    # root must never make / (or a system directory) private and prune it.
    ("interval-too-short", "[global]\ninterval = 1ms\n[service a]\nmatch = pid:1\nrestart = alert\n",
     r":2: \[global\] interval = '1ms': expected a duration from 100ms to 1h"),
    ("interval-too-long", "[global]\ninterval = 3h\n[service a]\nmatch = pid:1\nrestart = alert\n",
     r":2: \[global\] interval = '3h': expected a duration from 100ms to 1h"),
    ("pprof-timeout-zero", "[global]\npprof_timeout = 0.5ms\n[service a]\nmatch = pid:1\nrestart = alert\n",
     r":2: \[global\] pprof_timeout = '0.5ms': expected a duration from 100ms to 1h"),
    ("bundle-dir-root", "[service a]\nmatch = pid:1\nrestart = alert\n[global]\nbundle_dir = /\n",
     r":5: \[global\] bundle_dir = '/': '/' is the root directory"),
    ("bundle-dir-system", "[service a]\nmatch = pid:1\nrestart = alert\n[global]\nbundle_dir = /etc/stacktop\n",
     r":5: \[global\] bundle_dir = '/etc/stacktop': '/etc/stacktop' is inside /etc"),
]


@pytest.mark.parametrize("name,text,message", BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_is_one_clear_message_and_exit_2(tmp_path, name, text, message):
    bundles = tmp_path / "bundles"
    conf = tmp_path / f"{name}.conf"
    # A second [global] at the end keeps the line numbers of the table intact.
    conf.write_text(f"{text}\n[global]\nbundle_dir = {bundles}\n")
    expected = message
    for args in ([], ["--check-config"], ["--once"]):
        r = run_stacktop("watch", "-c", conf, "--foreground", *args, timeout=30)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, r.stderr
        assert lines[0].startswith(f"stacktop: {conf}"), lines[0]
        assert re.search(expected, lines[0]), (expected, lines[0])
        assert r.stdout == ""
        assert not bundles.exists(), "nothing may start on a bad config"


def test_command_line_errors(tmp_path):
    r = run_stacktop("watch")
    assert r.returncode == 2 and "expected -c FILE" in r.stderr
    r = run_stacktop("watch", "-c", tmp_path / "missing.conf")
    assert r.returncode == 2 and "missing.conf: cannot open: No such file or directory" in r.stderr
    r = run_stacktop("watch", "-c", tmp_path / "x.conf", "--bogus")
    assert r.returncode == 2 and "unknown option '--bogus'" in r.stderr
    r = run_stacktop("watch", "--help")
    assert r.returncode == 0 and "--check-config" in r.stdout


def test_check_config_prints_resolved_services_and_rules(tmp_path):
    pw = tmp_path / "smtp.pass"
    pw.write_text("s3cret\n")
    conf = tmp_path / "full.conf"
    conf.write_text(f"""[global]
interval = 5s
bundle_dir = {tmp_path}/b
keep_bundles = 20              ; and/or max_bundle_disk
max_bundle_disk = 500MiB
mail_to = ops@example.com, dev@example.com
mail_from = stacktop@db1.example.com
smtp_url = smtp://127.0.0.1:25
smtp_user = stacktop
smtp_password_file = {pw}
cooldown = 15m
system_mem_available_below = 10%

[service A]
match = comm:nginx
cpu_above = 90% for 3
res_above = 2GiB
res_growth_above = 50MiB/h over 30m
threads_above = 500
thread_growth_above = 100/h over 30m
fds_above = 80%
restart = alert
pprof_url = http://127.0.0.1:6060/debug/pprof/
exec = /usr/local/bin/on-trigger.sh

[service B]
match = cmdline:/java .*kafka/
res_above = 512MiB
""")
    r = run_stacktop("watch", "-c", conf, "--check-config")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for expected in ["OK, 2 services", "interval = 5s", "cooldown = 15m", "max_bundle_disk = 500MiB",
                     "mail_to = ops@example.com, dev@example.com",
                     "system_mem_available_below = 10% for 1",
                     "[service A]", "match = comm:nginx", "cpu_above = 90% for 3",
                     "res_above = 2GiB", "res_growth_above = 50MiB/h over 30m", "threads_above = 500",
                     "thread_growth_above = 100/h over 30m", "fds_above = 80% for 1",
                     "restart = alert", "pprof_url = http://127.0.0.1:6060/debug/pprof/",
                     "exec = /usr/local/bin/on-trigger.sh",
                     "[service B]", "match = cmdline:/java .*kafka/", "res_above = 512MiB"]:
        assert expected in out, (expected, out)
    assert "s3cret" not in out
    assert not (tmp_path / "b").exists()
    example = os.path.join(os.path.dirname(__file__), "..", "..", "doc", "stacktop.conf.example")
    r = run_stacktop("watch", "-c", example, "--check-config")
    assert r.returncode == 0 and "OK, 3 services" in r.stdout, r.stderr


# ---------------------------------------------------------------- rules firing, bundles, mail

def check_mail_and_bundle(messages, bundles_dir, rule, log=""):
    """Exactly one mail with exactly one bundle attached, identical to the bundle on disk."""
    assert len(messages) == 1, ([m[2][:300] for m in messages], log)
    mail_from, rcpt, raw = messages[0]
    assert mail_from == "stacktop@test.example.com"
    assert sorted(rcpt) == ["dev@example.com", "ops@example.com"]
    msg, parts = attachment_of(raw)
    assert rule in msg["Subject"] and "testhost" in msg["Subject"]
    assert len(parts) == 1
    name = parts[0].get_filename()
    assert re.fullmatch(rf"testhost-[A-Za-z0-9._]+-{rule}-\d{{8}}T\d{{6}}\.tar\.gz", name), name
    on_disk = bundles_dir / name
    data = parts[0].get_content()
    assert on_disk.read_bytes() == data
    assert os.stat(on_disk).st_mode & 0o777 == 0o600
    assert os.stat(bundles_dir).st_mode & 0o777 == 0o700
    assert "bundle" in body_of(msg) and str(on_disk) in body_of(msg)
    return unpack(data)


def check_process_files(files, pid):
    d = f"proc-{pid}/"
    for name in ["stacks.txt", "stacks.folded", "stacks.pb.gz", "stacks.svg", "status", "smaps_rollup", "limits", "maps", "io", "cgroup",
                 "fds", "history.csv"]:
        assert d + name in files, (name, sorted(files))
    assert re.search(rf"^Pid:\s+{pid}$", files[d + "status"].decode(), re.M)
    hist = files[d + "history.csv"].decode().splitlines()
    assert hist[0] == "time,cpu_pct,res_kib,threads" and len(hist) >= 3
    fds = files[d + "fds"].decode()
    assert re.search(r"^0 -> ", fds, re.M)
    for name in ["system/meminfo", "system/loadavg", "system/top20.txt", "summary.txt", "summary.json"]:
        assert name in files, name
    assert not any("environ" in n for n in files)
    assert len(files["system/top20.txt"].decode().splitlines()) == 21


def test_cpu_above_fires_one_mail_with_the_bundle(tmp_path, spawn, smtp):
    busy = spawn("watch_busy")
    conf, bundles = write_config(tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\ncpu_above = 5% for 2\n",
                                 smtp_port=smtp.port)
    r = run_once(conf)
    files = check_mail_and_bundle(smtp.wait_for(1, timeout=5), bundles, "cpu_above", r.stderr)
    check_process_files(files, busy.pid)
    stacks = files[f"proc-{busy.pid}/stacks.txt"].decode()
    assert "thread profile: total 6" in stacks, stacks
    assert re.search(r"^4 @ ", stacks, re.M), stacks
    assert "busy_sleeper" in stacks and "busy_spin" in stacks
    assert "busy_sleeper" in files[f"proc-{busy.pid}/stacks.folded"].decode()
    # the same stacks for go tool pprof and as a flame graph to open in a browser
    profile = tmp_path / "stacks.pb.gz"
    profile.write_bytes(files[f"proc-{busy.pid}/stacks.pb.gz"])
    top = subprocess.run(["go", "tool", "pprof", "-top", "-cum", str(profile)], capture_output=True, text=True,
                         timeout=120, env=dict(os.environ, HOME=str(tmp_path)))
    assert top.returncode == 0 and "busy_sleeper" in top.stdout and "busy_spin" in top.stdout, top.stderr
    svg = ElementTree.fromstring(files[f"proc-{busy.pid}/stacks.svg"])
    titles = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}title")]
    assert any(t and t.startswith("busy_sleeper") for t in titles), titles
    summary = json.loads(files["summary.json"])
    assert summary["rule"] == "cpu_above" and summary["service"] == "busy" and summary["host"] == "testhost"
    assert summary["value"] > 5
    assert [p["pid"] for p in summary["processes"]] == [busy.pid]
    assert f"pid {busy.pid} (watch_busy)" in files["summary.txt"].decode()
    assert smtp.wait_for(2, timeout=1) == smtp.messages[:1]
    assert not list(bundles.glob("*.mail")), "the sent mail must leave the queue"


def test_res_growth_fires_one_mail_once_the_window_is_full(tmp_path, spawn, smtp):
    leaker = spawn("leaker", 4096)
    conf, bundles = write_config(
        tmp_path, f"[service leaky]\nmatch = pid:{leaker.pid}\nres_growth_above = 1GiB/h over 2s\n",
        smtp_port=smtp.port)
    r = run_once(conf)
    files = check_mail_and_bundle(smtp.wait_for(1, timeout=5), bundles, "res_growth_above", r.stderr)
    check_process_files(files, leaker.pid)
    stacks = files[f"proc-{leaker.pid}/stacks.txt"].decode()
    assert "thread profile: total 4" in stacks, stacks
    assert re.search(r"^3 @ ", stacks, re.M) and "leaker_idle" in stacks, stacks
    summary = json.loads(files["summary.json"])
    assert summary["rule"] == "res_growth_above"
    # Over the 1 GiB/h threshold (17476 KiB/min), and not above the leaker's
    # 4 MiB/s = 245760 KiB/min (less when the machine is busy).
    assert 1024 * 1024 / 60 < summary["value"] < 300000, (summary, r.stderr)
    hist = files[f"proc-{leaker.pid}/history.csv"].decode().splitlines()[1:]
    assert len(hist) >= 11, "fired before the 2 s window was full"
    assert "res_growth_above fired" in r.stderr


def test_go_service_bundle_has_pprof_goroutines(tmp_path, spawn):
    leaked = 37
    go = spawn("pprofleak", 0, leaked)
    port = int(re.search(r"port=(\d+)", go.ready_line).group(1))
    conf, bundles = write_config(
        tmp_path, f"[service gosvc]\nmatch = pid:{go.pid}\nthreads_above = 1\n"
                  f"pprof_url = http://127.0.0.1:{port}/debug/pprof/\n",
        extra_global="pprof_seconds = 1s\n")
    run_once(conf)
    [bundle] = bundles_in(bundles)
    files = unpack(bundle.read_bytes())
    debug1 = files["pprof/goroutine_debug1.txt"].decode()
    assert debug1.startswith("goroutine profile: total ")
    top = re.search(r"^(\d+) @ ", debug1, re.M)
    assert int(top.group(1)) == leaked, debug1[:500]
    assert "main.leakWorker" in debug1.split("\n\n")[0]
    assert debug1.count("main.leakWorker") == 1
    assert files["pprof/goroutine_debug2.txt"].decode().count("main.leakWorker(") == leaked
    assert files["pprof/heap.pb.gz"][:2] == b"\x1f\x8b"
    assert files["pprof/profile.pb.gz"][:2] == b"\x1f\x8b"
    assert json.loads(files["summary.json"])["notes"] == []
    assert f"proc-{go.pid}/stacks.txt" in files


def test_unreachable_pprof_is_noted_not_fatal(tmp_path, spawn):
    busy = spawn("watch_busy")
    port = free_port()
    conf, bundles = write_config(
        tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\nthreads_above = 2\n"
                  f"pprof_url = http://127.0.0.1:{port}/debug/pprof/\n")
    run_once(conf)
    [bundle] = bundles_in(bundles)
    files = unpack(bundle.read_bytes())
    assert not any(n.startswith("pprof/") for n in files)
    notes = json.loads(files["summary.json"])["notes"]
    assert any("pprof goroutine?debug=1 not fetched" in n for n in notes), notes
    assert "pprof goroutine?debug=1 not fetched" in files["summary.txt"].decode()


def test_cooldown_keeps_one_bundle_per_episode(tmp_path, spawn, smtp, watchers):
    busy = spawn("watch_busy")
    conf, bundles = write_config(tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\ncpu_above = 5% for 2\n",
                                 smtp_port=smtp.port, extra_global="cooldown = 1h\n")
    w = watchers(conf, "-v")
    assert len(smtp.wait_for(1)) == 1
    # Keep the rule failing for many more samples: one episode, one bundle.
    seen = w.count(r"cpu_above = [0-9.]+ \(over\)")
    w.wait_for(r"cpu_above = [0-9.]+ \(over\)", count=seen + 10)
    # Stopped, the process uses no CPU: the episode ends (recovery is logged) ...
    os.kill(busy.pid, signal.SIGSTOP)
    try:
        w.wait_for(r"\[busy\] cpu_above recovered")
    finally:
        os.kill(busy.pid, signal.SIGCONT)
    # ... and the next episode, inside the cooldown, is logged without a bundle.
    w.wait_for(r"\[busy\] cpu_above failing again .* inside the cooldown \(3600s\): no bundle")
    err = stop_watcher(w)
    assert len(smtp.messages) == 1 and len(bundles_in(bundles)) == 1, err
    assert err.count("cpu_above fired") == 1, err
    assert "[busy] cpu_above recovered" in err
    assert "[busy] cpu_above failing again" in err and "inside the cooldown (3600s): no bundle" in err


def test_rule_still_failing_fires_again_after_cooldown(tmp_path, spawn, smtp, watchers):
    busy = spawn("watch_busy")
    conf, bundles = write_config(tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\ncpu_above = 5% for 2\n",
                                 smtp_port=smtp.port, extra_global="cooldown = 1s\nkeep_bundles = 2\n")
    w = watchers(conf)
    assert len(smtp.wait_for(3)) >= 3
    err = stop_watcher(w)
    assert err.count("cpu_above fired") >= 3
    # keep_bundles = 2: older bundles are removed once their mail went out.
    assert len(bundles_in(bundles)) <= 2, err


def test_flood_cap_stops_bundles(tmp_path, spawn, smtp):
    a, b = spawn("watch_busy"), spawn("watch_busy")
    conf, bundles = write_config(
        tmp_path, f"[service a]\nmatch = pid:{a.pid}\nthreads_above = 2\n\n"
                  f"[service b]\nmatch = pid:{b.pid}\nthreads_above = 2\n",
        smtp_port=smtp.port, extra_global="max_bundles_per_hour = 1\n")
    r = run_once(conf)
    assert len(bundles_in(bundles)) == 1, r.stderr
    assert len(smtp.wait_for(1, timeout=5)) == 1, r.stderr
    assert "max_bundles_per_hour (1) is reached: no bundle" in r.stderr
    assert r.stderr.count("threads_above fired") == 1


def test_restart_fires_when_the_service_is_replaced(tmp_path, spawn, watchers):
    first = spawn("watch_busy")
    pidfile = tmp_path / "svc.pid"
    pidfile.write_text(f"{first.pid}\n")
    conf, bundles = write_config(tmp_path, f"[service svc]\nmatch = pidfile:{pidfile}\nrestart = alert\n")
    w = watchers(conf, "-v")
    w.wait_for(r"\[svc\] 1 process matched", count=5)  # several samples of the first process
    assert bundles_in(bundles) == []
    second = spawn("watch_busy")
    tmp = tmp_path / "svc.pid.tmp"
    tmp.write_text(f"{second.pid}\n")
    os.rename(tmp, pidfile)
    first.kill()
    w.wait_for(r"\[svc\] bundle .*-svc-restart-.* written")
    # More samples of the new process: no second restart.
    seen = w.count(r"\[svc\] 1 process matched")
    w.wait_for(r"\[svc\] 1 process matched", count=seen + 5)
    err = stop_watcher(w)
    [bundle] = bundles_in(bundles)
    assert "-svc-restart-" in bundle.name
    files = unpack(bundle.read_bytes())
    summary = json.loads(files["summary.json"])
    assert summary["rule"] == "restart" and summary["gone_pids"] == [first.pid], summary
    assert [p["pid"] for p in summary["processes"]] == [second.pid], (summary, err)
    assert f"proc-{second.pid}/stacks.txt" in files
    assert err.count("restart fired") == 1, err


def test_smtp_down_then_up_mail_arrives_bundle_kept(tmp_path, spawn, watchers):
    busy = spawn("watch_busy")
    sink = SmtpSink()  # not started: the port refuses connections
    conf, bundles = write_config(tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\ncpu_above = 5% for 2\n",
                                 smtp_port=sink.port, extra_global="mail_retry = 500ms\ncooldown = 1h\n")
    w = watchers(conf)

    def failed_once():
        try:
            return any("\nattempts: 1\n" in q.read_text() for q in bundles.glob("*.mail"))
        except FileNotFoundError:  # replaced by a rename just now
            return False

    assert wait_until(failed_once, timeout=60)
    # The entry counts an attempt before making it: wait until it failed
    # (logged after the connection was refused), or the sink may start first.
    w.wait_for(r"not sent \(attempt 1\)", count=2)
    [queued] = list(bundles.glob("*.mail"))
    [bundle] = bundles_in(bundles)
    assert queued.name == bundle.name.replace(".tar.gz", ".mail")
    sink.start()
    try:
        messages = sink.wait_for(1)
        files = check_mail_and_bundle(messages, bundles, "cpu_above")
        assert f"proc-{busy.pid}/stacks.txt" in files
        assert wait_until(lambda: not queued.exists(), timeout=10)
        err = stop_watcher(w)
    finally:
        sink.stop()
    assert "not sent (attempt 1)" in err and "the bundle is kept" in err, err
    assert bundle.exists()


def test_pending_mail_survives_a_restart(tmp_path, spawn, watchers):
    busy = spawn("watch_busy")
    sink = SmtpSink()
    conf, bundles = write_config(tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\ncpu_above = 5% for 2\n",
                                 smtp_port=sink.port, extra_global="mail_retry = 1h\n")
    r = run_once(conf)
    assert "1 mail pending" in r.stderr
    [queued] = list(bundles.glob("*.mail"))
    [bundle] = bundles_in(bundles)
    busy.kill()  # the next run has nothing to fire: only the old mail goes out
    sink.start()
    try:
        w = watchers(conf)
        messages = sink.wait_for(1)
        assert wait_until(lambda: not queued.exists(), timeout=10)
        stop_watcher(w)
        check_mail_and_bundle(messages, bundles, "cpu_above")
    finally:
        sink.stop()
    assert bundle.exists()


def test_large_bundle_is_not_attached_but_named(tmp_path, spawn, smtp):
    busy = spawn("watch_busy")
    conf, bundles = write_config(tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\nthreads_above = 2\n",
                                 smtp_port=smtp.port, extra_global="mail_max_attachment = 1KiB\n")
    run_once(conf)
    [(_, _, raw)] = smtp.wait_for(1, timeout=5)
    msg, parts = attachment_of(raw)
    assert parts == []
    [bundle] = bundles_in(bundles)
    body = body_of(msg)
    assert "larger than mail_max_attachment (1024 bytes)" in body and str(bundle) in body


def test_exec_hook_runs_after_the_bundle_with_env(tmp_path, spawn):
    busy = spawn("watch_busy")
    out = tmp_path / "hook.out"
    hook = tmp_path / "hook.sh"
    hook.write_text("#!/bin/sh\nenv | grep '^STACKTOP_' | sort > " + str(out) +
                    "\ntest -f \"$STACKTOP_BUNDLE\" && echo hook saw the bundle\n")
    hook.chmod(0o755)
    conf, bundles = write_config(tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\nthreads_above = 2\n"
                                           f"exec = {hook}\n", extra_global="exec_timeout = 10s\n")
    r = run_once(conf)
    [bundle] = bundles_in(bundles)
    env = dict(line.split("=", 1) for line in out.read_text().splitlines())
    assert env["STACKTOP_SERVICE"] == "busy"
    assert env["STACKTOP_RULE"] == "threads_above"
    assert env["STACKTOP_PID"] == str(busy.pid)
    assert float(env["STACKTOP_VALUE"]) == 6
    assert env["STACKTOP_BUNDLE"] == str(bundle)
    assert "[busy] exec: hook saw the bundle" in r.stderr
    assert "exited with status 0" in r.stderr


def test_exec_hook_time_limit(tmp_path, spawn):
    busy = spawn("watch_busy")
    conf, bundles = write_config(tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\nthreads_above = 2\n"
                                           "exec = echo starting; exec sleep 600\n",
                                 extra_global="exec_timeout = 1s\n")
    r = run_once(conf)
    assert "exec: starting" in r.stderr
    assert "killed after exec_timeout (1s)" in r.stderr
    assert len(bundles_in(bundles)) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_login_with_password_file(tmp_path, spawn):
    busy = spawn("watch_busy")
    sink = SmtpSink(login=("stacktop", "pa55 word")).start()
    try:
        pw = tmp_path / "smtp.pass"
        pw.write_text("pa55 word\n")
        conf, bundles = write_config(tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\nthreads_above = 2\n",
                                     smtp_port=sink.port,
                                     extra_global=f"smtp_user = stacktop\nsmtp_password_file = {pw}\n")
        r = run_once(conf)
        files = check_mail_and_bundle(sink.wait_for(1, timeout=5), bundles, "threads_above", r.stderr)
        assert f"proc-{busy.pid}/status" in files
        assert sink.logins and all(ok for _, ok in sink.logins)
        # A wrong password: refused, logged, the mail stays queued.
        pw.write_text("wrong\n")
        for old in bundles.iterdir():
            old.unlink()
        r = run_once(conf)
        assert "not sent (attempt 1)" in r.stderr and len(list(bundles.glob("*.mail"))) == 1
        assert len(sink.messages) == 1
    finally:
        sink.stop()


def test_res_fds_and_system_memory_rules(tmp_path, spawn):
    leaker = spawn("leaker", 1024)
    conf, bundles = write_config(
        tmp_path, f"[service mem]\nmatch = pid:{leaker.pid}\nres_above = 512KiB\nfds_above = 0.0001%\n",
        extra_global="system_mem_available_below = 100%\n")
    r = run_once(conf)
    found = {json.loads(unpack(b.read_bytes())["summary.json"])["rule"]: b for b in bundles_in(bundles)}
    assert sorted(found) == ["fds_above", "res_above", "system_mem_available_below"], r.stderr
    res = json.loads(unpack(found["res_above"].read_bytes())["summary.json"])
    assert res["value"] > 512 and res["service"] == "mem"
    fds = json.loads(unpack(found["fds_above"].read_bytes())["summary.json"])
    nfds = len(os.listdir(f"/proc/{leaker.pid}/fd"))
    with open(f"/proc/{leaker.pid}/limits") as f:
        soft = int(re.search(r"^Max open files\s+(\d+)", f.read(), re.M).group(1))
    assert fds["value"] == pytest.approx(100.0 * nfds / soft, rel=1e-3)
    system = unpack(found["system_mem_available_below"].read_bytes())
    summary = json.loads(system["summary.json"])
    assert summary["service"] == "system" and 0 < summary["value"] < 100
    assert [p["pid"] for p in summary["processes"]] == [leaker.pid]
    assert "-system-system_mem_available_below-" in found["system_mem_available_below"].name


def test_match_by_comm_exe_and_cmdline(tmp_path, spawn):
    tag = f"tag{os.getpid()}x{time.monotonic_ns()}"
    busy = spawn("watch_busy", tag)
    exe = os.readlink(f"/proc/{busy.pid}/exe")
    conf, bundles = write_config(
        tmp_path, f"[service by-comm]\nmatch = comm:watch_busy\nthreads_above = 2\n\n"
                  f"[service by-exe]\nmatch = exe:{exe}\nthreads_above = 2\n\n"
                  f"[service by-cmdline]\nmatch = cmdline:/watch_busy {tag}$/\nthreads_above = 2\n\n"
                  f"[service nobody]\nmatch = cmdline:/no-such-{tag}/\nthreads_above = 1\nrestart = alert\n")
    r = run_once(conf)
    covered = {}
    for b in bundles_in(bundles):
        summary = json.loads(unpack(b.read_bytes())["summary.json"])
        covered[summary["service"]] = [p["pid"] for p in summary["processes"]]
    assert set(covered) == {"by-comm", "by-exe", "by-cmdline"}, r.stderr
    assert busy.pid in covered["by-comm"] and busy.pid in covered["by-exe"]
    assert covered["by-cmdline"] == [busy.pid]


@pytest.mark.parametrize("library,package", [("libcurl.so.4", "libcurl4"), ("libarchive.so.13", "libarchive13")])
def test_missing_runtime_library_is_a_clear_failure(tmp_path, spawn, library, package):
    """libcurl and libarchive are loaded only by watch mode (dlopen): a broken
    or missing one must stop the watcher with a message naming the package,
    before anything is written."""
    libdir = tmp_path / "lib"
    libdir.mkdir()
    (libdir / library).write_bytes(b"not an ELF file")   # found first through LD_LIBRARY_PATH
    busy = spawn("watch_busy")
    conf, bundles = write_config(tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\ncpu_above = 5% for 2\n")
    env = dict(os.environ, LD_LIBRARY_PATH=str(libdir))
    r = run_stacktop("watch", "-c", conf, "--once", "--foreground", timeout=60, env=env)
    assert r.returncode == 1, r.stderr
    assert library in r.stderr and package in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not bundles.exists()


def test_pidfile_that_is_a_fifo_does_not_hang_the_watcher(tmp_path, spawn):
    """Whoever owns a service's pidfile directory must not be able to freeze
    the root watcher (and with it every other service's watch) by putting a
    FIFO where the pidfile belongs: it counts as 'not running'."""
    busy = spawn("watch_busy")
    fifo = tmp_path / "svc.pid"
    os.mkfifo(fifo)
    conf, bundles = write_config(tmp_path, f"[service svc]\nmatch = pidfile:{fifo}\nthreads_above = 2\n\n"
                                           f"[service busy]\nmatch = pid:{busy.pid}\nthreads_above = 2\n")
    run_once(conf, timeout=30)
    assert len(bundles_in(bundles)) == 1


def test_bundle_dir_owned_by_someone_else_is_refused(tmp_path, spawn):
    """chmod 0700 does not make a directory another user owns private: its
    owner can open it again and plant symlinks where root writes queue files.
    The watcher refuses it with a clear message instead."""
    busy = spawn("watch_busy")
    conf, bundles = write_config(tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\nthreads_above = 2\n")
    bundles.mkdir(mode=0o777)
    os.chown(bundles, 65534, 65534)
    r = run_stacktop("watch", "-c", conf, "--once", "--foreground", timeout=60)
    assert r.returncode == 1, r.stderr
    assert f"bundle_dir {bundles} is owned by uid 65534" in r.stderr
    assert not list(bundles.iterdir())


def test_pidfile_owned_by_a_user_only_names_that_users_processes(tmp_path, spawn):
    """A service that writes its own pidfile could otherwise put any pid in it
    (sshd's, say) and have root dump it and run the exec hook on it; like
    systemd, a pidfile not owned by root only counts for its owner's processes."""
    busy = spawn("watch_busy")   # runs as root
    pidfile = tmp_path / "svc.pid"
    pidfile.write_text(f"{busy.pid}\n")
    conf, bundles = write_config(tmp_path, f"[service svc]\nmatch = pidfile:{pidfile}\nthreads_above = 2\n")
    os.chown(pidfile, 65534, 65534)
    run_once(conf)
    assert bundles_in(bundles) == []
    os.chown(pidfile, 0, 0)
    run_once(conf)
    assert len(bundles_in(bundles)) == 1


def test_every_config_key_is_in_the_man_page(tmp_path):
    """The key table is the one source of keys: each key the binary lists for
    a section is documented in stacktop.conf(5)."""
    man = open(os.path.join(os.path.dirname(__file__), "..", "..", "doc", "stacktop.conf.5")).read()
    keys = set()
    for section in ("[global]", "[service x]"):
        conf = tmp_path / "keys.conf"
        conf.write_text(f"{section}\nno_such_key = 1\n")
        r = run_stacktop("watch", "-c", conf, "--check-config")
        assert r.returncode == 2, r.stderr
        listed = r.stderr.split("expected one of: ", 1)[1].strip()
        keys.update(k.strip() for k in listed.split(","))
    assert {"interval", "user", "mail_to", "mail_timeout", "dump_memory", "bundle_timeout"} <= keys
    missing = [k for k in sorted(keys) if not re.search(rf"^\.B[IR]? {re.escape(k)}(\s|$)", man, re.M)]
    assert missing == [], missing
