"""Watch rules on goroutines (issue 8): a Go service that leaks blocked
connection watchers and has no pprof endpoint. goroutine_growth_above fires
exactly once in a --once run, the mailed bundle carries goroutines.txt (the
program's debug=1 profile, read from outside) with the leaking function's
group, goroutines-debug2.txt, and a summary naming the count, the slope and
the largest groups; goroutines_above fires on the count; a C service never
fires either rule."""
import re

import pytest

from watch_support import SmtpSink, attachment_of, bundles_in, run_once, unpack, write_config


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def only_bundle(bundles):
    found = bundles_in(bundles)
    assert len(found) == 1, found
    return unpack(found[0].read_bytes())


def test_goroutine_growth_fires_once_with_the_goroutine_profile(tmp_path, spawn, smtp):
    leak = spawn("goleak", "50")   # 3,000 a minute
    conf, bundles = write_config(tmp_path, f"[service leaky]\nmatch = pid:{leak.pid}\n"
                                 "goroutine_growth_above = 600/h over 2s\n", smtp_port=smtp.port)
    r = run_once(conf)
    assert len(re.findall(r"goroutine_growth_above.*fired|fired.*goroutine_growth_above", r.stderr)) == 1, r.stderr
    files = only_bundle(bundles)
    text = files[f"proc-{leak.pid}/goroutines.txt"].decode()
    total = int(re.match(r"goroutine profile: total (\d+)\n", text).group(1))
    group = re.search(r"^(\d+) @ (?:0x[0-9a-f]+ )+0x[0-9a-f]+\n#\t0x[0-9a-f]+\tmain\.watchConnection\+0x[0-9a-f]+\t"
                      r"\S+/main\.go:\d+\n", text, re.M)
    assert group, text[:2000]
    leaked = int(group.group(1))
    assert leaked > 50 and leaked <= total
    debug2 = files[f"proc-{leak.pid}/goroutines-debug2.txt"].decode()
    assert len(re.findall(r"^goroutine \d+ \[chan receive(?:, \d+ minutes)?\]:\nmain\.watchConnection\(",
                          debug2, re.M)) >= leaked - 60
    assert "created by main.handleRequest" in debug2
    summary = files["summary.txt"].decode()
    m = re.search(rf"pid {leak.pid}: (\d+) goroutines \(go1\.\d+[^,]*, growing \+([\d.]+) per minute over the last "
                  r"[^)]*\); "
                  r"largest groups: (\d+) chan receive in main\.watchConnection \(\S+main\.go:\d+\)", summary)
    assert m, summary
    assert int(m.group(1)) == total and int(m.group(3)) == leaked and float(m.group(2)) > 600 / 60
    [(_, _, raw)] = smtp.wait_for(1)
    msg, parts = attachment_of(raw)
    assert "goroutine_growth_above" in msg["Subject"] and parts


def test_goroutines_above_and_a_c_service(tmp_path, spawn):
    go = spawn("goleak", "0")
    c = spawn("sleeper")
    conf, bundles = write_config(tmp_path, f"[service go]\nmatch = pid:{go.pid}\ngoroutines_above = 3 for 2\n"
                                 f"[service c]\nmatch = pid:{c.pid}\ngoroutines_above = 1\n"
                                 "goroutine_growth_above = 1/h over 1s\n", mail=False)
    r = run_once(conf)
    assert re.search(r"\[go\].*goroutines_above.*fired|fired.*\[go\].*goroutines_above|goroutines_above.*go.*fired",
                     r.stderr), r.stderr
    assert not re.search(r"\bc\b.*goroutine\S*_above.*fired", r.stderr), r.stderr
    files = only_bundle(bundles)
    assert f"proc-{go.pid}/goroutines.txt" in files
    assert not any(name.startswith(f"proc-{c.pid}/goroutines") for name in files)
