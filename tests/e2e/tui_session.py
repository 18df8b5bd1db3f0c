"""Drive a program in a detached tmux session the way a person would: send
keys, read the screen with capture-pane. Each session runs on its own tmux
server socket (-L) so tests never touch a user's tmux, and close() kills it."""
import os
import re
import shlex
import subprocess
import time

TMUX = "tmux"
HEADER_RE = re.compile(r"^\s*PID\s+(PPID\s+)?USER\s+")
UNITS = {"K": 1, "M": 1024, "G": 1024 ** 2, "T": 1024 ** 3}


def kib(text):
    """'812K' / '23.4M' / '1.20G' -> KiB."""
    return float(text[:-1]) * UNITS[text[-1]]


def table(screen):
    """(header tokens, process rows as token lists) of the process table."""
    lines = screen.split("\n")
    for i, line in enumerate(lines):
        if HEADER_RE.match(line):
            header = line.split()
            rows = []
            for row in lines[i + 1:]:
                tokens = row.split()
                if len(tokens) < len(header) - 1 or not tokens[0].isdigit():
                    break
                rows.append(tokens)
            return header, rows
    raise AssertionError("no process table on screen:\n" + screen)


LEFT_ALIGNED = {"USER", "WCHAN", "COMMAND"}


def row_cells(screen, pid):
    """{header: cell text} of pid's row, cut by the header's positions, so
    blank cells (RGROW in the first minute) keep the others in place. None
    when the row is not on the screen."""
    lines = screen.split("\n")
    header = next((line for line in lines if HEADER_RE.match(line)), None)
    row = row_of(screen, pid)
    if header is None or row is None:
        return None
    spans = [(m.group(0), m.start(), m.end()) for m in re.finditer(r"\S+", header)]
    cells = {}
    for i, (name, start, end) in enumerate(spans):
        if name in LEFT_ALIGNED:
            stop = spans[i + 1][1] - 1 if i + 1 < len(spans) else len(row)
            cells[name] = row[start:stop].strip()
        else:
            # Right-aligned: the word that ends where the header ends (numbers have no spaces).
            begin = end
            while begin > 0 and begin <= len(row) and row[begin - 1] != " ":
                begin -= 1
            cells[name] = row[begin:end].strip()
    return cells


def row_of(screen, pid):
    """The screen line of pid's row in the process table (None when absent)."""
    for line in screen.split("\n"):
        if line.split()[:1] == [str(pid)]:
            return line
    return None


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

    def click(self, x, y):
        """A left click at column x, line y (0-based), as an xterm reports it
        (X10 encoding) to a program that asked for mouse events."""
        press = "\x1b[M" + chr(32 + 0) + chr(33 + x) + chr(33 + y)
        release = "\x1b[M" + chr(32 + 3) + chr(33 + x) + chr(33 + y)
        self.keys(press + release, literal=True)

    def screen(self):
        return self._tmux("capture-pane", "-p", "-t", self.name).stdout

    def screen_with_attributes(self, trailing=False):
        """The screen with its colour/attribute escape sequences (capture-pane
        -e; with trailing, blank cells at line ends are kept, -N). An
        attribute is written where it changes, so a line may carry on with
        the previous one's."""
        return self._tmux("capture-pane", "-p", "-e", *(["-N"] if trailing else []), "-t", self.name).stdout

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
