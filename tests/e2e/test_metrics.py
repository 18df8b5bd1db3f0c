"""`stacktop watch` as a Prometheus target (issue 11 item 1), against Debian's
own promtool and prometheus on loopback: the exposition lints clean, the
bearer token is enforced, and a real Prometheus scraping every second sees a
fixture's RES as /proc/PID/statm does, a busy fixture's CPU rate as /proc's
own CPU time over the same interval, a service name with \\ and " exactly,
and answers the process-exporter dashboards' topk query."""
import os
import subprocess
import threading
import time

import pytest

from fleet_support import Prometheus, http, tool
from watch_support import WatchProcess, free_port, wait_until, write_config

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
ODD_NAME = 'odd\\name "quoted"'   # INI allows no newline in a section name


def statm_res(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS   # utime, stime


@pytest.fixture
def watcher(tmp_path):
    started = []

    def start(services, extra=""):
        port = free_port()
        conf, bundles = write_config(tmp_path, services, extra_global=f"metrics_listen = 127.0.0.1:{port}\n{extra}")
        w = WatchProcess(conf)
        started.append(w)
        w.wait_for(r"serving /metrics on 127\.0\.0\.1:")
        return w, f"127.0.0.1:{port}"

    yield start
    for w in started:
        w.kill()


def test_exposition_lints_clean_and_wants_the_token(spawn, watcher, tmp_path):
    sleeper = spawn("sleeper")
    token = tmp_path / "metrics.token"
    token.write_text("s3cret-metrics-token\n")
    token.chmod(0o600)
    w, addr = watcher(f"[service web]\nmatch = pid:{sleeper.pid}\nrestart = alert\n"
                      f"[service {ODD_NAME}]\nmatch = pid:{sleeper.pid}\nrestart = alert\n",
                      extra=f"metrics_token_file = {token}\n")
    status, body, _ = http(f"http://{addr}/metrics")
    assert status == 401, body
    status, body, _ = http(f"http://{addr}/metrics", headers={"Authorization": "Bearer wrong"})
    assert status == 401, body
    ok = {"Authorization": "Bearer s3cret-metrics-token"}
    assert wait_until(lambda: b'groupname="web"' in http(f"http://{addr}/metrics", headers=ok)[1], timeout=30)
    status, body, headers = http(f"http://{addr}/metrics", headers=ok)
    assert status == 200
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    lint = subprocess.run([tool("promtool"), "check", "metrics"], input=body, capture_output=True)
    assert lint.returncode == 0 and lint.stdout == b"" and lint.stderr == b"", lint.stdout + lint.stderr
    assert b'groupname="odd\\\\name \\"quoted\\""' in body
    assert b"stacktop_build_info{" in body
    assert http(f"http://{addr}/other", headers=ok)[0] == 404


def test_prometheus_scrapes_the_watcher(spawn, watcher, tmp_path):
    busy = spawn("busy")
    hog = spawn("memhog", "48")
    sleeper = spawn("sleeper")
    w, addr = watcher(f"[service cpu]\nmatch = pid:{busy.pid}\nrestart = alert\n"
                      f"[service mem]\nmatch = pid:{hog.pid}\nrestart = alert\n"
                      f"[service {ODD_NAME}]\nmatch = pid:{sleeper.pid}\nrestart = alert\n")
    # /proc's own CPU time of the busy fixture, sampled while Prometheus scrapes.
    samples, stop = [], threading.Event()

    def record():
        while not stop.is_set():
            samples.append((time.time(), cpu_seconds(busy.pid)))
            stop.wait(0.1)

    recorder = threading.Thread(target=record, daemon=True)
    recorder.start()
    prom = Prometheus(tmp_path, [addr])
    try:
        prom.wait_up()
        first = time.time()

        # RES equals statm's, read around the same scrape.
        def res_matches():
            before = statm_res(hog.pid)
            result = prom.query('namedprocess_namegroup_memory_bytes{memtype="resident",groupname="mem"}')
            after = statm_res(hog.pid)
            if len(result) != 1:
                return False
            value = float(result[0]["value"][1])
            return min(before, after) * 0.98 <= value <= max(before, after) * 1.02

        assert wait_until(res_matches, timeout=30, step=0.5), (
            prom.query('namedprocess_namegroup_memory_bytes{groupname="mem"}'), statm_res(hog.pid))

        # The odd name comes back exactly, and selects by its escaped form.
        names = {r["metric"]["groupname"] for r in prom.query("namedprocess_namegroup_num_procs")}
        assert names == {"cpu", "mem", ODD_NAME}, names
        selector = ODD_NAME.replace("\\", "\\\\").replace('"', '\\"')
        odd = prom.query(f'namedprocess_namegroup_num_procs{{groupname="{selector}"}}')
        assert [r["value"][1] for r in odd] == ["1"], odd

        # The process-exporter dashboards' query.
        top = prom.query('topk(5, sum by (groupname) (namedprocess_namegroup_memory_bytes{memtype="resident"}))')
        by_name = {r["metric"]["groupname"]: float(r["value"][1]) for r in top}
        assert set(by_name) == {"cpu", "mem", ODD_NAME}, top
        assert by_name["mem"] >= 48 << 20

        # rate() over 10 s against /proc's CPU time over the same 10 s.
        assert wait_until(lambda: time.time() >= first + 12, timeout=30, step=0.2)
        at = time.time() - 1
        result = prom.query('sum(rate(namedprocess_namegroup_cpu_seconds_total{groupname="cpu"}[10s]))', at=at)
        assert len(result) == 1, result
        rate = float(result[0]["value"][1])

        def proc_at(t):
            return min(samples, key=lambda s: abs(s[0] - t))

        (t0, c0), (t1, c1) = proc_at(at - 10), proc_at(at)
        own = (c1 - c0) / (t1 - t0)
        assert own > 0.2, f"the busy fixture got {own:.2f} CPU: the machine is too loaded to compare"
        assert abs(rate - own) <= 0.1 + 0.1 * own, f"Prometheus rate {rate:.3f}, /proc {own:.3f}"
    finally:
        stop.set()
        prom.stop()


def test_tls_listener_speaks_only_https(spawn, watcher, tmp_path):
    """tls_cert_file/tls_key_file: /metrics over HTTPS with the configured
    certificate (verified against it), and no plain HTTP on the port."""
    import socket
    import ssl
    import urllib.request

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    made = subprocess.run([tool("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                           "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                           "-keyout", str(key), "-out", str(cert)], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    key.chmod(0o600)
    sleeper = spawn("sleeper")
    w, addr = watcher(f"[service web]\nmatch = pid:{sleeper.pid}\nrestart = alert\n",
                      extra=f"tls_cert_file = {cert}\ntls_key_file = {key}\n")
    w.wait_for(r"\(HTTPS\)")
    context = ssl.create_default_context(cafile=str(cert))
    with urllib.request.urlopen(f"https://{addr}/metrics", context=context, timeout=10) as r:
        assert r.status == 200
        assert b"namedprocess_namegroup_num_procs" in r.read()
    host, port = addr.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
        s.settimeout(10)
        try:
            answer = s.recv(4096)
        except (ConnectionResetError, socket.timeout):
            answer = b""
    assert b"namedprocess" not in answer and not answer.startswith(b"HTTP/1"), answer[:200]
