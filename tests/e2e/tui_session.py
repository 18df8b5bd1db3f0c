"""Drive a program in a detached tmux session the way a person would: send
keys, read the screen with capture-pane. Each session runs on its own tmux
server socket (-L) so tests never touch a user's tmux, and close() kills it."""
import os
import shlex
import subprocess
import time

TMUX = "tmux"


class TuiSession:
    def __init__(self, argv, env=None, cwd=None, width=200, height=50):
        self.socket = f"stacktop-test-{os.getpid()}-{time.monotonic_ns()}"
        self.name = "t"
        env_prefix = ""
        if env:
            env_prefix = "env " + " ".join(shlex.quote(f"{k}={v}") for k, v in env.items()) + " "
        command = env_prefix + " ".join(shlex.quote(str(a)) for a in argv)
        self._tmux("-f", "/dev/null", "new-session", "-d", "-s", self.name,
                   "-x", str(width), "-y", str(height), *(["-c", str(cwd)] if cwd else []), command)
        # Keep the pane after the program exits so its last screen can be read.
        self._tmux("set-option", "-t", self.name, "remain-on-exit", "on")

    def _tmux(self, *args, check=True):
        return subprocess.run([TMUX, "-L", self.socket, *args], capture_output=True, text=True,
                              timeout=30, check=check)

    def keys(self, *keys, literal=False):
        """send-keys: names like Enter, Escape, F1, Up; literal=True types text."""
        self._tmux("send-keys", "-t", self.name, *(["-l"] if literal else []), *keys)

    def type(self, text):
        self.keys(text, literal=True)

    def screen(self):
        return self._tmux("capture-pane", "-p", "-t", self.name).stdout

    def screen_with_attributes(self):
        """The screen with its colour/attribute escape sequences (capture-pane -e)."""
        return self._tmux("capture-pane", "-p", "-e", "-t", self.name).stdout

    def lines(self):
        return self.screen().split("\n")

    def wait_for(self, predicate, timeout=15, what="condition"):
        """Polls the screen until predicate(text) is true (a str means 'is on
        the screen'); returns the screen text."""
        if isinstance(predicate, str):
            needle = predicate
            predicate = lambda text: needle in text  # noqa: E731
            what = repr(needle)
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if predicate(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; screen:\n{text}")

    def resize(self, width, height):
        self._tmux("resize-window", "-t", self.name, "-x", str(width), "-y", str(height))

    def pane_dead(self):
        out = self._tmux("display-message", "-p", "-t", self.name, "#{pane_dead}", check=False).stdout
        return out.strip() == "1"

    def pane_status(self):
        out = self._tmux("display-message", "-p", "-t", self.name, "#{pane_dead_status}", check=False).stdout
        return int(out.strip()) if out.strip() else None

    def close(self):
        self._tmux("kill-server", check=False)
