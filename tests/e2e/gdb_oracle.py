"""gdb as the oracle for stack dumps: every thread's frames, inlined ones
included, with gdb's function name and file:line; and helpers that compare
them with `stacktop dump --format json` frame by frame.

gdb stops a backtrace at main (its default), so its frames are compared with
the first len(gdb) frames of ours. gdb names libc's functions from DWARF
(`__GI___clock_nanosleep`) where stacktop prints the ELF symbol's name
(`clock_nanosleep`, the alias rules of ElfReader), so names are compared only
for the frames of the program's own source files; file:line for every frame
gdb has a line for.
"""
import os
import re
import subprocess
import time

FRAME = re.compile(r"#(\d+)\s+(?:0x[0-9a-f]+ in )?(.+?) \(.*?\)(?: at (\S+):(\d+)| from (\S+))?\s*$")
THREAD = re.compile(r"Thread \d+ \(.*?\(LWP (\d+)\)")


SYS_CLOCK_NANOSLEEP = 230


def wait_in_syscall(pid, tid, number=SYS_CLOCK_NANOSLEEP, timeout=20):
    """Waits (deadline) until thread tid of pid sits in syscall `number`: the
    fixtures' main threads print 'ready' and only then call sleep(3), so a
    dump taken right after 'ready' may catch them in write(2) instead, and a
    second look (gdb's) in sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/task/{tid}/syscall") as f:
                if f.read().split()[0] == str(number):
                    return
        except (FileNotFoundError, IndexError):
            pass
        time.sleep(0.005)
    raise AssertionError(f"thread {tid} of pid {pid} did not reach syscall {number} within {timeout} s")


def gdb_stacks(pid, timeout=120):
    """{tid: [(function, file, line), ...]} innermost first (file None, line 0 when unknown)."""
    r = subprocess.run(["gdb", "-batch", "-nx", "-p", str(pid), "-ex", "set print frame-arguments none",
                        "-ex", "thread apply all bt"], capture_output=True, text=True, timeout=timeout)
    stacks, tid = {}, None
    for line in r.stdout.splitlines():
        m = THREAD.match(line)
        if m:
            tid = int(m.group(1))
            stacks[tid] = []
            continue
        m = FRAME.match(line)
        if m and tid is not None:
            function = None if m.group(2) == "??" else m.group(2)
            stacks[tid].append((function, m.group(3), int(m.group(4) or 0)))
    if not stacks:
        raise AssertionError(f"gdb printed no threads for pid {pid}: {r.stderr[-2000:]}")
    return stacks


def our_stacks(doc):
    """{tid: [(function, file, line, module), ...]} from a JSON dump."""
    stacks = {}
    for g in doc["groups"]:
        frames = [(f["function"], f["file"], f["line"], f["module"]) for f in g["frames"]]
        for t in g["threads"]:
            stacks[t["tid"]] = frames
    return stacks


def without_parameters(name):
    """'ns::Worker<int>::run(int) const' -> 'ns::Worker<int>::run': gdb prints
    a C++ frame without its parameter list ('operator()' alone has none)."""
    if not name or not name.endswith((")", ") const")) or name.endswith("operator()"):
        return name
    end = len(name) - (len(" const") if name.endswith(" const") else 0)
    depth = 0
    for i in range(end - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(name[i], 0)
        if depth == 0:
            return name[:i]
    return name


def compare(ours, theirs, own_sources, spelling=lambda name: name):
    """Asserts that every gdb frame of every thread matches ours: file:line
    always (same base name and line), the function name for frames in
    own_sources (base names), ours without its parameter list, both through
    `spelling` where the two legitimately spell a name differently (Rust).
    Returns how many frames were compared."""
    compared = 0
    assert set(theirs) == set(ours), (sorted(theirs), sorted(ours))
    for tid, gdb_frames in theirs.items():
        mine = ours[tid]
        assert len(mine) >= len(gdb_frames), (tid, gdb_frames, mine)
        for i, (function, file, line) in enumerate(gdb_frames):
            m_function, m_file, m_line, _ = mine[i]
            where = f"thread {tid} frame {i}: gdb {function} {file}:{line}, stacktop {m_function} {m_file}:{m_line}"
            if file:
                assert m_file and os.path.basename(m_file) == os.path.basename(file), where
                assert m_line == line, where
            if file and os.path.basename(file) in own_sources:
                assert spelling(without_parameters(m_function)) == spelling(function), where
            compared += 1
    return compared
