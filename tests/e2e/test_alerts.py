"""Alert-triggered captures (issue 11 item 2) with Debian's own Alertmanager
(0.25) and amtool on loopback, configured from the example route shipped in
doc/examples/ (only its host name, URL and token path replaced), and the
shipped Prometheus rules checked and unit-tested with promtool."""
import json
import os
import re
import subprocess

import pytest

from fleet_support import DOC, Alertmanager, http, tool
from watch_support import WatchProcess, bundles_in, free_port, unpack, wait_until, write_config

TOKEN = "alert-token-0123456789"
ROUTE = os.path.join(DOC, "examples", "alertmanager-stacktop.yml")
RULES = os.path.join(DOC, "examples", "prometheus-rules.yml")
START = "2026-01-02T03:04:05Z"
# Hostile text in an annotation (amtool parses it like a quoted matcher value).
ANNOTATIONS = ('--annotation=summary="web \\"hot\\" \\\\ 95%"', "--generator-url=http://prom.example/graph?g0.expr=up")


def shipped_route(port, token_file, host="testhost"):
    """doc/examples/alertmanager-stacktop.yml for this machine: the example
    host's receiver pointed at 127.0.0.1:port, its token file, its host name."""
    text = open(ROUTE).read()
    for old, new in (("http://hosta.example.com:9257/alertmanager", f"http://127.0.0.1:{port}/alertmanager"),
                     ("credentials_file: /etc/prometheus/stacktop-hosta.token", f"credentials_file: {token_file}"),
                     ('host="hosta"', f'host="{host}"')):
        assert text.count(old) == 1, f"{ROUTE} no longer has {old!r} once"
        text = text.replace(old, new)
    return text


class Receiver:
    """A watcher with alert_listen and a running fixture as service `web`."""

    def __init__(self, tmp_path, spawn, extra=""):
        self.sleeper = spawn("sleeper")
        self.port = free_port()
        self.token_file = tmp_path / "alert.token"
        self.token_file.write_text(TOKEN + "\n")
        self.token_file.chmod(0o600)
        self.conf, self.bundles = write_config(
            tmp_path, f"[service web]\nmatch = pid:{self.sleeper.pid}\nrestart = alert\n",
            extra_global=(f"alert_listen = 127.0.0.1:{self.port}\nalert_token_file = {self.token_file}\n"
                          f"cooldown = 1s\n{extra}"))
        self.watch = None
        self.start()

    def start(self):
        self.watch = WatchProcess(self.conf)
        self.watch.wait_for(r"serving /alertmanager on 127\.0\.0\.1:")

    def post(self, payload, token=TOKEN):
        return http(f"http://127.0.0.1:{self.port}/alertmanager", data=json.dumps(payload).encode(),
                    headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})


@pytest.fixture
def receiver(tmp_path, spawn):
    made = []

    def make(**kw):
        r = Receiver(tmp_path, spawn, **kw)
        made.append(r)
        return r

    yield make
    for r in made:
        r.watch.kill()


@pytest.fixture
def alertmanagers(tmp_path):
    started = []

    def start(config_text, name="alertmanager"):
        am = Alertmanager(tmp_path, config_text, name=name)
        started.append(am)
        return am

    yield start
    for am in started:
        am.stop()


def alert_labels(host="testhost"):
    return ["alertname=ServiceCpuHigh", "groupname=web", f"host={host}", "stacktop_action=bundle"]


def test_alert_gives_one_bundle_and_a_resent_one_none(receiver, alertmanagers, tmp_path):
    r = receiver()
    am = alertmanagers(shipped_route(r.port, r.token_file))
    am.add(*alert_labels(), start=START, flags=ANNOTATIONS)
    assert wait_until(lambda: len(bundles_in(r.bundles)) == 1, timeout=60), r.watch.log + am.log
    files = unpack(bundles_in(r.bundles)[0].read_bytes())
    summary = json.loads(files["summary.json"])
    alert = summary["alert"]
    assert summary["service"] == "web" and summary["rule"] == "on_demand", summary
    assert alert["alertname"] == "ServiceCpuHigh"
    assert re.fullmatch(r"[0-9a-f]{16}", alert["fingerprint"]), alert
    assert alert["startsAt"] == START
    assert alert["receiver"] == "stacktop-hosta"
    assert alert["labels"]["groupname"] == "web" and alert["labels"]["host"] == "testhost", alert
    assert alert["annotations"]["summary"] == 'web "hot" \\ 95%', alert
    assert alert["generatorURL"] == "http://prom.example/graph?g0.expr=up", alert
    assert "alert_ServiceCpuHigh" in bundles_in(r.bundles)[0].name
    r.watch.wait_for(r"alert ServiceCpuHigh captured")

    # The watcher restarts; a fresh Alertmanager (no notification log) sends
    # the same alert episode again, well after the 1 s cooldown.
    am.stop()
    r.watch.stop()
    r.start()
    again = alertmanagers(shipped_route(r.port, r.token_file), name="alertmanager2")
    again.add(*alert_labels(), start=START, flags=ANNOTATIONS)
    r.watch.wait_for(r"alert ServiceCpuHigh duplicate: already handled")
    assert len(bundles_in(r.bundles)) == 1


def test_wrong_token_is_refused_and_not_retried(receiver, alertmanagers, tmp_path):
    r = receiver()
    wrong = tmp_path / "wrong.token"
    wrong.write_text("not-the-token\n")
    am = alertmanagers(shipped_route(r.port, wrong))
    am.add(*alert_labels(), start=START)
    r.watch.wait_for(r"refused with 401")
    assert wait_until(lambda: re.search(r"401", am.log), timeout=30), am.log
    # Alertmanager does not retry a 4xx: no second attempt, no bundle.
    assert wait_until(lambda: "Notify for alerts failed" in am.log, timeout=30), am.log
    assert "will retry later" not in am.log, am.log
    status, body, _ = r.post({"version": "4", "status": "firing", "alerts": []}, token="nope")
    assert status == 401, body
    assert bundles_in(r.bundles) == []


def test_transient_failure_is_503_then_retried_and_captured(receiver, alertmanagers, tmp_path):
    r = receiver()
    # bundle_dir replaced by a file: the receiver cannot remember or bundle now.
    moved = tmp_path / "bundles.away"
    r.bundles.rename(moved)
    r.bundles.write_text("not a directory\n")
    r.watch.wait_for(r"bundle_dir")
    am = alertmanagers(shipped_route(r.port, r.token_file))
    am.add(*alert_labels(), start=START)
    r.watch.wait_for(r"alert ServiceCpuHigh retry")
    assert wait_until(lambda: "will retry later" in am.log, timeout=30), am.log
    r.bundles.unlink()
    moved.rename(r.bundles)
    assert wait_until(lambda: len(bundles_in(r.bundles)) == 1, timeout=60), r.watch.log + am.log
    assert wait_until(lambda: "Notify success" in am.log, timeout=30), am.log
    assert r.watch.count(r"alert ServiceCpuHigh captured") == 1


def test_receiver_refuses_what_a_retry_cannot_fix(receiver):
    r = receiver()

    def payload(**labels):
        alert = {"status": "firing", "labels": {"alertname": "X", **labels}, "annotations": {},
                 "startsAt": START, "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "",
                 "fingerprint": "0123456789abcdef"}
        return {"version": "4", "status": "firing", "receiver": "r", "groupLabels": {}, "commonLabels": {},
                "commonAnnotations": {}, "externalURL": "", "groupKey": "{}", "truncatedAlerts": 0,
                "alerts": [alert]}

    assert r.post(payload(groupname="nosuch", host="testhost"))[0] == 422
    assert r.post(payload(groupname="web", host="otherhost"))[0] == 422
    status, body, _ = r.post({"version": "3"})
    assert status == 400, body
    status, body, _ = http(f"http://127.0.0.1:{r.port}/alertmanager", data=b"{not json",
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 400, body
    assert bundles_in(r.bundles) == []


def test_shipped_rules_fire_as_documented(tmp_path):
    check = subprocess.run([tool("promtool"), "check", "rules", RULES], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    tests = tmp_path / "rules.test.yml"
    tests.write_text(json.dumps({
        "rule_files": [os.path.abspath(RULES)],
        "evaluation_interval": "15s",
        "tests": [{
            "interval": "15s",
            "input_series": [
                # 0.95 and 0.5 of a core
                {"series": 'namedprocess_namegroup_cpu_seconds_total{groupname="web",host="hosta",mode="user"}',
                 "values": "0+14.25x40"},
                {"series": 'namedprocess_namegroup_cpu_seconds_total{groupname="db",host="hosta",mode="user"}',
                 "values": "0+7.5x40"},
                {"series": 'node_memory_MemAvailable_bytes{host="hosta"}', "values": "9x40"},
                {"series": 'node_memory_MemTotal_bytes{host="hosta"}', "values": "100x40"},
            ],
            "alert_rule_test": [
                {"eval_time": "2m", "alertname": "ServiceCpuHigh", "exp_alerts": []},
                {"eval_time": "5m", "alertname": "ServiceCpuHigh", "exp_alerts": [{
                    "exp_labels": {"groupname": "web", "host": "hosta", "stacktop_action": "bundle"},
                    "exp_annotations": {"summary": "web on hosta uses 95% of a core"}}]},
                {"eval_time": "30s", "alertname": "HostMemoryLow", "exp_alerts": []},
                {"eval_time": "2m", "alertname": "HostMemoryLow", "exp_alerts": [{
                    "exp_labels": {"host": "hosta", "groupname": "system", "stacktop_action": "bundle"},
                    "exp_annotations": {"summary": "hosta has 9% of its memory available"}}]},
            ],
        }],
    }))
    r = subprocess.run([tool("promtool"), "test", "rules", str(tests)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
