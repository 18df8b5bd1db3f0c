"""`stacktop bundle -c FILE --service NAME [--reason TEXT]` (issue 11 item 2):
one bundle now; the cooldown, the hourly cap and a running watcher's state
are shared, so a second one (from the command or an alert) is refused with a
clear message; the mail goes out once, from the command when no watcher
runs, from the watcher when one does."""
import json
import re

import pytest

from conftest import run_stacktop
from watch_support import SmtpSink, WatchProcess, bundles_in, free_port, unpack, wait_until, write_config


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def service(pid):
    return f"[service web]\nmatch = pid:{pid}\nrestart = alert\n"


def test_one_bundle_then_refused_inside_the_cooldown(spawn, smtp, tmp_path):
    sleeper = spawn("sleeper")
    conf, bundles = write_config(tmp_path, service(sleeper.pid), smtp_port=smtp.port, extra_global="cooldown = 10m\n")
    r = run_stacktop("bundle", "-c", conf, "--service", "web", "--reason", "deploy 42\x1b[31m check")
    assert r.returncode == 0, r.stderr
    [bundle] = bundles_in(bundles)
    assert r.stdout.startswith(f"{bundle}: "), r.stdout
    assert "mail: sent" in r.stdout, r.stdout
    files = unpack(bundle.read_bytes())
    summary = json.loads(files["summary.json"])
    assert summary["service"] == "web" and summary["rule"] == "on_demand", summary
    assert summary["reason"] == "deploy 42\\x1b[31m check", summary   # the control byte neutralised
    assert [p["pid"] for p in summary["processes"]] == [sleeper.pid], summary
    assert len(smtp.wait_for(1)) == 1

    again = run_stacktop("bundle", "-c", conf, "--service", "web")
    assert again.returncode == 1, again.stderr
    assert re.search(r"no bundle of web: the last one asked for was written \d+s ago, inside the cooldown "
                     r"\(600s\); try again in \d+s", again.stderr), again.stderr
    assert len(bundles_in(bundles)) == 1
    assert len(smtp.messages) == 1


def test_usage_errors(spawn, tmp_path):
    sleeper = spawn("sleeper")
    conf, bundles = write_config(tmp_path, service(sleeper.pid))
    r = run_stacktop("bundle", "-c", conf, "--service", "nosuch")
    assert r.returncode == 2 and "has no [service nosuch]" in r.stderr, r.stderr
    r = run_stacktop("bundle", "-c", conf)
    assert r.returncode == 2 and "expected -c FILE and --service NAME" in r.stderr, r.stderr
    r = run_stacktop("bundle", "--bogus")
    assert r.returncode == 2, r.stderr
    assert bundles_in(bundles) == []


def test_shares_the_cooldown_with_a_running_watcher(spawn, smtp, tmp_path):
    """The watcher sends the command's mail; an alert inside the cooldown the
    command started gets no second bundle (and Alertmanager a 200)."""
    sleeper = spawn("sleeper")
    port = free_port()
    token = tmp_path / "alert.token"
    token.write_text("tok-123456789\n")
    token.chmod(0o600)
    conf, bundles = write_config(tmp_path, service(sleeper.pid), smtp_port=smtp.port,
                                 extra_global=(f"cooldown = 10m\nalert_listen = 127.0.0.1:{port}\n"
                                               f"alert_token_file = {token}\n"))
    w = WatchProcess(conf)
    try:
        w.wait_for(r"serving /alertmanager on")
        r = run_stacktop("bundle", "-c", conf, "--service", "web")
        assert r.returncode == 0, r.stderr
        assert "mail: queued, the running stacktop watch sends it" in r.stdout, r.stdout
        assert len(smtp.wait_for(1)) == 1
        from fleet_support import http
        alert = {"status": "firing", "labels": {"alertname": "Hot", "groupname": "web", "host": "testhost"},
                 "annotations": {}, "startsAt": "2026-01-02T03:04:05Z", "endsAt": "0001-01-01T00:00:00Z",
                 "generatorURL": "", "fingerprint": "00000000000000aa"}
        status, body, _ = http(f"http://127.0.0.1:{port}/alertmanager",
                               data=json.dumps({"version": "4", "status": "firing", "receiver": "r",
                                                "alerts": [alert]}).encode(),
                               headers={"Authorization": "Bearer tok-123456789"})
        assert status == 200, body
        assert b"suppressed" in body and b"cooldown" in body, body
        assert len(bundles_in(bundles)) == 1
        assert len(smtp.messages) == 1
    finally:
        w.kill()


def test_interrupted_bundle_leaves_nothing_pending(spawn, tmp_path):
    """SIGTERM while the bundle job waits on a stalled pprof endpoint: the
    command ends the job, says so, exits 128+15, and the next request is not
    refused as "one is being written"."""
    import signal
    import socket
    import subprocess
    from conftest import STACKTOP_BIN

    sleeper = spawn("sleeper")
    stall = socket.socket()
    stall.bind(("127.0.0.1", 0))
    stall.listen(8)
    held = []
    port = stall.getsockname()[1]
    conf, bundles = write_config(
        tmp_path, service(sleeper.pid) + f"pprof_url = http://127.0.0.1:{port}/debug/pprof\n",
        extra_global="cooldown = 1s\npprof_timeout = 1m\n")
    proc = subprocess.Popen([STACKTOP_BIN, "bundle", "-c", str(conf), "--service", "web"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stall.settimeout(60)
        conn, _ = stall.accept()            # the bundle job is fetching pprof now
        held.append(conn)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 128 + signal.SIGTERM, err
        assert "the bundle of web was not written: interrupted by signal 15" in err, err
        assert bundles_in(bundles) == []
        assert not any(p.name.endswith(".incident") for p in bundles.iterdir())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for c in held:
            c.close()
        stall.close()
    # The endpoint is gone now: the next bundle is written (its pprof part noted as missing).
    r = run_stacktop("bundle", "-c", conf, "--service", "web", timeout=120)
    assert r.returncode == 0, r.stderr
    assert len(bundles_in(bundles)) == 1
