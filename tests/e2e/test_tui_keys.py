"""The monitor's htop keys, driven through tmux as a person uses them: kill
with a signal list and a question, renice, tags, the tree (a child and a
zombie under their parent), kernel threads hidden, the user list, pause and
the delay, follow, the mouse, horizontal scrolling, the extra columns, text
(wide and hostile names, UTF-8 typing, wide numbers) and the settings rule."""
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import STACKTOP_BIN, fixture_path
from tui_session import row_cells, row_of, table

NAME_HEX = "睡眠进程".encode().hex()


def nice_of(pid, tid=None):
    path = f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat"
    with open(path) as f:
        return int(f.read().rsplit(")", 1)[1].split()[16])


def tids(pid):
    return [int(t) for t in os.listdir(f"/proc/{pid}/task")]


def wait_exit(proc, timeout=15):
    """The fixture's exit status (negative: killed by that signal)."""
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"pid {proc.pid} still running after {timeout}s")


# ---- acting on processes


def test_kill_asks_then_sends_sigterm(spawn, tui):
    p = spawn("sleeper")
    s = tui("-p", p.pid)
    s.keys("k")
    screen = s.wait_for("Send signal to")
    assert f"Send signal to {p.pid} (sleeper)" in screen
    # SIGTERM is preselected; Enter asks first, n sends nothing.
    s.keys("Enter")
    s.wait_for(f"Send SIGTERM to {p.pid} (sleeper)?")
    s.keys("n")
    s.wait_for("nothing sent")
    assert p.proc.poll() is None
    s.keys("F9", "Enter")
    s.wait_for(f"Send SIGTERM to {p.pid} (sleeper)?")
    s.keys("y")
    s.wait_for(f"sent SIGTERM to {p.pid} (sleeper)")
    assert wait_exit(p.proc) == -signal.SIGTERM


def test_kill_tagged_processes_with_another_signal(spawn, tui):
    a, b, keep = spawn("sleeper"), spawn("sleeper"), spawn("sleeper")
    s = tui("-s", "pid", "-p", f"{a.pid},{b.pid},{keep.pid}")
    s.keys("Home")
    # Space tags and moves down: the two lowest pids (sorted by pid, descending).
    ordered = sorted([a, b, keep], key=lambda f: -f.pid)
    s.keys("Space", "Space")
    s.wait_for("2 tagged")
    s.keys("k")
    s.wait_for("Send signal to 2 tagged processes:")
    s.keys("Down")  # SIGKILL follows SIGTERM in the list
    s.keys("Enter")
    s.wait_for("Send SIGKILL to 2 tagged processes")
    s.keys("y")
    s.wait_for("sent SIGKILL to 2 processes")
    for f in ordered[:2]:
        assert wait_exit(f.proc) == -signal.SIGKILL
    assert ordered[2].proc.poll() is None
    s.keys("U")
    s.wait_for("nothing tagged")


def test_renice_changes_every_thread(spawn, tui):
    p = spawn("thread_states", 3)
    before = nice_of(p.pid)
    s = tui("-p", p.pid)
    s.keys("F8")
    s.wait_for(f"nice of {p.pid} (thread_states) is now {before + 1}")
    assert all(nice_of(p.pid, t) == before + 1 for t in tids(p.pid))
    s.keys("[")
    s.wait_for(f"is now {before + 2}")
    # Higher priority again: root may, others are told why not.
    s.keys("F7")
    if os.geteuid() == 0:
        s.wait_for(f"is now {before + 1}")
        assert all(nice_of(p.pid, t) == before + 1 for t in tids(p.pid))
    else:
        s.wait_for("needs root")


def test_kill_error_is_on_the_status_line(spawn, tui):
    """A process that is gone by the time the answer comes: ESRCH, said."""
    p = spawn("sleeper")
    s = tui("-p", p.pid, "-d", "60")
    s.keys("k", "Enter")
    s.wait_for("Send SIGTERM")
    p.proc.kill()
    p.proc.wait()
    s.keys("y")
    s.wait_for(f"process {p.pid} has exited")


# ---- seeing


def test_tree_shows_child_and_zombie_under_their_parent(spawn, tui):
    fam = spawn("family")
    ids = dict(kv.split("=") for kv in fam.ready_line.split()[1:])
    child, zombie = int(ids["child"]), int(ids["zombie"])
    s = tui("-p", f"{fam.pid},{child},{zombie}")
    s.keys("t")
    screen = s.wait_for(lambda text: "  tree" in text and row_of(text, zombie), what="the tree")
    lines = screen.split("\n")
    parent = next(i for i, line in enumerate(lines) if line.split()[:1] == [str(fam.pid)])
    below = lines[parent + 1:parent + 3]
    by_pid = {int(line.split()[0]): line for line in below}
    assert set(by_pid) == {child, zombie}, below
    # Indented under the parent with branch lines; the zombie in state Z
    # (a zombie has no command line: its name in brackets).
    assert re.search(r"[├└]─ \S*/family$", by_pid[child]), by_pid[child]
    assert re.search(r"└─ \[family-zombie\]$", by_pid[zombie]) or \
        re.search(r"├─ \[family-zombie\]$", by_pid[zombie]), by_pid[zombie]
    assert row_cells(screen, zombie)["S"] == "Z"
    command_x = lines[parent].index("/")
    for line in below:
        assert line.index("─ ") == command_x + 1, (lines[parent], line)
    # - folds the parent's subtree, + opens it again.
    s.keys("Home", "-")
    screen = s.wait_for(lambda text: not row_of(text, zombie), what="folded")
    assert "+ " in row_of(screen, fam.pid)
    s.keys("+")
    s.wait_for(lambda text: row_of(text, zombie) and row_of(text, child), what="unfolded")


def test_K_shows_and_hides_kernel_threads(tui):
    s = tui()
    s.keys("F4")
    s.type("kthreadd")
    s.keys("Enter")
    screen = s.wait_for("filter 'kthreadd'")
    assert "[kthreadd]" not in screen  # hidden by default, as in htop
    s.keys("K")
    screen = s.wait_for("[kthreadd]")
    assert row_of(screen, 2)
    s.keys("K")
    s.wait_for(lambda text: "[kthreadd]" not in text, what="kthreadd hidden again")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to start a process as another user")
def test_u_shows_one_users_processes(tui, tmp_path):
    nobody = subprocess.Popen([fixture_path("sleeper")], stdout=subprocess.PIPE, text=True,
                              start_new_session=True, preexec_fn=lambda: os.setuid(65534))
    try:
        assert nobody.stdout.readline().startswith("ready")
        s = tui()
        s.keys("u")
        screen = s.wait_for("Show processes of:")
        assert "All users" in screen and "nobody" in screen and "root" in screen
        # Users are listed by name after "All users": nobody comes before root.
        s.keys("Down")
        s.keys("Enter")
        screen = s.wait_for(lambda text: "user nobody" in text and row_of(text, nobody.pid), what="nobody's rows")
        _, rows = table(screen)
        assert rows and all(r[1] == "nobody" for r in rows)
        s.keys("u", "Home", "Enter")
        s.wait_for(lambda text: "user nobody" not in text and len(table(text)[1]) > len(rows), what="all users")
    finally:
        nobody.kill()
        nobody.wait()
        nobody.stdout.close()


def time_of(screen, pid):
    cells = row_cells(screen, pid)
    return cells["TIME+"] if cells else None


def test_pause_stops_refreshing_and_the_delay_changes_live(spawn, tui, xdg):
    busy = spawn("busy", 1)
    s = tui("-p", busy.pid)
    s.wait_for(lambda text: time_of(text, busy.pid) not in (None, "0:00.00"), what="a refresh")
    s.keys("Z")
    paused = s.wait_for("PAUSED")
    frozen = time_of(paused, busy.pid)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        assert time_of(s.screen(), busy.pid) == frozen
        time.sleep(0.2)
    s.keys("Z")
    s.wait_for(lambda text: time_of(text, busy.pid) != frozen, what="refreshing again")
    s.keys("d")
    s.wait_for("Delay (seconds): 0.5_")
    s.keys("BSpace", "BSpace", "BSpace")
    s.type("0.25")
    s.keys("Enter")
    s.wait_for("refreshing every 0.25 s")
    s.keys("d")
    s.type("x")
    s.keys("Enter")
    s.wait_for("invalid delay")
    s.keys("q")
    s.wait_for(lambda text: s.pane_dead(), what="exit")
    # A key changed the delay: it is saved (unlike -d).
    assert "delay=0.25" in (xdg / "stacktop" / "stacktoprc").read_text()


def test_follow_keeps_the_process_selected(spawn, tui):
    a, b = spawn("sleeper"), spawn("sleeper")
    s = tui("-s", "pid", "-p", f"{a.pid},{b.pid}")
    s.keys("Home", "F")
    s.wait_for(f"following {max(a.pid, b.pid)} (sleeper)")
    s.keys("F")
    s.wait_for("not following")


def test_mouse_click_sorts_and_selects(spawn, tui):
    a, b = spawn("memhog", 16), spawn("memhog", 48)
    s = tui("-p", f"{a.pid},{b.pid}")
    screen = s.wait_for("sort RES desc")
    lines = screen.split("\n")
    header_y = next(i for i, line in enumerate(lines) if "PID USER" in line)
    s.click(lines[header_y].index("TIME+") + 2, header_y)
    s.wait_for("sort TIME+ desc")
    s.click(lines[header_y].index("TIME+") + 2, header_y)
    s.wait_for("sort TIME+ asc")  # the sort column again: inverted, as in htop
    s.click(lines[header_y].index("PID") - 2, header_y)
    screen = s.wait_for("sort PID desc")
    # A click on a row selects it: Enter opens that process.
    second = header_y + 2
    pid = int(screen.split("\n")[second].split()[0])
    s.click(5, second)
    s.keys("Enter")
    s.wait_for(f"Detail of {pid} (memhog)")


def test_horizontal_scroll_shows_the_end_of_long_command_lines(spawn, tui):
    p = spawn("sleeper", "x" * 60, "END-OF-THE-COMMAND-LINE")
    s = tui("-p", p.pid, width=80, height=20)
    screen = s.wait_for(lambda text: row_of(text, p.pid), what="the row")
    assert "END-OF-THE" not in screen
    for _ in range(40):
        s.keys("Right")
        if "END-OF-THE-COMMAND-LINE" in s.screen():
            break
    screen = s.wait_for("END-OF-THE-COMMAND-LINE")
    assert not row_of(screen, p.pid)  # the pid scrolled off to the left
    # No further than the longest line: the end stays in view.
    s.keys(*["Right"] * 10)
    time.sleep(0.3)
    assert "END-OF-THE-COMMAND-LINE" in s.wait_for("END-OF-THE-COMMAND-LINE")
    s.keys("Home", *["Left"] * 60)
    s.wait_for(lambda text: row_of(text, p.pid) and "END-OF" not in text, what="scrolled back")


def chooser_show(s, *headers):
    """Shows columns through the F6 chooser (its lines list every column)."""
    s.keys("F6")
    screen = s.wait_for("v Show/hide  Esc Close")
    names = [m.group(1) for m in re.finditer(r"\[[x ]\] (\S+)", screen)]
    for h in headers:
        s.keys("Home", *["Down"] * names.index(h), "v")
    s.keys("Escape")
    s.wait_for(lambda text: "v Show/hide" not in text and all(f" {h} " in text or text.count(h) > 1
                                                                 for h in headers), what="the chooser closed")


def test_extra_columns_match_proc(spawn, tui, tmp_path, xdg):
    w = spawn("writer", tmp_path / "out.bin", 1024)
    s = tui("-p", w.pid)
    chooser_show(s, "PPID", "NI", "CPU#", "IOWR/s", "FDS", "START", "WCHAN")
    # Rates need two reads: wait for a figure.
    screen = s.wait_for(lambda text: (row_cells(text, w.pid) or {}).get("IOWR/s", "") not in ("", "0K"),
                        what="a write rate")
    cell = row_cells(screen, w.pid)
    with open(f"/proc/{w.pid}/stat") as f:
        stat = f.read().rsplit(")", 1)[1].split()
    assert int(cell["PPID"]) == int(stat[1]) == os.getpid()
    assert int(cell["NI"]) == int(stat[16])
    assert 0 <= int(cell["CPU#"]) < os.cpu_count()
    assert int(cell["FDS"]) == len(os.listdir(f"/proc/{w.pid}/fd"))
    assert re.fullmatch(r"\d\d:\d\d", cell["START"]), cell
    # 1 MiB/s written: the rate is of that order (the machine may be busy).
    rate = float(cell["IOWR/s"][:-1]) * {"K": 1, "M": 1024}[cell["IOWR/s"][-1]]
    assert 256 <= rate <= 4096, cell["IOWR/s"]
    # The chooser is a key: the columns shown are remembered.
    quit_and_wait(s)
    assert "iowrite" in rc_text(xdg)


# ---- text


def test_wide_name_intact_and_found_by_typing_it(spawn, tui):
    p = spawn("named", NAME_HEX)
    other = spawn("sleeper")
    s = tui("-s", "pid", "-p", f"1,{other.pid},{p.pid}")
    s.keys("/")
    s.type("眠进")
    s.wait_for("Search: 眠进_")
    s.keys("Enter", "Enter")
    screen = s.wait_for(f"Detail of {p.pid} (睡眠进程)")
    assert "????" not in screen
    # Backspace removes a whole character.
    s.keys("Escape", "F4")
    s.type("睡眠x")
    s.keys("BSpace")
    screen = s.wait_for(lambda text: "Filter: 睡眠_" in text and row_of(text, p.pid) and not row_of(text, other.pid),
                        what="filter 睡眠")
    assert len(table(screen)[1]) == 1


def test_wide_name_in_the_stack_view_title(spawn, tui):
    p = spawn("named", NAME_HEX)
    s = tui("-p", p.pid)
    s.keys("s")
    s.wait_for(f"Stacks of {p.pid} (睡眠进程)", timeout=30)


def test_hostile_name_is_neutralised(spawn, tui):
    p = spawn("named", b"ab\x1b[31mcd\x07".hex())
    s = tui("-p", p.pid)
    s.keys("Enter")
    screen = s.wait_for(f"Detail of {p.pid} (")
    # Shown as text, not obeyed: no red, no bell.
    assert f"Detail of {p.pid} (ab?[31mcd?)" in screen


def test_thr_shows_ten_thousand_threads(spawn, tui):
    p = spawn("many_threads", 10049, 0, ready_timeout=120)
    assert int(p.ready_line.split()[1]) == 10051
    s = tui("-p", p.pid)
    screen = s.wait_for(lambda text: row_of(text, p.pid), what="the row")
    header, (row,) = table(screen)
    assert row[header.index("THR")] == "10051"


def test_key_hints_fit_80_columns(tui):
    s = tui(width=80, height=24)
    last = s.lines()[23]
    assert last.rstrip().endswith("q Quit"), last
    assert "F9 Kill" in last and "F5 Tree" in last


# ---- settings


def rc_text(xdg):
    return (xdg / "stacktop" / "stacktoprc").read_text()


def quit_and_wait(s):
    s.keys("q")
    s.wait_for(lambda text: s.pane_dead(), what="exit")


def test_one_off_options_are_not_saved(tui, xdg):
    (xdg / "stacktop").mkdir()
    (xdg / "stacktop" / "stacktoprc").write_text("sort_column=cpu\ndelay=2\n")
    s = tui("-s", "time", "-d", "0.3", "--theme", "light")
    s.wait_for("sort TIME+ desc")
    quit_and_wait(s)
    rc = rc_text(xdg)
    assert "sort_column=cpu" in rc and "delay=2" in rc and "theme=default" in rc, rc
    assert re.search(r"^version=\d+$", rc, re.M)
    # A key that changes the sort saves it.
    s = tui("-s", "time")
    s.keys("M")
    s.wait_for("sort RES desc")
    quit_and_wait(s)
    assert "sort_column=res" in rc_text(xdg)


def test_two_instances_keep_each_others_settings(tui, xdg):
    a = tui()
    b = tui()
    a.keys("P")
    a.wait_for("sort CPU% desc")
    b.keys("t")
    b.wait_for("  tree")
    quit_and_wait(a)
    quit_and_wait(b)
    rc = rc_text(xdg)
    assert "sort_column=cpu" in rc and "tree=1" in rc, rc


# ---- theme


def test_light_theme_paints_the_whole_screen(tui):
    s = tui("--theme", "light", "-p", "1")
    screen = s.wait_for(lambda text: row_of(text, 1), what="the row")
    # The first line below the table has no text, yet carries the theme's
    # background (white: 231 of the 256 colours), not the terminal's.
    below = next(i for i, line in enumerate(screen.split("\n")) if row_of(line, 1)) + 1
    line = s.screen_with_attributes(trailing=True).split("\n")[below]
    assert re.match(r"^(\x1b\[[0-9;]*m)*\x1b\[[0-9;]*48;5;231", line), repr(line[:80])
