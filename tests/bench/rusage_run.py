"""Runs a command under build/fixtures/measure (see tests/fixtures/measure.c)
and returns its wall time, CPU time and peak RSS without Python's own memory
folded into the figure."""
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass

FIXTURES = os.environ.get("STACKTOP_FIXTURES",
                          os.path.join(os.path.dirname(__file__), "..", "..", "build", "fixtures"))


@dataclass
class Measured:
    wall_s: float
    cpu_s: float
    maxrss_kib: int
    status: int
    stderr: str


def run(argv, stdout=subprocess.DEVNULL):
    with tempfile.NamedTemporaryFile("r", prefix="stacktop-measure-") as report:
        start = time.monotonic()
        proc = subprocess.run([os.path.join(FIXTURES, "measure"), report.name, *argv],
                              stdout=stdout, stderr=subprocess.PIPE)
        wall = time.monotonic() - start
        fields = report.read().split()
    if proc.returncode != 0 or len(fields) != 4:
        return Measured(wall, 0.0, 0, proc.returncode or 1, proc.stderr.decode(errors="replace").strip())
    rss, utime, stime, status = int(fields[0]), float(fields[1]), float(fields[2]), int(fields[3])
    return Measured(wall, utime + stime, rss, status, proc.stderr.decode(errors="replace").strip())
