"""The curses monitor driven through tmux as a person uses it: sorting,
thread rows, search, filter, detail view, help, resize, the stack view, and
a terminal that is usable again after quitting."""
import os
import re
import subprocess
import time

import pytest

from conftest import STACKTOP_BIN
from tui_session import TuiSession, kib, table


def thread_rows(screen):
    """Thread rows (drawn with a tree branch) as (tid, state, name)."""
    out = []
    for line in screen.split("\n"):
        m = re.match(r"^\s*(\d+)\s+\S+\s+([A-Za-z])\s+[\d.]+\s+\S+\s+(?:├─|└─|\|-|`-)\s+(\S+)", line)
        if m:
            out.append((int(m.group(1)), m.group(2), m.group(3)))
    return out


def pids_of(rows):
    return [int(r[0]) for r in rows]


def test_sort_by_res_with_M(spawn, tui):
    hogs = [spawn("memhog", mib) for mib in (24, 72, 48)]
    s = tui("-s", "cpu", "-p", ",".join(str(h.pid) for h in hogs))
    s.keys("M")
    screen = s.wait_for(lambda text: "sort RES desc" in text, what="sort by RES")
    header, rows = table(screen)
    res = header.index("RES")
    values = [kib(r[res]) for r in rows]
    assert len(values) == 3
    assert values == sorted(values, reverse=True)
    assert pids_of(rows) == [hogs[1].pid, hogs[2].pid, hogs[0].pid]
    # Each hog holds at least what it touched.
    assert values[0] >= 72 * 1024 and values[2] >= 24 * 1024
    # I inverts the order.
    s.keys("I")
    screen = s.wait_for("sort RES asc")
    assert pids_of(table(screen)[1]) == [hogs[0].pid, hogs[2].pid, hogs[1].pid]


def test_sort_keys_and_column_chooser(spawn, tui):
    p = spawn("sleeper")
    s = tui("-p", p.pid)
    for key, header in (("P", "CPU%"), ("T", "TIME+"), ("M", "RES"), (">", "SHR"), ("<", "RES")):
        s.keys(key)
        s.wait_for(f"sort {header} ")
    s.keys("F6")
    s.wait_for("v Show/hide  Esc Close")
    s.keys("Home", "Enter")  # the first column is PID
    s.wait_for("sort PID ")
    # Hide the SHR column through the chooser; the header loses it.
    s.keys("F6")
    s.wait_for("v Show/hide  Esc Close")
    s.keys("Home", *["Down"] * 11, "v", "Escape")  # SHR is the 12th column of the chooser
    screen = s.wait_for(lambda text: "v Show/hide" not in text and " SHR " not in text, what="SHR hidden")
    assert "DATA" in table(screen)[0]


def test_threads_rows_with_states(spawn, tui):
    p = spawn("thread_states", 4)
    fields = dict(kv.split("=") for kv in p.ready_line.split()[1:])
    busy = int(fields["busy"])
    sleeping = {int(t) for t in fields["sleeping"].split(",")}
    s = tui("-p", p.pid)
    s.keys("H")
    screen = s.wait_for(lambda text: len(thread_rows(text)) >= 5, what="5 thread rows")
    rows = {tid: (state, name) for tid, state, name in thread_rows(screen)}
    assert rows[busy] == ("R", "busy")
    for tid in sleeping:
        assert rows[tid][0] == "S"
    # The process row comes first, its threads under it.
    lines = screen.split("\n")
    proc_line = next(i for i, line in enumerate(lines) if re.match(rf"^\s*{p.pid}\s", line))
    assert all(re.search(r"├─|└─", lines[proc_line + k]) for k in range(1, 6))
    # H again hides them.
    s.keys("H")
    s.wait_for(lambda text: not thread_rows(text), what="thread rows gone")


def test_search_jumps_to_match(spawn, tui):
    p = spawn("sleeper")
    # Only this sleeper and init: other sleepers on a shared machine come and go.
    s = tui("-p", f"1,{p.pid}")
    s.keys("/")
    s.type("sleeper")
    s.wait_for("Search: sleeper_   Enter Keep  Esc Cancel")  # hints from the key table
    s.keys("Enter")   # keep the search
    s.keys("Enter")   # detail view of the selected (found) process
    s.wait_for(f"Detail of {p.pid} (sleeper)")
    # A single-threaded process lists itself as its one thread.
    s.wait_for(lambda text: re.search(rf"^\s+{p.pid} S\s+[\d.]+\s+\S+\s+sleeper$", text, re.M),
               what="the one thread row")


def test_search_next_and_no_match(spawn, tui):
    a = spawn("sleeper")
    b = spawn("sleeper")
    s = tui("-s", "pid", "-p", f"{a.pid},{b.pid}")
    s.keys("/")
    s.type("sleeper")
    s.keys("Enter")
    s.keys("n", "Enter")
    screen = s.wait_for("Detail of")
    first = int(re.search(r"Detail of (\d+)", screen).group(1))
    assert first in (a.pid, b.pid)
    s.keys("q", "n", "Enter")
    screen = s.wait_for(lambda text: "Detail of" in text and f"Detail of {first} " not in text,
                        what="the other sleeper")
    assert int(re.search(r"Detail of (\d+)", screen).group(1)) in (a.pid, b.pid)
    s.keys("q", "/")
    s.type("no-such-process-name")
    s.wait_for("(no match)")


def test_filter_by_name(spawn, tui):
    p = spawn("sleeper")
    s = tui()
    s.keys("\\")
    s.type("sleeper")
    s.keys("Enter")
    screen = s.wait_for("filter 'sleeper'")
    _, rows = table(screen)
    assert p.pid in pids_of(rows)
    assert all("sleeper" in " ".join(r) for r in rows)
    # Esc in the filter line clears it: other processes come back.
    s.keys("\\", "Escape")
    screen = s.wait_for(lambda text: "filter '" not in text and len(table(text)[1]) > len(rows),
                        what="filter cleared")


def test_detail_view(spawn, tui):
    p = spawn("thread_states", 3)
    s = tui("-p", p.pid)
    s.keys("Enter")
    screen = s.wait_for(lambda text: "TID S" in text and re.search(r"^\s+\d+ R ", text, re.M),
                        what="detail with thread list")
    assert f"Detail of {p.pid} (thread_states)" in screen
    for label in ("RES", "CPU%", "Threads"):
        assert re.search(rf"^{re.escape(label)}\s", screen, re.M), label
    assert "samples" in screen  # sparklines from the history
    states = re.findall(r"^\s+(\d+) ([A-Z]) ", screen, re.M)
    assert len(states) == 5  # main + busy + 3 sleepers
    s.keys("Escape")
    s.wait_for("PID USER")


def test_help_lists_every_key(tui):
    s = tui()
    s.keys("?")
    needles = ("Process table", "sort by resident memory (RES)", "sort by CPU%", "invert the sort order",
               "incremental search", "filter:", "show/hide threads", "detail view",
               "stack view", "q F10", "? F1 h", "F6 F2", "PgUp")
    # The whole help page, not a frame tmux caught half-drawn.
    screen = s.wait_for(lambda text: all(n in text for n in needles), what="the help page")
    for needle in needles:
        assert needle in screen, needle
    s.keys("End")
    screen = s.wait_for("Help (?, F1)")
    for needle in ("re-take", "switch grouping", "save the dump", "close the chooser"):
        assert needle in screen, needle
    s.keys("q")
    s.wait_for("PID USER")


def test_resize_redraws(tui):
    s = tui(width=200, height=50)
    assert "Quit" in s.lines()[49]
    s.resize(100, 30)
    screen = s.wait_for(lambda text: len(text.rstrip("\n").split("\n")) == 30
                        and "Quit" in text.rstrip("\n").split("\n")[-1], what="status line at row 30")
    for line in screen.split("\n"):
        assert len(line) <= 100
    # The CPU meter is redrawn for the new width: closed within the left half.
    cpu = screen.split("\n")[0]
    assert cpu.startswith("CPU[") and 40 < cpu.index("]") < 50
    s.resize(160, 45)
    s.wait_for(lambda text: "Quit" in text.rstrip("\n").split("\n")[-1]
               and len(text.rstrip("\n").split("\n")) == 45, what="status line at row 45")


@pytest.mark.parametrize("how", ["q", "F10", "C-c"])
def test_quit_leaves_terminal_usable(xdg, tmp_path, how):
    env = {"XDG_CONFIG_HOME": str(xdg), "PS1": "$ ", "LANG": "C.UTF-8"}
    s = TuiSession(["bash", "--norc", "--noprofile", "-i"], env=env, cwd=tmp_path)
    try:
        s.wait_for("$")
        s.type(f"{STACKTOP_BIN} -d 0.5")
        s.keys("Enter")
        s.wait_for("PID USER")
        s.keys(how)
        s.wait_for(lambda text: "PID USER" not in text, what="the monitor gone")
        s.type("echo ok-$((1+1))")
        s.keys("Enter")
        screen = s.wait_for("ok-2")
        # Echo is back on (the command line itself is visible) and the shell prompt returns.
        assert "echo ok-$((1+1))" in screen
        assert (xdg / "stacktop" / "stacktoprc").exists()
    finally:
        s.close()


def test_settings_are_remembered(spawn, tui, xdg):
    p = spawn("sleeper")
    s = tui("-p", p.pid)
    s.keys("P", "I")
    s.wait_for("sort CPU% asc")
    s.keys("q")
    s.wait_for(lambda text: s.pane_dead(), what="exit")
    rc = (xdg / "stacktop" / "stacktoprc").read_text()
    assert "sort_column=cpu" in rc and "sort_invert=1" in rc
    s2 = tui("-p", p.pid)
    s2.wait_for("sort CPU% asc")
    # The command line wins over the rc file.
    s3 = tui("-p", p.pid, "-s", "time")
    s3.wait_for("sort TIME+ desc")


def test_bad_rc_file_is_reported_not_fatal(spawn, tui, xdg):
    p = spawn("sleeper")
    (xdg / "stacktop").mkdir()
    rc = xdg / "stacktop" / "stacktoprc"
    rc.write_text("sort_column=time\nthis is not a setting\n")
    s = tui("-p", p.pid)
    screen = s.wait_for("expected key=value")
    assert f"{rc}:2: expected key=value" in screen
    s.wait_for("sort TIME+ desc")  # the good line still applies


def test_stack_view(spawn, tui, tmp_path):
    p = spawn("stack_groups")
    total = int(p.ready_line.split()[1])
    s = tui("-p", p.pid, cwd=tmp_path)
    s.keys("s")
    screen = s.wait_for(f"thread profile: total {total}", timeout=30)
    # One line per group: count, state mix, top user function with file:line.
    assert re.search(r"^\+\s+40\s+S×40\s+park_on_condvar stack_groups\.c:\d+", screen, re.M)
    assert re.search(r"target stopped [\d.]+ ms", screen)
    assert "PID USER" in screen  # the table keeps running above the dump
    # Scroll to the end: the other groups are there.
    s.keys("End")
    screen = s.wait_for("block_on_pipe")
    # Switch grouping: re-taken, grouped by function.
    s.keys("g")
    s.wait_for("grouped by function;", timeout=30)
    # Save: the status line names the file, which holds the dump.
    s.keys("w")
    screen = s.wait_for("saved the stack dump to")
    path = re.search(r"saved the stack dump to (\S+)", screen).group(1)
    assert os.path.dirname(path) == str(tmp_path)
    assert re.match(rf"stacktop-{p.pid}-\d{{8}}-\d{{6}}\.txt$", os.path.basename(path))
    with open(path) as f:
        assert f"thread profile: total {total}" in f.read()
    s.keys("r", "Home")
    s.wait_for(lambda text: f"thread profile: total {total}" in text and "taking stack dump" not in text,
               timeout=30, what="the re-taken dump")
    s.keys("q")
    s.wait_for(lambda text: "thread profile" not in text, what="back to the table")


def test_stack_view_error_keeps_ui(spawn, tui):
    """A dump that fails (a kernel thread has no user stack) shows its message
    and the monitor carries on."""
    s = tui("-p", "2")
    s.keys("s")
    screen = s.wait_for(lambda text: re.search(r"kernel thread|no user stack", text, re.I), timeout=30,
                        what="the dump error")
    assert "PID USER" in screen or "Stacks of 2" in screen
    s.keys("q", "M")
    s.wait_for("sort RES desc")


def test_no_terminal_is_a_clear_error(tmp_path):
    """Without a terminal the monitor says so (and points to batch mode)."""
    r = subprocess.run([STACKTOP_BIN, "-d", "0.5"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=30, env={"XDG_CONFIG_HOME": str(tmp_path), "TERM": "xterm", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 1
    assert r.stderr.splitlines() == ["stacktop: the monitor needs a terminal on stdin and stdout; use -b for batch mode"]
    assert "\x1b" not in r.stdout


def test_narrow_terminal_keeps_command_visible(spawn, tui):
    """At 80 columns (a plain SSH terminal) the fixed columns would push
    COMMAND off the screen: the least useful ones give way, in a fixed order,
    and come back when the window is wide again."""
    p = spawn("sleeper")
    s = tui("-p", p.pid, width=80, height=20)
    screen = s.wait_for(lambda text: f" {p.pid} " in text, what="the fixture's row")
    header = next(line for line in screen.split("\n") if "PID USER" in line).split()
    assert header == ["PID", "USER", "S", "THR", "CPU%", "MEM%", "RES", "RGROW", "TIME+", "COMMAND"]
    row = next(line for line in screen.split("\n") if line.split()[:1] == [str(p.pid)])
    command = row.split()[-1]
    assert len(command) >= 20 and p.argv[0].startswith(command), row
    s.resize(200, 20)
    screen = s.wait_for(lambda text: "DATA" in text, what="all columns after widening")
    header = next(line for line in screen.split("\n") if "PID USER" in line).split()
    assert header == ["PID", "USER", "S", "THR", "CPU%", "MEM%", "VIRT", "RES", "SHR", "DATA", "RGROW",
                      "TIME+", "COMMAND"]


def test_stack_save_does_not_follow_planted_symlinks(spawn, tui, tmp_path):
    """Root saving a dump in a shared directory (say /tmp) must not follow a
    symlink planted at the predictable file name, and the dump, which shows a
    process's internals, must not be readable by others."""
    p = spawn("sleeper")
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    now = time.time()
    for dt in range(0, 120):
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now + dt))
        os.symlink(victim, tmp_path / f"stacktop-{p.pid}-{stamp}.txt")
    s = tui("-p", p.pid, cwd=tmp_path)
    s.keys("s")
    s.wait_for("thread profile: total", timeout=30)
    s.keys("w")
    screen = s.wait_for(lambda text: "the stack dump to" in text, what="the save message")
    assert victim.read_text() == "precious\n"
    assert "cannot save the stack dump" in screen
    for link in tmp_path.glob(f"stacktop-{p.pid}-*.txt"):
        os.unlink(link)
    s.keys("w")
    screen = s.wait_for("saved the stack dump to")
    path = re.search(r"saved the stack dump to (\S+)", screen).group(1)
    assert os.stat(path).st_mode & 0o077 == 0
