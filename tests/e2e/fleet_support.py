"""Shared pieces of the Prometheus/Alertmanager end-to-end tests: Debian's
own `prometheus`, `promtool`, `prometheus-alertmanager` and `amtool` (the
packages of DEB_TEST; a missing one is an error, not a skip), started on
loopback on free high ports with private storage, and stopped by their pid.
Waits are conditions with deadlines (a target up, an alert delivered), never
bare sleeps."""
import json
import os
import shutil
import signal
import subprocess
import urllib.error
import urllib.parse
import urllib.request

from watch_support import free_port, wait_until

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "doc")
# Debian's Alertmanager reads its default template from this fixed path and
# sends nothing at all without it (reference/fleet.md F5).
ALERTMANAGER_TEMPLATE = "/usr/share/prometheus/alertmanager/default.tmpl"


def tool(name):
    path = shutil.which(name)
    assert path, f"{name} is not installed: run 'make deps' (Debian packages prometheus, prometheus-alertmanager)"
    return path


def http(url, data=None, headers=None, method=None, timeout=10):
    """(status, body bytes, headers) of one request; HTTP errors are answers too."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


class Daemon:
    """A server started by a test: its own session, output in a log file,
    stopped by its pid (SIGTERM, then SIGKILL after a deadline)."""

    def __init__(self, argv, log_path):
        self.argv = argv
        self.log_path = log_path
        self.log_file = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.pid = self.proc.pid

    @property
    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(timeout=timeout)
        self.log_file.close()


class Prometheus(Daemon):
    """Debian's prometheus scraping `targets` every second (and evaluating
    `rule_files`), web API on 127.0.0.1:PORT."""

    def __init__(self, tmp_path, targets, rule_files=(), alertmanager=None, labels=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        data = tmp_path / "prometheus-data"
        conf = tmp_path / "prometheus.yml"
        static = {"targets": list(targets)}
        if labels:
            static["labels"] = labels
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
            "scrape_configs": [{"job_name": "stacktop", "static_configs": [static]}],
            "rule_files": [str(r) for r in rule_files],
        }
        if alertmanager:
            config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
        conf.write_text(json.dumps(config))  # JSON is YAML
        super().__init__([tool("prometheus"), f"--config.file={conf}", f"--storage.tsdb.path={data}",
                          f"--web.listen-address=127.0.0.1:{self.port}"], tmp_path / "prometheus.log")
        ok = wait_until(lambda: self.proc.poll() is not None or self._ready(), timeout=60, step=0.2)
        assert ok and self.proc.poll() is None, f"prometheus did not start; log:\n{self.log}"

    def _ready(self):
        try:
            return http(self.url + "/-/ready", timeout=2)[0] == 200
        except OSError:
            return False

    def api(self, path, **params):
        status, body, _ = http(f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}")
        assert status == 200, (status, body)
        answer = json.loads(body)
        assert answer["status"] == "success", answer
        return answer["data"]

    def query(self, expr, at=None):
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        return self.api("query", **params)["result"]

    def wait_up(self, timeout=60):
        def up():
            targets = self.api("targets")["activeTargets"]
            return targets and all(t["health"] == "up" for t in targets)

        assert wait_until(up, timeout=timeout, step=0.2), f"targets not up: {self.api('targets')}"


class Alertmanager(Daemon):
    """Debian's Alertmanager (0.25) with `config_text`, no clustering, web on 127.0.0.1:PORT."""

    def __init__(self, tmp_path, config_text, name="alertmanager"):
        assert os.path.exists(ALERTMANAGER_TEMPLATE), (
            f"{ALERTMANAGER_TEMPLATE} is missing: without it Alertmanager sends nothing (install "
            "prometheus-alertmanager with 'make deps')")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        conf = tmp_path / f"{name}.yml"
        conf.write_text(config_text)
        check = subprocess.run([tool("amtool"), "check-config", str(conf)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        super().__init__([tool("prometheus-alertmanager"), f"--config.file={conf}",
                          f"--storage.path={tmp_path / (name + '-data')}",
                          f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address="],
                         tmp_path / f"{name}.log")
        ok = wait_until(lambda: self.proc.poll() is not None or self._ready(), timeout=60, step=0.2)
        assert ok and self.proc.poll() is None, f"alertmanager did not start; log:\n{self.log}"

    def _ready(self):
        try:
            return http(self.url + "/-/ready", timeout=2)[0] == 200
        except OSError:
            return False

    def add(self, *labels, start=None, flags=()):
        """amtool alert add LABEL=VALUE ... (optionally with a fixed start time, more flags)."""
        argv = [tool("amtool"), f"--alertmanager.url={self.url}", "alert", "add", *labels, *flags]
        if start:
            argv.append(f"--start={start}")
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
