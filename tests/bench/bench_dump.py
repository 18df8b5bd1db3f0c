#!/usr/bin/env python3
"""Dump benchmark: targets of 2,000 and 10,000 threads (all but 200 in one
stack, 200 in another) with a heartbeat thread that measures the longest time
the process was frozen. In one run per target, stacktop dump (with
file:line), eu-stack -p and gdb's 'thread apply all bt': wall time, peak RSS
(measure.c, wait4 from a small C parent) and the target's longest pause;
stacktop's phase split of the pause (dump -v); then the ratios. Goals (issue
9): stacktop's wall time at most 1/20 of eu-stack's; at 2,000 threads wall
<= 100 ms, pause <= 10 ms, peak RSS <= 20 MB."""
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import rusage_run

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STACKTOP = os.environ.get("STACKTOP_BIN", os.path.join(ROOT, "build", "stacktop"))
FIXTURES = os.environ.get("STACKTOP_FIXTURES", os.path.join(ROOT, "build", "fixtures"))
NAPPERS = 200
SIZES = (2000, 10000)
RUNS = {2000: {"stacktop": 5, "eu-stack": 2, "gdb": 1}, 10000: {"stacktop": 3, "eu-stack": 1, "gdb": 1}}
TOOL_TIMEOUT_S = 600
PHASES = re.compile(r"target paused ([\d.]+) ms = interrupt ([\d.]+) \+ wait ([\d.]+) \+ copy ([\d.]+) "
                    r"\+ release ([\d.]+) ms; (\d+) KiB")


def start_target(threads, report):
    target = subprocess.Popen([os.path.join(FIXTURES, "many_threads"), str(threads - NAPPERS), str(NAPPERS), report],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    line = target.stdout.readline()
    if not line.startswith("ready"):
        target.kill()
        sys.exit("bench_dump: many_threads did not start")
    return target


def longest_pause_ms(target, report):
    """Asks the heartbeat for its longest gap since the last reset."""
    try:
        os.unlink(report)
    except FileNotFoundError:
        pass
    os.kill(target.pid, signal.SIGUSR2)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with open(report) as f:
                text = f.read()
            if text.endswith("\n"):
                return int(text) / 1000.0
        except FileNotFoundError:
            pass
        time.sleep(0.005)
    return float("nan")


def run_tool(argv, target, report):
    os.kill(target.pid, signal.SIGUSR1)      # reset the heartbeat's maximum
    time.sleep(0.05)
    m = rusage_run.run(argv)
    phases = PHASES.search(m.stderr)
    wall = m.wall_s * 1000.0
    time.sleep(0.05)
    pause = longest_pause_ms(target, report)
    stopped = [t for t in os.listdir(f"/proc/{target.pid}/task")
               if open(f"/proc/{target.pid}/task/{t}/stat").read().rsplit(")", 1)[1].split()[0] in "tT"]
    if m.status != 0 or stopped:
        sys.exit(f"bench_dump: {argv[0]} failed (exit {m.status}, {len(stopped)} threads left stopped)")
    return wall, m.maxrss_kib / 1024.0, pause, tuple(float(x) for x in phases.groups()) if phases else None


def bench(threads):
    tools = {
        "stacktop": [STACKTOP, "dump", "-v", "{pid}", "-o", "/dev/null"],
        "eu-stack": ["eu-stack", "-p", "{pid}"],
        "gdb": ["timeout", str(TOOL_TIMEOUT_S), "gdb", "-batch", "-nx", "-ex", "thread apply all bt", "-p", "{pid}"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "pause")
        target = start_target(threads, report)
        try:
            os.kill(target.pid, signal.SIGUSR1)
            time.sleep(0.3)
            idle = longest_pause_ms(target, report)
            results, phases = {}, []
            for name, argv in tools.items():
                argv = [a.replace("{pid}", str(target.pid)) for a in argv]
                runs = [run_tool(argv, target, report) for _ in range(RUNS[threads][name])]
                results[name] = tuple(statistics.median(r[i] for r in runs) for i in range(3))
                if name == "stacktop":
                    phases = [r[3] for r in runs if r[3]]
        finally:
            target.kill()
            target.wait()
    print(f"target: {threads} threads ({threads - NAPPERS} + {NAPPERS}) + heartbeat; "
          f"idle heartbeat jitter {idle:.1f} ms")
    print(f"{'tool':<12}{'wall ms':>10}{'peak RSS MB':>13}{'target paused ms':>18}")
    for name, (wall, rss, pause) in results.items():
        print(f"{name:<12}{wall:>10.1f}{rss:>13.1f}{pause:>18.1f}")
    if phases:
        med = [statistics.median(p[i] for p in phases) for i in range(6)]
        print(f"stacktop pause as it measures it (median of {len(phases)}): {med[0]:.1f} ms = interrupt "
              f"{med[1]:.1f} + wait {med[2]:.1f} + copy {med[3]:.1f} + release {med[4]:.1f} ms; "
              f"{med[5] / 1024:.1f} MiB of stacks copied")
    ours = results["stacktop"]
    for other in ("eu-stack", "gdb"):
        theirs = results[other]
        # ratios are theirs / ours: above 1 stacktop is better
        print(f"{other} / stacktop: wall x{theirs[0] / ours[0]:.1f}, peak RSS x{theirs[1] / ours[1]:.1f}, "
              f"target paused x{theirs[2] / max(ours[2], 0.001):.1f}  (above 1: stacktop better)")
    ratio = results["eu-stack"][0] / ours[0]
    print(f"goal: wall at most 1/20 of eu-stack's: x{ratio:.1f} {'yes' if ratio >= 20 else 'NO'}")
    if threads == 2000:
        print(f"goals at 2,000 threads: wall {ours[0]:.1f} <= 100 ms: {'yes' if ours[0] <= 100 else 'NO'}; "
              f"pause {ours[2]:.1f} <= 10 ms: {'yes' if ours[2] <= 10 else 'NO'}; "
              f"RSS {ours[1]:.1f} <= 20 MB: {'yes' if ours[1] <= 20 else 'NO'}")
    print()


def main():
    for threads in SIZES:
        bench(threads)
    print("note: eu-stack stops one thread at a time (no consistent snapshot), so the heartbeat\n"
          "      sees only its own short stop; stacktop and gdb stop every thread at once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
