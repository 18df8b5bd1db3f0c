#!/usr/bin/env python3
"""`make bench`: runs every tests/bench/bench_*.py in turn. Benchmarks print
the competitor's figure and ours from the same run, and the ratio. They are
never part of `make check`: speed targets are measured, not asserted."""
import glob
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
only = sys.argv[1:]
status = 0
for path in sorted(glob.glob(os.path.join(here, "bench_*.py"))):
    name = os.path.basename(path)[len("bench_"):-3]
    if only and name not in only:
        continue
    print(f"==== bench {name}", flush=True)
    status |= subprocess.call([sys.executable, path])
sys.exit(status)
