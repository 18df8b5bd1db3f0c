#!/usr/bin/env python3
"""What file:line costs: wall time and peak RSS of stacktop dump with file:line
and inlined frames, and with --no-lines, against eu-stack -s -i (its own
file:line and inlined frames) and gdb 'thread apply all bt', in one run, with
ratios; and how many of the target's own frames got a file:line.

Targets: many_threads (2,000 threads in libc: libc6-dbg's compressed DWARF),
and bigcpp (tests/fixtures/bench.mk; 48 C++ units, 45 MB of .debug_info, one
thread parked in each unit) in three builds: DWARF as the compiler wrote it,
compressed in place, and a stripped binary whose compressed debug file has no
.debug_aranges. STACKTOP_BASE_BIN names another stacktop binary (e.g. the one
before a change) to measure in the same run, interleaved with ours."""
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile

import rusage_run

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STACKTOP = os.environ.get("STACKTOP_BIN", os.path.join(ROOT, "build", "stacktop"))
BASE = os.environ.get("STACKTOP_BASE_BIN")
BIGCPP = os.path.join(ROOT, "build", "bench", "bigcpp")
FIXTURES = os.environ.get("STACKTOP_FIXTURES", os.path.join(ROOT, "build", "fixtures"))
TARGETS = ["many_threads", "bigcpp", "bigcpp_gz", "bigcpp_split"]
ROUNDS = 5
SLOW = {"eu-stack -s -i", "gdb"}  # measured once per target


def dwarf_bytes(path):
    """(bytes on disk, bytes uncompressed) of the .debug_* sections of an ELF64 file."""
    with open(path, "rb") as f:
        data = f.read()
    shoff = int.from_bytes(data[0x28:0x30], "little")
    shnum = int.from_bytes(data[0x3c:0x3e], "little")
    shstrndx = int.from_bytes(data[0x3e:0x40], "little")
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * 64) for i in range(shnum)]
    names = headers[shstrndx][4]
    disk = full = 0
    for name_at, _, flags, _, offset, size, *_ in headers:
        name = data[names + name_at:data.index(b"\0", names + name_at)]
        if not name.startswith(b".debug_"):
            continue
        disk += size
        full += int.from_bytes(data[offset + 8:offset + 16], "little") if flags & 0x800 else size
    return disk, full


def start(name):
    if name == "many_threads":
        argv = [os.path.join(FIXTURES, name), "1800", "200", os.path.join(tempfile.gettempdir(), "bench_dwarf.pause")]
    else:
        argv = [os.path.join(BIGCPP, name)]
    target = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, start_new_session=True)
    if not target.stdout.readline().startswith("ready"):
        target.kill()
        sys.exit(f"bench_dwarf: {name} did not start")
    return target


def lines_found(pid):
    """Share of the target's own frames (park*, not libc's) that have a file:line."""
    r = subprocess.run([STACKTOP, "dump", str(pid), "--format", "json"], capture_output=True, text=True)
    frames = [f for g in json.loads(r.stdout)["groups"] for f in g["frames"]
              if f["function"] and "park" in f["function"]]
    return sum(1 for f in frames if f["file"] and f["line"]) / max(len(frames), 1)


def measure(tools, pid):
    """{tool: (median wall ms, median peak RSS MB)}, the fast tools interleaved."""
    samples = {tool: [] for tool in tools}
    for round_ in range(ROUNDS):
        for tool, argv in tools.items():
            if tool in SLOW and round_ > 0:
                continue
            m = rusage_run.run([a.replace("{pid}", str(pid)) for a in argv])
            if m.status != 0:
                sys.exit(f"bench_dwarf: {tool} failed: {m.stderr[-500:]}")
            samples[tool].append((m.wall_s * 1000, m.maxrss_kib / 1024))
    return {tool: (statistics.median(w for w, _ in runs), statistics.median(r for _, r in runs))
            for tool, runs in samples.items()}


def main():
    tools = {
        "stacktop": [STACKTOP, "dump", "{pid}", "-o", "/dev/null"],
        "stacktop --no-lines": [STACKTOP, "dump", "{pid}", "--no-lines", "-o", "/dev/null"],
        "eu-stack -s -i": ["eu-stack", "-s", "-i", "-p", "{pid}"],
        "gdb": ["gdb", "-batch", "-nx", "-ex", "thread apply all bt", "-p", "{pid}"],
    }
    if BASE:
        tools["stacktop (base)"] = [BASE, "dump", "{pid}", "-o", "/dev/null"]
    for name in TARGETS:
        if name == "many_threads":
            disk, full = (0, 0)
            target_tools = {k: v for k, v in tools.items() if k != "gdb"}  # bench_dump measures gdb there
        else:
            path = os.path.join(BIGCPP, name)
            disk, full = dwarf_bytes(path + ".debug" if os.path.exists(path + ".debug") else path)
            target_tools = tools
        target = start(name)
        try:
            covered = lines_found(target.pid)
            results = measure(target_tools, target.pid)
        finally:
            target.kill()
            target.wait()
        what = "2,000 threads in libc (libc6-dbg's DWARF)" if name == "many_threads" else \
            f"DWARF {disk / 2**20:.1f} MiB on disk, {full / 2**20:.1f} MiB uncompressed"
        print(f"{name}: {what}; stacktop gave file:line to {covered * 100:.0f}% of the park frames")
        print(f"  {'tool':<24}{'wall ms':>10}{'peak RSS MB':>13}")
        for tool, (wall, rss) in results.items():
            print(f"  {tool:<24}{wall:>10.1f}{rss:>13.1f}")
        ours = results["stacktop"]
        for other in [t for t in results if t != "stacktop"]:
            theirs = results[other]
            print(f"  {other} / stacktop: wall x{theirs[0] / ours[0]:.2f}, peak RSS x{theirs[1] / ours[1]:.2f}"
                  "  (above 1: stacktop better)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
