"""Shared pytest fixtures for stacktop's end-to-end tests.

Run through `make test-e2e` (or `make check`), which sets STACKTOP_BIN and
STACKTOP_FIXTURES. Every process a test starts is killed in teardown, and any
process a test left stopped or traced is resumed first: a test that attaches
must never leave a process behind, even when it fails.
"""
import os
import signal
import subprocess
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STACKTOP_BIN = os.environ.get("STACKTOP_BIN", os.path.join(ROOT, "build", "stacktop"))
FIXTURES = os.environ.get("STACKTOP_FIXTURES", os.path.join(ROOT, "build", "fixtures"))


def fixture_path(name):
    path = os.path.join(FIXTURES, name)
    if not os.path.exists(path):
        raise FileNotFoundError(f"fixture {path} is not built: run 'make fixtures'")
    return path


def proc_status(pid):
    """/proc/PID/status as a dict (empty when the process is gone)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                out[key] = value.strip()
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def thread_states(pid):
    """{tid: state letter} for every thread of pid."""
    states = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return states
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
            states[int(tid)] = stat[stat.rindex(")") + 2]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
    return states


def assert_not_stopped_or_traced(pid):
    """The invariant every attaching test checks: no thread in t/T, TracerPid 0."""
    status = proc_status(pid)
    if not status:
        return
    assert status.get("TracerPid", "0") == "0", f"pid {pid} still traced by {status.get('TracerPid')}"
    bad = {tid: s for tid, s in thread_states(pid).items() if s in "tT"}
    assert not bad, f"pid {pid} has stopped/traced threads: {bad}"


class FixtureProcess:
    """A running fixture. The fixture programs print 'ready' (optionally with
    details after it) on stdout once they are in their known state."""

    def __init__(self, argv, ready_timeout=20):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)
        self.pid = self.proc.pid
        self.ready_line = self._wait_ready(ready_timeout)

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("ready"):
                return line.strip()
        self.kill()
        raise RuntimeError(f"fixture {self.argv} did not print 'ready' within {timeout}s")

    def kill(self):
        if self.proc.poll() is not None:
            return
        # SIGCONT first: a stopped process still dies on SIGKILL, but a stopped
        # group leader left behind by a failed test must not linger as 'T'.
        for sig in (signal.SIGCONT, signal.SIGKILL):
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


@pytest.fixture
def spawn():
    """spawn(name, *args) starts build/fixtures/NAME and waits for its 'ready' line.
    With user="nobody" (a user name), it runs as that user (setpriv, no groups):
    another user's process on the same host."""
    started = []

    def _spawn(name, *args, ready_timeout=20, user=None):
        argv = [fixture_path(name), *map(str, args)]
        if user is not None:
            import pwd
            pw = pwd.getpwnam(user)
            argv = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups", *argv]
        fp = FixtureProcess(argv, ready_timeout)
        started.append(fp)
        return fp

    yield _spawn
    for fp in started:
        try:
            assert_not_stopped_or_traced(fp.pid)
        finally:
            fp.kill()


def run_stacktop(*args, timeout=60, **kw):
    """Runs the stacktop binary; returns CompletedProcess with text output."""
    return subprocess.run([STACKTOP_BIN, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, **kw)


@pytest.fixture
def stacktop():
    return run_stacktop
