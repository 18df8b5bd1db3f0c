#!/usr/bin/env python3
"""Goroutine-profile benchmark (issue 7). The target (tests/fixtures/go/gorbench)
parks 1,000, 10,000 and 100,000 goroutines in four stacks ~10 frames deep and
runs a heartbeat that records its longest gap between 100 us ticks. For each
size, in the same run and alternating: the target's own
/debug/pprof/goroutine?debug=2 (runtime.Stack of every goroutine, which stops
the world while it formats; the handler retries with a doubled buffer up to
64 MB, each try a full stop) and `stacktop dump --goroutines`: wall time and
the longest pause the heartbeat saw, medians of a few runs, side by side, and
the ratios Go / stacktop. Goals: stacktop's pause <= 1/2 of Go's at 10,000
goroutines, and its whole dump of 10,000 goroutines < 200 ms.

Until stacktop reads goroutines, its columns say n/a and the benchmark exits 1
with the reason, after measuring Go's side."""
import os
import re
import selectors
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import rusage_run

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STACKTOP = os.environ.get("STACKTOP_BIN", os.path.join(ROOT, "build", "stacktop"))
FIXTURES = os.environ.get("STACKTOP_FIXTURES", os.path.join(ROOT, "build", "fixtures"))
SIZES = [1000, 10000, 100000]
RUNS = {1000: 5, 10000: 5, 100000: 3}
GOAL_SIZE, GOAL_WALL_MS = 10000, 200.0


class StacktopUnavailable(Exception):
    pass


def start_target(n):
    target = subprocess.Popen([os.path.join(FIXTURES, "gorbench"), str(n)], stdout=subprocess.PIPE,
                              text=True, start_new_session=True)
    sel = selectors.DefaultSelector()
    sel.register(target.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and sel.select(timeout=deadline - time.monotonic()):
        line = target.stdout.readline()
        m = re.match(r"ready port=(\d+) goroutines=(\d+)", line)
        if m:
            return target, int(m.group(1))
        if not line:
            break
    stop_target(target)
    sys.exit(f"bench_goroutines: gorbench {n} did not start")


def stop_target(target):
    if target.poll() is None:
        os.killpg(target.pid, signal.SIGKILL)
        target.wait()
    target.stdout.close()


def get(port, path, timeout=600):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as resp:
        return resp.read()


def longest_pause_ms(port):
    """The heartbeat's longest gap since the previous call (which resets it)."""
    return int(get(port, "/heartbeat")) / 1000.0


def stopped_threads(pid):
    out = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in "tT":
                    out.append(tid)
        except FileNotFoundError:
            pass
    return out


def go_side(port):
    longest_pause_ms(port)
    t0 = time.monotonic()
    body = get(port, "/debug/pprof/goroutine?debug=2")
    wall = (time.monotonic() - t0) * 1000.0
    return wall, longest_pause_ms(port), len(body)


def stacktop_side(pid, port, n, out_path):
    longest_pause_ms(port)
    m = rusage_run.run([STACKTOP, "dump", str(pid), "--goroutines", "-o", out_path])
    pause = longest_pause_ms(port)
    if stopped_threads(pid):
        sys.exit(f"bench_goroutines: stacktop left threads of {pid} stopped")
    if m.status != 0:
        raise StacktopUnavailable(f"`stacktop dump --goroutines` failed (exit status {m.status}): {m.stderr}")
    try:
        with open(out_path, errors="replace") as f:
            head = f.readline().strip()
        os.unlink(out_path)
    except FileNotFoundError:
        raise StacktopUnavailable(f"`stacktop dump --goroutines -o {out_path}` wrote no file") from None
    total = re.fullmatch(r"goroutine profile: total (\d+)", head)
    if not total:
        raise StacktopUnavailable(f"`stacktop dump --goroutines` printed no goroutine profile (first line {head!r})")
    if int(total.group(1)) < n:
        raise StacktopUnavailable(f"stacktop counted {total.group(1)} goroutines of at least {n}")
    return m.wall_s * 1000.0, pause, m.maxrss_kib / 1024.0


def measure(n, tmp):
    target, port = start_target(n)
    try:
        time.sleep(0.3)
        longest_pause_ms(port)
        time.sleep(0.5)
        idle = longest_pause_ms(port)
        go_runs, our_runs, unavailable = [], [], None
        for _ in range(RUNS[n]):
            go_runs.append(go_side(port))
            time.sleep(0.2)     # let the handler's garbage settle
            if unavailable is None:
                try:
                    our_runs.append(stacktop_side(target.pid, port, n, os.path.join(tmp, "dump.txt")))
                except StacktopUnavailable as e:
                    unavailable = str(e)
            time.sleep(0.2)
    finally:
        stop_target(target)
    go = tuple(statistics.median(r[i] for r in go_runs) for i in range(3))
    ours = tuple(statistics.median(r[i] for r in our_runs) for i in range(3)) if our_runs else None
    return idle, go, ours, unavailable


def main():
    rows, unavailable = [], None
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            idle, go, ours, why = measure(n, tmp)
            rows.append((n, idle, go, ours))
            unavailable = unavailable or why
    print("target: N goroutines parked in 4 stacks ~10 frames deep, heartbeat every 100 us; "
          "medians of 5 runs (3 at 100,000)")
    print(f"{'goroutines':>10} {'idle jitter':>11} | {'Go debug=2 wall':>15} {'pause':>8} {'output':>8} | "
          f"{'stacktop wall':>13} {'pause':>8} {'RSS':>7} | {'wall x':>6} {'pause x':>7}")
    for n, idle, go, ours in rows:
        left = f"{n:>10} {idle:>8.1f} ms | {go[0]:>12.1f} ms {go[1]:>5.1f} ms {go[2] / 1e6:>5.1f} MB | "
        if ours is None:
            print(left + f"{'n/a':>13} {'n/a':>8} {'n/a':>7} | {'n/a':>6} {'n/a':>7}")
        else:
            print(left + f"{ours[0]:>10.1f} ms {ours[1]:>5.1f} ms {ours[2]:>4.0f} MB | "
                  f"{go[0] / ours[0]:>6.1f} {go[1] / max(ours[1], 0.001):>7.1f}")
    print("ratios are Go / stacktop (above 1: stacktop better); Go's output stops at 64 MB")
    goal = next(r for r in rows if r[0] == GOAL_SIZE)
    if goal[3] is None:
        print(f"goals: not measured: {unavailable}")
        return 1
    go_pause, (our_wall, our_pause, _) = goal[2][1], goal[3]
    print(f"goals at {GOAL_SIZE}: pause {our_pause:.1f} ms <= 1/2 of Go's {go_pause:.1f} ms: "
          f"{'yes' if our_pause <= go_pause / 2 else 'NO'}; "
          f"dump {our_wall:.1f} ms < {GOAL_WALL_MS:.0f} ms: {'yes' if our_wall < GOAL_WALL_MS else 'NO'}")
    if unavailable:
        print(f"stacktop: {unavailable}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
