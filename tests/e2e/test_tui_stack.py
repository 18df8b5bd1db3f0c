"""The stack view as a navigator, through tmux: one line per group, opened
with Enter, jumps between groups, search in the frames, paging by the
screen's height, horizontal scrolling, Esc back to where it was opened
from, and a process that exits or whose pid is reused meanwhile."""
import os
import re
import signal
import time

import pytest

from conftest import FixtureProcess, assert_not_stopped_or_traced, fixture_path
from tui_session import row_of

GROUP_RE = re.compile(r"^([+-])\s+(\d+)\s+(\S+)\s+(.*)$")


def groups(screen):
    """(marker, count, states, top) of every group line on the screen."""
    out = []
    for line in screen.split("\n"):
        m = GROUP_RE.match(line.rstrip())
        if m and "×" in m.group(3):
            out.append((m.group(1), int(m.group(2)), m.group(3), m.group(4)))
    return out


def open_stacks(tui, fixture, *args, **kw):
    s = tui("-p", fixture.pid, *args, **kw)
    s.keys("s")
    s.wait_for(lambda text: "thread profile: total" in text and groups(text), timeout=30, what="the dump")
    return s


def test_groups_are_one_line_each_and_open_with_enter(spawn, tui):
    p = spawn("stack_groups")
    s = open_stacks(tui, p)
    found = groups(s.screen())
    assert [g[1] for g in found] == [40, 12, 5, 1]
    assert all(g[0] == "+" for g in found)
    assert found[0][2] == "S×40" and re.match(r"park_on_condvar stack_groups\.c:\d+$", found[0][3])
    assert re.match(r"nap_forever stack_groups\.c:\d+$", found[1][3])
    assert "pthread_cond_wait" not in s.screen()
    # Enter opens the group under the cursor (the first): members and frames.
    s.keys("Enter")
    screen = s.wait_for("pthread_cond_wait")
    assert re.search(r"^\s+threads \d+ \d+ \d+ \.\.\. \d+ \(names: parker\)", screen, re.M)
    assert re.search(r"park_on_condvar\+0x[0-9a-f]+\s+\S*stack_groups\.c:\d+", screen)
    assert groups(screen)[0][0] == "-"
    # Tab jumps to the next group line; Enter opens that one.
    s.keys("Tab", "Enter")
    screen = s.wait_for(lambda text: [g[0] for g in groups(text)][:2] == ["-", "-"], what="second group open")
    assert re.search(r"nanosleep|clock_nanosleep", screen)
    # - closes it again, * opens all, * again closes all.
    s.keys("-")
    s.wait_for(lambda text: [g[0] for g in groups(text)][:2] == ["-", "+"], what="second group closed")
    s.keys("*")
    s.wait_for(lambda text: [g[0] for g in groups(text)] == ["-"] * 4, what="all open")
    s.keys("*")
    s.wait_for(lambda text: [g[0] for g in groups(text)] == ["+"] * 4, what="all closed")


def test_search_in_frames(spawn, tui):
    p = spawn("stack_groups")
    s = open_stacks(tui, p)
    s.keys("/")
    s.type("block_on")
    s.keys("Enter")
    screen = s.wait_for(lambda text: [g[1] for g in groups(text) if g[0] == "-"] == [5], what="the pipe group open")
    assert re.search(r"\bread\b|__libc_read|block_on_pipe\+", screen)
    # n: the next group that matches (the only one: it stays); a miss says so.
    s.keys("/")
    s.type("no_such_function")
    s.wait_for("(no match)")
    s.keys("Escape", "/")
    s.type("PTHREAD_COND")  # any case
    s.keys("Enter")
    # The group an accepted search opened stays open.
    s.wait_for(lambda text: [g[1] for g in groups(text) if g[0] == "-"] == [40, 5], what="the condvar group open")
    # Esc while searching closes what the search had opened.
    s.keys("/")
    s.type("nap_forever")
    s.wait_for(lambda text: [g[1] for g in groups(text) if g[0] == "-"] == [40, 12, 5], what="nap_forever open")
    s.keys("Escape")
    s.wait_for(lambda text: [g[1] for g in groups(text) if g[0] == "-"] == [40, 5], what="nap_forever closed")


def navigator_lines(screen):
    """The lines of the dump after the view's title and timing line."""
    lines = screen.rstrip("\n").split("\n")
    title = next(i for i, line in enumerate(lines) if line.startswith("Stacks of"))
    return [line.rstrip() for line in lines[title + 2:-1]]


def test_page_down_moves_by_the_screen_height(spawn, tui):
    """At 80x24 a page is the lines on screen: PgDn shows the lines right
    after the last one shown, none skipped (it used to move 20 lines)."""
    p = spawn("stack_groups")
    # Every line of the opened dump, from a screen tall enough for all of it.
    tall = open_stacks(tui, p, width=80, height=200)
    tall.keys("*")
    full = navigator_lines(tall.wait_for(lambda text: [g[0] for g in groups(text)] == ["-"] * 4, what="all open"))
    full = [line for line in full if line]
    s = open_stacks(tui, p, width=80, height=24)
    s.keys("*")
    first = navigator_lines(s.wait_for(lambda text: [g[0] for g in groups(text)][:1] == ["-"], what="all open"))
    page = len(first)
    assert first == full[:page]
    s.keys("PageDown")
    second = navigator_lines(s.wait_for(lambda text: "thread profile:" not in text, what="the next page"))
    # The next page starts right after the last line shown (the last page
    # ends at the last line, so it may start a little earlier): none skipped.
    start = min(page, len(full) - page)
    assert len(full) > page and second == full[start:start + page]
    s.keys("PageUp")
    assert navigator_lines(s.wait_for("thread profile:")) == first


def test_esc_returns_to_where_the_stack_view_was_opened(spawn, tui):
    p = spawn("stack_groups")
    s = tui("-p", p.pid)
    s.keys("Enter")
    s.wait_for(f"Detail of {p.pid} (stack_groups)")
    s.keys("s")
    s.wait_for("thread profile: total", timeout=30)
    s.keys("Escape")
    s.wait_for(lambda text: f"Detail of {p.pid}" in text and "thread profile" not in text, what="the detail view")
    s.keys("Escape")
    s.wait_for(lambda text: "PID USER" in text and "Detail of" not in text, what="the table")
    s.keys("s")
    s.wait_for("thread profile: total", timeout=30)
    s.keys("Escape")
    s.wait_for(lambda text: "thread profile" not in text and "Detail of" not in text, what="the table again")


def test_horizontal_scroll_in_the_stack_view(spawn, tui):
    """At 80 columns a frame's file:line is past the edge; Right brings it in."""
    p = spawn("stack_groups")
    s = open_stacks(tui, p, width=80, height=30)
    s.keys("Enter")
    screen = s.wait_for("pthread_cond_wait")
    frame = next(line for line in screen.split("\n") if "park_on_condvar+" in line)
    assert not re.search(r"stack_groups\.c:\d+", frame), frame  # cut at the edge
    for _ in range(40):
        s.keys("Right")
        if re.search(r"stack_groups\.c:\d+", s.screen()):
            break
    screen = s.wait_for(lambda text: re.search(r"stack_groups\.c:\d+\s*$", text, re.M), what="file:line")
    s.keys(*["Left"] * 40)
    s.wait_for(lambda text: any(line.startswith("thread profile:") for line in text.split("\n")), what="back left")


def test_exit_is_shown_and_retake_refused(spawn, tui):
    p = spawn("stack_groups")
    s = open_stacks(tui, p)
    p.proc.kill()
    p.proc.wait()
    s.wait_for(f"process {p.pid} has exited; this dump was taken at")
    # The dump stays readable.
    assert groups(s.screen())
    s.keys("r")
    s.wait_for(f"process {p.pid} has exited: nothing to re-take")


def spawn_with_pid(pid, attempts=200):
    """A sleeper that gets `pid` (as root, through ns_last_pid): the pid
    reused by another process, as a busy machine does by itself."""
    for _ in range(attempts):
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(pid - 1))
        fp = FixtureProcess([fixture_path("sleeper")])
        if fp.pid == pid:
            return fp
        fp.kill()
    pytest.fail(f"could not start a process with pid {pid}")


@pytest.mark.skipif(os.geteuid() != 0, reason="ns_last_pid needs root")
def test_reused_pid_is_not_dumped_under_the_old_title(spawn, tui):
    p = spawn("stack_groups")
    s = open_stacks(tui, p)
    pid = p.pid
    p.proc.kill()
    p.proc.wait()
    s.wait_for(f"process {pid} has exited")
    other = spawn_with_pid(pid)
    try:
        # Once the monitor has seen the newcomer (the table above the dump lists it):
        s.wait_for(lambda text: "sleeper" in (row_of(text, pid) or ""), what="the new process with the old pid")
        s.keys("r")
        s.wait_for(f"pid {pid} now names another process: not re-taking")
        assert "Stacks of %d (stack_groups)" % pid in s.screen()
        assert_not_stopped_or_traced(other.pid)
    finally:
        other.kill()


GO_GROUP_RE = re.compile(r"^([+-])\s+(\d+)\s+(.+?×\d+(?: \S+×\d+)*)\s+(\S+) (\S+):(\d+)\s*$")


def goroutine_groups(screen):
    """(marker, count, states, function, file, line) of goroutine group lines."""
    out = []
    for line in screen.split("\n"):
        m = GO_GROUP_RE.match(line.rstrip())
        if m:
            out.append((m.group(1), int(m.group(2)), m.group(3), m.group(4), m.group(5), int(m.group(6))))
    return out


def reported_goroutines(p):
    os.kill(p.pid, signal.SIGUSR1)
    line = p.wait_line(r"^goroutines \d+", timeout=20)
    assert line, "goleak did not report its goroutines"
    return int(line.split()[1])


def test_go_program_opens_on_its_goroutines_and_t_switches_to_threads(spawn, tui):
    """A Go service leaking goroutines: the view opens on the goroutine
    profile, the leaked watchers one group (chan receive) whose count lies
    between what the program reported of itself before and after; t shows
    its threads and back."""
    p = spawn("goleak", "200")
    deadline = time.monotonic() + 30
    while reported_goroutines(p) < 60 and time.monotonic() < deadline:
        time.sleep(0.1)
    s = tui("-p", p.pid)
    before = reported_goroutines(p)
    s.keys("s")
    screen = s.wait_for(lambda text: "goroutine profile: total" in text and goroutine_groups(text), timeout=30,
                        what="the goroutine profile")
    after = reported_goroutines(p)
    assert f"Goroutines of {p.pid} (goleak)" in screen and "(t: threads)" in screen
    leak = [g for g in goroutine_groups(screen) if g[3] == "main.watchConnection"]
    assert len(leak) == 1, screen
    marker, count, states, _, file, _ = leak[0]
    assert states == f"chan receive×{count}" and file == "main.go"
    assert before - 10 <= count <= after, (before, count, after)
    total = int(re.search(r"goroutine profile: total (\d+)", screen).group(1))
    assert before - 10 <= total <= after + 2
    # Open the leak's group: goroutine ids and Go's frames.
    s.type("/watchConnection")
    s.keys("Enter")
    screen = s.wait_for(lambda text: re.search(r"^\s+goroutines \d+ \d+ \d+ \.\.\. \d+", text, re.M), what="members")
    assert re.search(r"main\.watchConnection\+0x[0-9a-f]+\s+\S*main\.go:\d+", screen)
    # t: the threads; t again: the goroutines.
    s.keys("t")
    screen = s.wait_for("thread profile: total", what="the threads")
    assert f"Stacks of {p.pid} (goleak)" in screen and "(t: goroutines)" in screen
    assert "goroutine profile" not in screen
    # A re-take stays on the threads.
    s.keys("r")
    s.wait_for(lambda text: "thread profile: total" in text and "taking stack dump" not in text, timeout=30,
               what="the re-taken dump")
    assert "goroutine profile" not in s.screen()
    s.keys("t")
    s.wait_for("goroutine profile: total", what="the goroutines again")
    assert_not_stopped_or_traced(p.pid)


def test_t_on_a_c_program_says_it_has_threads_only(spawn, tui):
    p = spawn("stack_groups")
    s = open_stacks(tui, p)
    s.keys("t")
    s.wait_for("is not a Go program: it has threads only")
    assert "thread profile: total" in s.screen()
