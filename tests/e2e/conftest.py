"""Shared pytest fixtures for stacktop's end-to-end tests.

Run through `make test-e2e` (or `make check`), which sets STACKTOP_BIN and
STACKTOP_FIXTURES. Every process a test starts is killed in teardown, and any
process a test left stopped or traced is resumed first: a test that attaches
must never leave a process behind, even when it fails.
"""
import os
import queue
import re
import signal
import subprocess
import threading
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
    details after it) on stdout once they are in their known state. Programs
    that are not ours say so differently: `ready` is then a regular expression
    searched in each line of `ready_stream` ("stdout" or "stderr"), or a
    function of this FixtureProcess that is polled until it returns true.
    Output is read line by line by one thread per stream (wait_line), so a
    test can wait for a later line without blocking."""

    def __init__(self, argv, ready_timeout=20, ready=r"^ready", ready_stream="stdout",
                 env=None, cwd=None, stdin=None):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, encoding="utf-8", errors="replace",
                                     start_new_session=True, env=env, cwd=cwd)
        self.pid = self.proc.pid
        self._lines = {}
        if callable(ready):
            self.ready_line = self._poll_ready(ready, ready_timeout)
            return
        self.ready_line = self.wait_line(ready, ready_stream, ready_timeout)
        if self.ready_line is None:
            self.kill()
            raise RuntimeError(f"fixture {self.argv} did not print {ready!r} within {ready_timeout}s")

    def _queue(self, name):
        """The lines of stdout or stderr, read by a thread of their own (None at EOF)."""
        if name not in self._lines:
            lines = queue.Queue()
            stream = getattr(self.proc, name)

            def pump():
                try:
                    for line in stream:
                        lines.put(line)
                except (OSError, ValueError):   # closed by kill()
                    pass
                lines.put(None)

            threading.Thread(target=pump, daemon=True).start()
            self._lines[name] = lines
        return self._lines[name]

    def wait_line(self, pattern, stream="stdout", timeout=20):
        """The next line of `stream` in which `pattern` is found (without its
        newline), skipping the others; None on timeout or end of output."""
        lines = self._queue(stream)
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if line is None:
                lines.put(None)     # stays at end of output
                return None
            if re.search(pattern, line):
                return line.rstrip("\n")

    def _poll_ready(self, ready, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            if ready(self):
                return ""
            time.sleep(0.01)
        self.kill()
        raise RuntimeError(f"fixture {self.argv} was not ready within {timeout}s")

    def signal_and_collect(self, sig, timeout=30):
        """Sends sig (e.g. SIGQUIT to a Go program, which then prints every
        goroutine and exits) and returns what it wrote to stderr from then on.
        Once the program has exited, what is left of its session (children it
        started) is killed while the exited leader, not yet reaped, still
        holds the group id: a reaped pid can be reused at once."""
        lines = self._queue("stderr")
        while not lines.empty():                # earlier output is not the answer
            if lines.get() is None:
                lines.put(None)
                break
        os.kill(self.pid, sig)
        deadline = time.monotonic() + timeout
        exited = None
        while time.monotonic() < deadline and not exited:
            exited = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            if not exited:
                time.sleep(0.01)
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout)
        assert exited, f"{self.argv} did not exit within {timeout}s of signal {sig}"
        text = []
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            text.append(line)
        return "".join(text)

    def kill(self):
        # Only while the leader is not reaped: after that its pid, and so the
        # group id, may belong to someone else.
        if self.proc.poll() is None:
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
        # closing stdin also ends children that wait on it after the leader died
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


@pytest.fixture
def spawn():
    """spawn(name, *args) starts build/fixtures/NAME (or the program at an
    absolute path NAME) and waits until it is ready (see FixtureProcess).
    With user="nobody" (a user name), it runs as that user (setpriv, no
    groups): another user's process on the same host."""
    started = []

    def _spawn(name, *args, ready_timeout=20, user=None, **kw):
        path = name if os.path.isabs(name) else fixture_path(name)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} is not built: run 'make fixtures'")
        argv = [path, *map(str, args)]
        if user is not None:
            import pwd
            pw = pwd.getpwnam(user)
            argv = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups", *argv]
        fp = FixtureProcess(argv, ready_timeout, **kw)
        started.append(fp)
        return fp

    yield _spawn
    for fp in started:
        try:
            assert_not_stopped_or_traced(fp.pid)
        finally:
            fp.kill()


@pytest.fixture
def xdg(tmp_path):
    """A private XDG_CONFIG_HOME so the user's rc file is never touched."""
    path = tmp_path / "config"
    path.mkdir()
    return path


@pytest.fixture
def tui(xdg, tmp_path):
    """tui(*args) starts the monitor in tmux (200x50, -d 0.5, a UTF-8 locale)
    and waits for the process table; every session is killed in teardown."""
    from tui_session import TuiSession
    sessions = []

    def start(*args, width=200, height=50, env=None, cwd=None, wait="PID USER"):
        # TERM stays tmux's own, so the key sequences tmux sends match terminfo.
        environment = {"XDG_CONFIG_HOME": str(xdg), "LANG": "C.UTF-8"}
        environment.update(env or {})
        s = TuiSession([STACKTOP_BIN, "-d", "0.5", *map(str, args)], env=environment,
                       cwd=cwd or tmp_path, width=width, height=height)
        sessions.append(s)
        if wait:
            s.wait_for(wait)
        return s

    yield start
    for s in sessions:
        s.close()


def run_stacktop(*args, timeout=60, **kw):
    """Runs the stacktop binary; returns CompletedProcess with text output."""
    return subprocess.run([STACKTOP_BIN, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, **kw)


@pytest.fixture
def stacktop():
    return run_stacktop


def hold_env(ms):
    """The environment that makes a test build of stacktop keep a target
    stopped ms milliseconds longer (STACKTOP_TEST_HOLD_MS). Only the test
    build has the hook (make check builds build/asan/stacktop with
    TEST_HOOKS=1); against any other binary this is an error, not a skip."""
    version = subprocess.run([STACKTOP_BIN, "--version"], capture_output=True, text=True).stdout
    assert "test build" in version, (
        f"{STACKTOP_BIN} has no test hooks ({version.strip()!r}): run the end-to-end tests against the "
        "test build, as make check does (make BUILD=build/asan SAN=1 TEST_HOOKS=1)")
    return dict(os.environ, STACKTOP_TEST_HOLD_MS=str(ms))
