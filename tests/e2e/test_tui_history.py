"""History in the monitor, through tmux: RGROW stays blank until a process
was watched for the minimum span, then a slow leak (~2 MiB a minute) shows
its rate and a one-off allocation shows none; the detail view draws RES,
CPU% and threads over the span Tab picks. Slow by nature (about 75 s)."""
import os
import re
import time

from tui_session import row_cells

MIN_SPAN_S = 60  # SAMPLER_GROWTH_MIN_SPAN_S
UNITS = {"K": 1, "M": 1024, "G": 1024 ** 2}


def statm_res_kib(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def rate_kib(text):
    """'+2.0M' / '-300K' / '0' -> KiB per minute."""
    if text == "0":
        return 0.0
    m = re.fullmatch(r"([+-])([\d.]+)([KMG])", text)
    assert m, text
    return (-1 if m.group(1) == "-" else 1) * float(m.group(2)) * UNITS[m.group(3)]


def test_growth_appears_after_the_minimum_span_and_ignores_a_one_off(spawn, tui):
    once = spawn("memhog", 32)
    leak = spawn("memhog", 8, "34k")  # 34 KiB a second: ~2 MiB a minute
    start = (time.monotonic(), statm_res_kib(leak.pid))
    s = tui("-d", "1", "-p", f"{once.pid},{leak.pid}")
    # Blank for both while the history is shorter than the minimum span.
    while time.monotonic() - start[0] < MIN_SPAN_S - 10:
        screen = s.screen()
        for p in (once, leak):
            cells = row_cells(screen, p.pid)
            assert cells is None or cells["RGROW"] == "", (time.monotonic() - start[0], cells)
        time.sleep(1)
    screen = s.wait_for(lambda text: (row_cells(text, leak.pid) or {}).get("RGROW", "") != "", timeout=60,
                        what="the leak's growth")
    shown_at = time.monotonic() - start[0]
    assert shown_at >= MIN_SPAN_S - 5, shown_at
    # Let a few more samples in, then compare with statm over the same time.
    time.sleep(8)
    screen = s.screen()
    measured = (statm_res_kib(leak.pid) - start[1]) / (time.monotonic() - start[0]) * 60
    assert 1500 < measured < 2600, measured
    leak_rate = rate_kib(row_cells(screen, leak.pid)["RGROW"])
    once_rate = rate_kib(row_cells(screen, once.pid)["RGROW"])
    assert abs(leak_rate - measured) < measured * 0.3, (leak_rate, measured)
    assert abs(once_rate) < measured * 0.1, once_rate
    # The detail view: the same history as graphs, over a span Tab changes.
    s.keys("/")
    s.type("34k")
    s.keys("Enter", "Enter")
    # The whole view, not the first lines of a frame tmux caught mid-write.
    graphs = [rf"^{re.escape(label)}\s+\S+\s+\S+\s+min \S+ max \S+, \d+ samples" for label in ("RES", "CPU%", "Threads")]
    screen = s.wait_for(lambda text: f"Detail of {leak.pid} (memhog)" in text
                        and all(re.search(g, text, re.M) for g in graphs), what="the detail view's three graphs")
    assert "History: last 3 min, every refresh" in screen
    assert re.search(r"RES growth \+[\d.]+[KM]/min", screen)
    samples = int(re.search(r"^RES\s.*, (\d+) samples", screen, re.M).group(1))
    # Watched for about a minute: every span shows all of it, at every refresh.
    s.keys("Tab")
    screen = s.wait_for("History: last 1 h, every refresh (watched for 00:01:")
    m = re.search(r"^RES\s.*, (\d+) samples", screen, re.M)
    assert m and int(m.group(1)) >= samples, screen
    s.keys("Tab", "Tab")
    s.wait_for("History: last 3 days")
    s.keys("Tab")
    s.wait_for("History: last 3 min, every refresh")
