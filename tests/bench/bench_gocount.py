#!/usr/bin/env python3
"""Goroutine-count benchmark (issue 8): what counting the goroutines of 50
Go processes costs the monitor at a 1 s refresh. In the same run, without
and with 50 Go services (tests/fixtures/go/goleak, a handful of goroutines
each), CPU time (utime+stime from wait4) of `stacktop -b` (batch mode reads
the goroutines like the monitor's GOR column) and of `top -b` over the same
process table: the first refresh (where stacktop locates each Go runtime
once: its executable's symbol table, runtime.allgs) and a steady refresh
(from -n 1 and -n 11 at -d 1), and the marginal cost per Go process. The
services' own runtime.NumGoroutine() would need an agent or an endpoint in
each: there is no outside competitor, so top's figure is the yardstick.
Figures are printed, never asserted."""
import os
import statistics
import subprocess
import sys
import time

import rusage_run

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STACKTOP = os.environ.get("STACKTOP_BIN", os.path.join(ROOT, "build", "stacktop"))
FIXTURES = os.environ.get("STACKTOP_FIXTURES", os.path.join(ROOT, "build", "fixtures"))
SERVICES = 50
REFRESHES = 10
ROUNDS = 3


def cpu_ms(argv):
    m = rusage_run.run(argv)
    if m.status != 0:
        sys.exit(f"bench_gocount: {argv[0]} failed: {m.stderr}")
    return m.cpu_s * 1000.0


def start_services():
    procs = []
    for _ in range(SERVICES):
        p = subprocess.Popen([os.path.join(FIXTURES, "goleak"), "0"], stdout=subprocess.PIPE, text=True,
                             start_new_session=True)
        procs.append(p)
    for p in procs:
        if not p.stdout.readline().startswith("ready"):
            sys.exit("bench_gocount: goleak did not start")
    # about 100 goroutines each: a few hundred leaked watchers would be as cheap to count per goroutine
    for p in procs:
        os.kill(p.pid, 10)  # SIGUSR1: answered by a goroutine (checks the process is up)
    return procs


def measure():
    """{tool: (first refresh ms, steady refresh ms)}, medians."""
    tools = {"stacktop": [STACKTOP, "-b", "-d", "1", "-n"], "top": ["top", "-b", "-d", "1", "-n"]}
    out = {}
    for name, argv in tools.items():
        first, steady = [], []
        for _ in range(ROUNDS):
            one = cpu_ms(argv + ["1"])
            many = cpu_ms(argv + [str(REFRESHES + 1)])
            first.append(one)
            steady.append((many - one) / REFRESHES)
        out[name] = (statistics.median(first), statistics.median(steady))
    return out


def main():
    without = measure()
    services = start_services()
    try:
        time.sleep(0.5)
        count = subprocess.run([STACKTOP, "-b", "-n", "1", "--format", "json", "-p",
                                ",".join(str(p.pid) for p in services)], capture_output=True, text=True)
        goroutines = [int(x) for x in __import__("re").findall(r'"goroutines":(\d+)', count.stdout)]
        with_go = measure()
    finally:
        for p in services:
            p.kill()
            p.wait()
    print(f"{SERVICES} Go services (goleak, {statistics.median(goroutines) if goroutines else '?'} goroutines each, "
          f"{len(goroutines)} counted); CPU ms, medians of {ROUNDS} runs")
    print(f"{'':<40}{'stacktop':>10}{'top':>10}{'top / stacktop':>16}")
    for label, r in (("without the Go services", without), (f"with {SERVICES} Go services", with_go)):
        for k, what in ((0, "first refresh"), (1, "steady refresh")):
            print(f"{label + ', ' + what:<40}{r['stacktop'][k]:>10.2f}{r['top'][k]:>10.2f}"
                  f"{r['top'][k] / r['stacktop'][k]:>16.2f}")
    for k, what in ((0, "first refresh"), (1, "steady refresh")):
        marginal = (with_go["stacktop"][k] - without["stacktop"][k]) - (with_go["top"][k] - without["top"][k])
        print(f"goroutine counting, {what}: {marginal:.2f} ms for {SERVICES} Go processes beyond what top pays "
              f"for listing them ({marginal * 1000 / SERVICES:.0f} us per Go process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
