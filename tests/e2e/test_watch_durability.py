"""stacktop watch, durability (issue 10): an incident is never lost to a full
disk, a removed bundle_dir or a watcher killed in the middle of a bundle; the
cooldown and the hourly cap survive restarts; retention touches only what
stacktop wrote, in the order it wrote it."""
import json
import os
import shutil
import subprocess
import time

import pytest

from watch_support import (SmtpSink, WatchProcess, attachment_of, body_of, bundles_in, free_port, run_once, unpack,
                           wait_until, write_config)


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
def tmpfs():
    """Mounts a small tmpfs (mode 0700) at a path; unmounted in teardown."""
    mounts = []

    def _mount(path, size):
        path.mkdir(mode=0o700)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "stacktop-test", str(path)],
                       check=True)
        mounts.append(path)
        return path

    yield _mount
    for path in reversed(mounts):
        subprocess.run(["umount", str(path)], check=False)


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def fill(directory):
    """Fills the file system of directory; returns the filler file."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


def test_a_full_disk_delays_the_bundle_but_never_loses_it(tmp_path, spawn, tmpfs, smtp, watch):
    bundles = tmpfs(tmp_path / "bundles", "512k")
    pidfile = tmp_path / "svc.pid"
    conf, _ = write_config(tmp_path, f"[service svc]\nmatch = pidfile:{pidfile}\nthreads_above = 2\n",
                           smtp_port=smtp.port, extra_global="mail_retry = 500ms\ncooldown = 1h\n")
    w = watch(conf, "-v")
    w.wait_for(r"\[svc\] 0 processes matched", count=2)  # up and sampling
    filler = fill(bundles)
    busy = spawn("watch_busy")
    pidfile.write_text(f"{busy.pid}\n")
    w.wait_for(r"\[svc\] bundle \S+ not written \(attempt 1\): .*No space left on device")
    # Reported at once, by mail without attachment, saying why.
    [(_, _, raw)] = smtp.wait_for(1)
    msg, parts = attachment_of(raw)
    assert "(bundle NOT written)" in msg["Subject"] and parts == []
    body = body_of(msg)
    assert "THE BUNDLE COULD NOT BE WRITTEN" in body and "No space left on device" in body
    assert f"{busy.pid}" in body
    assert bundles_in(bundles) == []
    # Room again: the same incident is bundled and mailed; no second incident.
    filler.unlink()
    w.wait_for(r"\[svc\] bundle \S+-svc-threads_above-\S+ written")
    messages = smtp.wait_for(2)
    msg, parts = attachment_of(messages[1][2])
    assert len(parts) == 1
    rc, log = w.stop()
    assert rc == 0, log
    assert log.count("[svc] threads_above fired:") == 1, log
    [bundle] = bundles_in(bundles)
    assert not list(bundles.glob(".*.tmp")) and not list(bundles.glob("*.incident"))
    assert json.loads(unpack(bundle.read_bytes())["summary.json"])["processes"][0]["pid"] == busy.pid


def test_once_exits_1_when_a_bundle_could_not_be_written(tmp_path, spawn, tmpfs):
    """Counts and exit codes tell the truth: no bundle, no "1 bundle written"."""
    bundles = tmpfs(tmp_path / "bundles", "256k")
    busy = spawn("watch_busy")
    conf, _ = write_config(tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\nthreads_above = 2\n")
    run_once(conf)  # creates the key and the state while there is room
    for b in bundles_in(bundles):
        b.unlink()
    (bundles / "state").unlink(missing_ok=True)
    fill(bundles)
    r = run_once(conf, expect=1)
    assert "stopping: 0 bundles written, 1 attempt failed, 1 incident not bundled yet" in r.stderr, r.stderr


def test_a_removed_bundle_dir_is_made_again(tmp_path, spawn, watch):
    pidfile = tmp_path / "svc.pid"
    conf, bundles = write_config(tmp_path, f"[service svc]\nmatch = pidfile:{pidfile}\nthreads_above = 2\n")
    w = watch(conf, "-v")
    w.wait_for(r"\[svc\] 0 processes matched", count=2)  # up and sampling
    shutil.rmtree(bundles)
    busy = spawn("watch_busy")
    pidfile.write_text(f"{busy.pid}\n")
    w.wait_for(r"\[svc\] bundle \S+ written")
    rc, log = w.stop()
    assert rc == 0, log
    assert len(bundles_in(bundles)) == 1
    assert os.stat(bundles).st_mode & 0o777 == 0o700


def test_a_watcher_killed_mid_bundle_loses_nothing(tmp_path, spawn, watch):
    """kill -9 while the bundle of a one-off event (a restart) is being
    written: the next start removes the half-written file and bundles the
    incident, marked as recovered."""
    go = spawn("pprofleak", 0, 5)
    port = go.ready_line.split("port=")[1].split()[0]
    first = spawn("watch_busy")
    pidfile = tmp_path / "svc.pid"
    pidfile.write_text(f"{first.pid}\n")
    service = (f"[service svc]\nmatch = pidfile:{pidfile}\nrestart = alert\n"
               f"pprof_url = http://127.0.0.1:{port}/debug/pprof/\n")
    conf, bundles = write_config(tmp_path, service, extra_global="pprof_seconds = 120s\n")
    w = watch(conf, "-v")
    w.wait_for(r"\[svc\] 1 process matched", count=2)
    first.kill()
    w.wait_for(r"\[svc\] restart fired")
    # The CPU profile takes 120 s: the bundle is half written for that long.
    assert wait_until(lambda: list(bundles.glob(".*.tmp")), timeout=60), w.log
    jobs = w.children()
    w.kill()  # SIGKILL
    assert list(bundles.glob(".*.tmp")) and len(list(bundles.glob("*.incident"))) == 1
    assert wait_until(lambda: not any(os.path.exists(f"/proc/{p}") for p in jobs), timeout=10), "jobs outlived it"
    conf, bundles = write_config(tmp_path, service, extra_global="pprof_seconds = 1s\n")
    w = watch(conf)
    w.wait_for(r"removed 1 unfinished temporary file")
    w.wait_for(r"\[svc\] incident \S+ \(restart\) was not bundled before the watcher stopped: bundling it now")
    w.wait_for(r"\[svc\] bundle \S+-svc-restart-\S+ written")
    rc, log = w.stop()
    assert rc == 0, log
    [bundle] = bundles_in(bundles)
    assert not list(bundles.glob(".*.tmp")) and not list(bundles.glob("*.incident"))
    files = unpack(bundle.read_bytes())
    summary = json.loads(files["summary.json"])
    assert summary["rule"] == "restart" and summary["recovered"] is True
    assert summary["gone_pids"] == [first.pid]
    assert "recovered after the watcher was restarted" in files["summary.txt"].decode()


def test_cooldown_and_cap_survive_a_crash_loop(tmp_path, spawn):
    """A watcher restarted over and over (a crash loop under systemd) must
    not bundle or mail again inside the cooldown or past the hourly cap."""
    a, b = spawn("watch_busy"), spawn("watch_busy")
    conf, bundles = write_config(tmp_path, f"[service a]\nmatch = pid:{a.pid}\nthreads_above = 2\n\n"
                                           f"[service b]\nmatch = pid:{b.pid}\nthreads_above = 2\n",
                                 extra_global="cooldown = 1h\nmax_bundles_per_hour = 1\n")
    first = run_once(conf)
    assert len(bundles_in(bundles)) == 1, first.stderr
    for _ in range(3):
        r = run_once(conf)
        assert "fired" not in r.stderr, r.stderr
    assert len(bundles_in(bundles)) == 1


def test_retention_touches_only_what_stacktop_wrote(tmp_path, spawn):
    """keep_bundles = 1: the older of stacktop's own bundles goes, by the
    order they were written, not by file times (which a clock step back
    reorders); a .tar.gz someone else put there stays."""
    busy = spawn("watch_busy")
    conf, bundles = write_config(tmp_path, f"[service busy]\nmatch = pid:{busy.pid}\nthreads_above = 2\n",
                                 extra_global="cooldown = 100ms\nkeep_bundles = 1\n")
    run_once(conf)
    first_done = time.monotonic()
    [first] = bundles_in(bundles)
    foreign = bundles / "someone-elses.tar.gz"
    foreign.write_bytes(b"not ours")
    os.utime(foreign, (0, 0))  # the oldest file of all
    # The clock went back: the bundle written next looks older than the first.
    future = 4102444800  # 2100-01-01
    os.utime(first, (future, future))
    # The condition for a second bundle is that the 100 ms cooldown has passed.
    assert wait_until(lambda: time.monotonic() - first_done > 0.15, timeout=5)
    second = run_once(conf)
    left = bundles_in(bundles)
    assert foreign in left, "a file stacktop did not write was removed"
    ours = [b for b in left if b != foreign]
    state = bundles / "state"
    why = f"second run's log:\n{second.stderr}\nstate:\n{state.read_text() if state.exists() else '-'}"
    # The run may fire more than once (its samples can outlast the 100 ms
    # cooldown), and a name freed by retention can be used again: the first
    # bundle is known by the file time set above, not by its name.
    assert len(ours) == 1 and os.stat(ours[0]).st_mtime != future, (first, left, why)
