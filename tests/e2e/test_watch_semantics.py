"""stacktop watch, semantics (issue 10): the memory incident answered (who
holds the memory, who grows, the heap of every Go service), exe: across a
package upgrade, SIGHUP reloads (a bad file keeps the running config), and a
service that matches nothing is said so, once per change."""
import json
import os
import re
import shutil
import signal
import subprocess

import pytest

from conftest import FixtureProcess, assert_not_stopped_or_traced, fixture_path
from watch_support import SmtpSink, WatchProcess, attachment_of, body_of, bundles_in, run_once, unpack, write_config


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


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def started():
    """Fixture processes started from a path of the test's own (not build/fixtures)."""
    procs = []

    def _start(argv):
        fp = FixtureProcess([str(a) for a in argv])
        procs.append(fp)
        return fp

    yield _start
    for fp in procs:
        try:
            assert_not_stopped_or_traced(fp.pid)
        finally:
            fp.kill()


def port_of(go):
    return int(re.search(r"port=(\d+)", go.ready_line).group(1))


def test_a_memory_incident_says_who_holds_the_memory_and_who_grows(tmp_path, spawn, smtp):
    go1, go2 = spawn("pprofleak", 0, 7), spawn("pprofleak", 0, 9)
    hog = spawn("memhog", 384)  # in the top 20 even while other sessions run big processes
    grower = spawn("memhog", 8, 4)  # +4 MiB every second
    services = "".join(f"[service {name}]\nmatch = pid:{p.pid}\nrestart = alert\n"
                       f"pprof_url = http://127.0.0.1:{port_of(p)}/debug/pprof/\n\n"
                       for name, p in (("go1", go1), ("go2", go2)))
    services += f"[service hog]\nmatch = pid:{hog.pid}\nrestart = alert\n"
    # Always true, held long enough (40 samples, 8 s) for a RES trend of the host.
    conf, bundles = write_config(tmp_path, services, smtp_port=smtp.port,
                                 extra_global="system_mem_available_below = 100% for 40\n")
    r = run_once(conf, timeout=300)
    [bundle] = bundles_in(bundles)
    assert "-system-system_mem_available_below-" in bundle.name
    files = unpack(bundle.read_bytes())
    # The heap of every watched Go service.
    for name in ("go1", "go2"):
        assert files[f"pprof/{name}/heap.pb.gz"][:2] == b"\x1f\x8b", sorted(files)
        assert files[f"pprof/{name}/goroutine_debug1.txt"].startswith(b"goroutine profile: total ")
    # Who holds the memory, who takes more, and their smaps_rollup.
    top = files["system/top20.txt"].decode()
    assert re.search(rf"^\s*{hog.pid}\s", top, re.M), top
    growth = files["system/top20_growth.txt"].decode()
    row = re.search(rf"^\s*{grower.pid}\s+root\s+\S+\s+\S+\s+\d+\s+\+(\S+)\s", growth, re.M)
    assert row, growth  # growing (+) and listed among the fastest
    assert f"system/smaps_rollup/{hog.pid}" in files and f"system/smaps_rollup/{grower.pid}" in files
    assert b"Rss:" in files[f"system/smaps_rollup/{hog.pid}"]
    summary = json.loads(files["summary.json"])
    assert sorted(p["pid"] for p in summary["processes"]) == sorted([go1.pid, go2.pid, hog.pid])
    text = files["summary.txt"].decode()
    if summary["notes"]:
        assert "every item was collected" not in text
        assert f"not collected ({len(summary['notes'])})" in text
    else:
        assert "nothing: every item was collected" in text
    # The mail says what each process held when it fired.
    [(_, _, raw)] = smtp.wait_for(1, timeout=10)
    body = body_of(attachment_of(raw)[0]).replace("\r\n", "\n")
    assert re.search(rf"^\s+{hog.pid}\s+root\s+\w\s+1\s+[0-9.]+\s+3\d\dM\s", body, re.M), body
    counts = {m.group(2): int(m.group(1)) for m in re.finditer(r"^goroutines: (\d+) in (go\d)", body, re.M)}
    assert counts.keys() == {"go1", "go2"} and counts["go1"] >= 7 and counts["go2"] >= 9, body


def test_exe_follows_a_binary_replaced_by_an_upgrade(tmp_path, started, watch):
    """After a package upgrade /proc/PID/exe reads "PATH (deleted)": the
    running service is still the service (no false restart, still watched)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "svc"
    shutil.copy(fixture_path("watch_busy"), exe)
    old = started([exe])
    conf, bundles = write_config(tmp_path, f"[service svc]\nmatch = exe:{exe}\nrestart = alert\n")
    w = watch(conf, "-v")
    w.wait_for(r"\[svc\] 1 process matched", count=2)
    # The upgrade: a new file renamed over the old one, as dpkg does.
    shutil.copy(fixture_path("watch_busy"), bindir / "svc.dpkg-new")
    os.rename(bindir / "svc.dpkg-new", exe)
    samples = r"\[svc\] [01] process(?:es)? matched"
    w.wait_for(samples, count=w.count(samples) + 5)
    assert "restart fired" not in w.log and w.count(r"\[svc\] 0 processes matched") == 0, w.log
    w.wait_for(rf"\[svc\] pid {old.pid} runs {re.escape(str(exe))} \(deleted\): its binary was replaced")
    # A process of the new binary is the same service.
    started([exe])
    w.wait_for(r"\[svc\] 2 processes matched")
    rc, log = w.stop()
    assert rc == 0, log
    assert "restart fired" not in log and bundles_in(bundles) == []
    assert log.count("its binary was replaced") == 1


def test_sighup_reloads_and_a_bad_file_keeps_the_running_config(tmp_path, spawn, watch):
    busy = spawn("watch_busy")
    conf, bundles = write_config(tmp_path, f"[service quiet]\nmatch = pid:{busy.pid}\nthreads_above = 100\n")
    w = watch(conf, "-v")
    w.wait_for(r"\[quiet\] 1 process matched", count=2)
    conf.write_text(conf.read_text() + f"\n[service loud]\nmatch = pid:{busy.pid}\nthreads_above = 2\n")
    w.proc.send_signal(signal.SIGHUP)
    w.wait_for(r"configuration reloaded from \S+: 2 services every 0\.2s")
    w.wait_for(r"\[loud\] bundle \S+-loud-threads_above-\S+ written")
    good = conf.read_text()
    conf.write_text(good.replace("interval = 200ms", "interval = 5 parsecs"))
    w.proc.send_signal(signal.SIGHUP)
    w.wait_for(r"reload failed, keeping the running configuration: \S+:2: \[global\] interval = '5 parsecs'")
    # Still running, with the old config: both services are still sampled.
    seen = w.count(r"\[loud\] 1 process matched")
    w.wait_for(r"\[loud\] 1 process matched", count=seen + 3)
    assert w.proc.poll() is None
    rc, log = w.stop()
    assert rc == 0, log
    assert len(bundles_in(bundles)) == 1


def test_a_service_that_matches_nothing_is_logged_once_per_change(tmp_path, spawn, watch):
    pidfile = tmp_path / "svc.pid"
    conf, bundles = write_config(tmp_path, f"[service svc]\nmatch = pidfile:{pidfile}\nthreads_above = 100\n")
    w = watch(conf, "-v")
    w.wait_for(r"\[svc\] 0 processes matched", count=5)
    assert w.count(r"\[svc\] no process matches") == 1, w.log
    busy = spawn("watch_busy")
    pidfile.write_text(f"{busy.pid}\n")
    w.wait_for(r"\[svc\] 1 process matches pidfile:\S+ \(user any\) again")
    w.wait_for(r"\[svc\] 1 process matched", count=5)
    pidfile.unlink()
    w.wait_for(r"\[svc\] no process matches pidfile:\S+ \(user any\) any more")
    seen = w.count(r"\[svc\] 0 processes matched")
    w.wait_for(r"\[svc\] 0 processes matched", count=seen + 5)
    rc, log = w.stop()
    assert rc == 0, log
    assert log.count("[svc] no process matches") == 2 and log.count(") again") == 1, log
