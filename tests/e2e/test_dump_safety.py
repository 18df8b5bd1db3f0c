"""Whatever happens to stacktop in the middle of a stop, the target runs
again by the deadline: Ctrl-Z in the monitor, SIGSTOP or SIGKILL to
`stacktop dump`, on a 10,000-thread target (the stop phase lives in a helper
process of its own process group that exits by the deadline).

The test build's STACKTOP_TEST_HOLD_MS hook keeps the threads stopped far
longer than the deadline, so stacktop is certainly caught mid-stop and only
the helper's deadline can release them. One target serves every test; each
test checks that nothing is left stopped or traced."""
import os
import signal
import subprocess
import time

import pytest

from conftest import (STACKTOP_BIN, FixtureProcess, assert_not_stopped_or_traced, fixture_path, hold_env,
                      proc_status, thread_states)
from tui_session import TuiSession

THREADS = 10000
TIMEOUT_S = 2.0
# The helper's own timer ends a stop 0.25 s past --timeout at the latest;
# what remains is how late a loaded 2-core machine lets us observe it.
SLACK_S = 0.25 + 1.0


@pytest.fixture(scope="module")
def target():
    p = FixtureProcess([fixture_path("many_threads"), str(THREADS - 201), "200"], ready_timeout=180)
    try:
        assert int(proc_status(p.pid)["Threads"]) >= THREADS
        yield p
    finally:
        try:
            assert_not_stopped_or_traced(p.pid)
        finally:
            p.kill()


def stopped_count(pid):
    return sum(1 for s in thread_states(pid).values() if s in "tT")


def wait_stop_started(pid, timeout=60):
    """Waits until most threads are in ptrace-stop; returns when it saw that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stopped_count(pid) > THREADS // 2:
            return time.monotonic()
        time.sleep(0.005)
    raise AssertionError(f"the dump never stopped pid {pid}")


def wait_released(pid, timeout):
    """Seconds until no thread is stopped and nothing traces pid, or None."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if stopped_count(pid) == 0 and proc_status(pid).get("TracerPid") == "0":
            return time.monotonic() - start
        time.sleep(0.005)
    return None


def process_state(pid):
    return proc_status(pid).get("State", "?")[:1]


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def assert_released_by_deadline(pid, seen_stop):
    waited = wait_released(pid, TIMEOUT_S + SLACK_S + 30)
    assert waited is not None, "target still stopped"
    late = time.monotonic() - seen_stop
    assert late <= TIMEOUT_S + SLACK_S, f"released {late:.2f} s after the stop was seen"
    assert_not_stopped_or_traced(pid)


@pytest.mark.parametrize("sig", [signal.SIGSTOP, signal.SIGKILL])
def test_signal_to_stacktop_mid_stop(target, sig):
    dumper = subprocess.Popen([STACKTOP_BIN, "dump", str(target.pid), "--timeout", str(TIMEOUT_S)],
                              env=hold_env(60000), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        seen = wait_stop_started(target.pid)
        dumper.send_signal(sig)
        assert_released_by_deadline(target.pid, seen)
        if sig == signal.SIGSTOP:
            assert process_state(dumper.pid) == "T"   # still stopped: the helper did it alone
            dumper.send_signal(signal.SIGCONT)
            _, err = dumper.communicate(timeout=60)
            # the hold outlasted the deadline: the stop was cut off, and said so
            assert dumper.returncode == 1 and "overran --timeout" in err, err
    finally:
        if dumper.poll() is None:
            dumper.send_signal(signal.SIGCONT)
            dumper.kill()
            dumper.communicate()


def monitor_pid(session):
    """The stacktop monitor started by the pane's shell."""
    shell = int(session._tmux("display-message", "-p", "-t", session.name, "#{pane_pid}").stdout)
    for pid in children(shell):
        try:
            if os.readlink(f"/proc/{pid}/exe") == os.path.realpath(STACKTOP_BIN):
                return pid
        except OSError:
            pass
    raise AssertionError("no stacktop process in the pane")


def test_ctrl_z_in_the_monitor_mid_stop(target, tmp_path):
    """As a person does it: the monitor started from an interactive shell
    (job control: Ctrl-Z suspends the job), a dump started with s, then
    Ctrl-Z while the target is stopped."""
    hold_env(0)   # asserts this is the test build
    env = {"XDG_CONFIG_HOME": str(tmp_path), "LANG": "C.UTF-8", "PS1": "$ ", "STACKTOP_TEST_HOLD_MS": "60000"}
    s = TuiSession(["bash", "--norc", "--noprofile", "-i"], env=env, cwd=tmp_path)
    monitor = None
    try:
        s.wait_for("$")
        s.type(f"{STACKTOP_BIN} -d 0.5 -p {target.pid}")
        s.keys("Enter")
        s.wait_for("PID USER", timeout=60)
        monitor = monitor_pid(s)
        s.keys("s")
        seen = wait_stop_started(target.pid)
        s.keys("C-z")
        deadline = time.monotonic() + 10
        while process_state(monitor) != "T" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert process_state(monitor) == "T", "Ctrl-Z did not suspend the monitor"
        assert_released_by_deadline(target.pid, seen)
        assert process_state(monitor) == "T"
        s.wait_for("Stopped", what="the shell's job report")
        s.type("fg")
        s.keys("Enter")
        # back in the foreground, the monitor says why there is no dump
        s.wait_for("overran --timeout", timeout=60)
        s.keys("q")
    finally:
        if monitor:
            try:
                os.kill(monitor, signal.SIGCONT)
            except ProcessLookupError:
                pass
        s.close()
