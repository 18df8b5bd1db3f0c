"""Goroutine counts of Go processes, read from outside without a stop
(issue 8): batch JSON against the number the service reports of itself
(runtime.NumGoroutine() on SIGUSR1, read just before and just after), the
monitor's GOR and GGROW columns through tmux, and processes that are not Go.
The fixture tests/fixtures/go/goleak leaks blocked connection watchers at a
given rate and has no pprof endpoint. GGROW needs a minute of history: that
test is slow by nature (about 75 s)."""
import json
import os
import re
import signal
import time

import pytest

from conftest import assert_not_stopped_or_traced, run_stacktop
from tui_session import row_cells

MIN_SPAN_S = 60  # SAMPLER_GROWTH_MIN_SPAN_S


def reported(p):
    """runtime.NumGoroutine() of the goleak fixture, asked now."""
    os.kill(p.pid, signal.SIGUSR1)
    line = p.wait_line(r"^goroutines \d+", timeout=20)
    assert line, "goleak did not answer SIGUSR1"
    return int(line.split()[1])


def batch_process(pid, *args):
    r = run_stacktop("-b", "-n", "1", "--format", "json", "-p", pid, *args)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    [proc] = [p for p in json.loads(r.stdout)["processes"] if p["pid"] == pid]
    return proc


@pytest.mark.parametrize("variant", ["goleak", "goleak_stripped"])
def test_batch_counts_like_the_program_itself(spawn, variant):
    p = spawn(variant, "20")   # 20 leaked goroutines a second
    for _ in range(3):
        before = reported(p)
        proc = batch_process(p.pid)
        after = reported(p)
        assert before - 2 <= proc["goroutines"] <= after + 2, (before, proc["goroutines"], after)
        states = proc["goroutine_states"]
        assert set(states) == {"running", "runnable", "waiting", "syscall", "other"}
        assert sum(states.values()) == proc["goroutines"]
        waits = proc["goroutine_wait_reasons"]
        assert sum(waits.values()) == states["waiting"]
        # the leaked watchers wait in a channel receive; the service's own
        # goroutines in select, on a mutex, on a timer
        assert waits.get("chan receive", 0) >= before - 10
        assert waits.get("select (no cases)", 0) >= 1
        assert waits.get("semacquire", 0) + waits.get("sync.Mutex.Lock", 0) >= 1
        time.sleep(0.2)
    assert_not_stopped_or_traced(p.pid)


def test_not_go_and_text_output(spawn):
    c = spawn("sleeper")
    proc = batch_process(c.pid)
    assert "goroutines" not in proc and "goroutine_states" not in proc
    # batch text: GOR/GGROW only when a Go process is listed
    r = run_stacktop("-b", "-n", "1", "-p", c.pid)
    assert "GOR" not in r.stdout
    g = spawn("goleak", "0")
    r = run_stacktop("-b", "-n", "1", "-p", f"{c.pid},{g.pid}")
    header = [line for line in r.stdout.splitlines() if line.lstrip().startswith("PID")][0]
    assert re.search(r"\bGOR\b", header) and re.search(r"\bGGROW\b", header)
    row = [line for line in r.stdout.splitlines() if line.split() and line.split()[0] == str(g.pid)][0]
    assert str(reported(g)) in row.split()


def test_monitor_shows_gor_and_a_positive_ggrow(spawn, tui):
    leak = spawn("goleak", "5")      # 300 a minute
    idle = spawn("goleak", "0")
    start = time.monotonic()
    s = tui("-d", "1", "-p", f"{leak.pid},{idle.pid}")
    s.wait_for(lambda text: (row_cells(text, leak.pid) or {}).get("GOR", "") != "", what="GOR")
    cells = row_cells(s.screen(), idle.pid)
    assert cells["GOR"] == str(reported(idle)) and cells["GGROW"] == ""
    # GGROW stays blank until a minute of history, then reads the leak's rate
    # (about 300 a minute, the floor of the count: measured, not assumed)
    while time.monotonic() - start < MIN_SPAN_S - 10:
        assert row_cells(s.screen(), leak.pid)["GGROW"] == ""
        time.sleep(1)
    screen = s.wait_for(lambda text: (row_cells(text, leak.pid) or {}).get("GGROW", "") not in ("",),
                        timeout=60, what="GGROW of the leak")
    leak_rate = float(row_cells(screen, leak.pid)["GGROW"])
    assert 150 <= leak_rate <= 450, leak_rate
    idle_rate = row_cells(screen, idle.pid)["GGROW"]
    assert idle_rate == "" or abs(float(idle_rate)) < 1, idle_rate
    # the detail view (Enter on the only row): the split by state and wait
    # reason, and the goroutine graph
    d = tui("-d", "1", "-p", leak.pid)
    d.keys("Enter")
    screen = d.wait_for(re.compile(r"Goroutines \d+ \((?:[+-][\d.]+/min|growth after 60 s)\):.* waiting \d+ "
                                   r"\(chan receive \d+").search, what="the goroutine line of the detail view")
    assert re.search(r"^Goroutines\s+\d+", screen, re.M)
