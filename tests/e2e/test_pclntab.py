"""Go's symbol table reader (src/go/Pclntab.c) against independent oracles,
PC by PC, through the test-only tool build/tests/pclntab_query:

- Go 1.19 binaries (tests/fixtures/go/symtab built plain, stripped and PIE)
  against Go's own debug/gosym (build/tests/gosym_oracle): every function,
  and every function entry, entry+k and return address (from objdump);
- the same binaries and two stripped programs built with current Go from the
  npm registry (esbuild: go1.26.5, lefthook: go1.27.0) against the program's
  own traceback (SIGQUIT with GOTRACEBACK=system): for every frame of every
  goroutine, the function, file:line, the inlined frames, the +0x offset and
  the frame size (fp - sp) must be what Pclntab says.
"""
import os
import re
import shutil
import signal
import struct
import subprocess
import time

import pytest

from conftest import ROOT, fixture_path

# The test-only tools; STACKTOP_TOOLS=build/asan/tests runs a sanitized build.
TOOLS = os.environ.get("STACKTOP_TOOLS", os.path.join(ROOT, "build", "tests"))
NPM = os.path.join(ROOT, "build", "npm")
GO119 = ["go_symtab", "go_symtab_stripped", "go_symtab_pie"]


def tool(name):
    path = os.path.join(TOOLS, name)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} is not built: run 'make fixtures'")
    return path


def npm_binary(name):
    path = os.path.join(NPM, name)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} is not fetched: run 'make fixtures'")
    return path


def binary(name):
    return npm_binary(name) if name in ("esbuild", "lefthook") else fixture_path(name)


def run(argv, stdin_lines=None, timeout=120):
    text = "".join(f"{x}\n" for x in stdin_lines) if stdin_lines is not None else None
    res = subprocess.run(argv, input=text, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"{argv[0]} failed ({res.returncode}): {res.stderr}"
    return [line.split("\t") for line in res.stdout.splitlines()]


def query(cmd, path, stdin_lines=None, scan=False):
    return run([tool("pclntab_query"), *(["--scan"] if scan else []), cmd, path], stdin_lines)


def info(path, scan=False):
    return {row[0]: row[1:] for row in query("info", path, scan=scan)}


class Answer:
    """One pclntab_query pcs line."""

    def __init__(self, row):
        self.pc = int(row[0], 16)
        self.name, self.file = row[1], row[4]
        self.entry = int(row[2], 16) if row[2] != "-" else None
        self.line = int(row[5])
        self.spdelta = int(row[6]) if row[6] != "-" else None
        n = int(row[7])
        self.frames = [tuple(row[8 + 5 * i:13 + 5 * i]) for i in range(n)]
        assert len(self.frames) == n, row


def answers(path, pcs):
    rows = query("pcs", path, [f"{pc:#x}" for pc in pcs])
    assert len(rows) == len(pcs)
    return {a.pc: a for a in map(Answer, rows)}


def print_name(name):
    """The name as Go's traceback prints it (runtime funcNamePiecesForPrint,
    printFuncName): generic arguments shortened to [...], gopanic as panic."""
    if name == "runtime.gopanic":
        return "panic"
    i, j = name.find("["), name.rfind("]")
    if i < 0 or j <= i:
        return name
    return name[:i] + "[...]" + name[j + 1:]


# ---- Go 1.19 binaries against debug/gosym


def return_addresses(path):
    """The address after every call instruction in the text (objdump)."""
    objdump = shutil.which("objdump")
    assert objdump, "objdump (binutils, from build-essential) is required"
    out = subprocess.run([objdump, "-d", "--no-show-raw-insn", "-j", ".text", path], capture_output=True,
                         text=True, check=True, timeout=120).stdout
    insn = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)")
    addrs, prev_call, result = [], False, []
    for line in out.splitlines():
        m = insn.match(line)
        if not m:
            continue
        addr = int(m.group(1), 16)
        if prev_call:
            result.append(addr)
        prev_call = m.group(2).startswith("call")
        addrs.append(addr)
    return result


@pytest.mark.parametrize("name", GO119)
def test_function_table_matches_gosym(name):
    path = binary(name)
    ours = [(int(r[0], 16), int(r[1], 16), r[2]) for r in query("funcs", path)]
    theirs = [(int(r[0], 16), int(r[1], 16), r[2]) for r in run([tool("gosym_oracle"), "funcs", path])]
    assert len(ours) > 1000
    assert ours == theirs
    names = {n for _, _, n in ours}
    for expected in ("main.looper", "main.(*Counter).Add", "main.Drain[...]", "main.main.func1", "runtime.goexit"):
        assert expected in names


@pytest.mark.parametrize("name", GO119)
def test_pcs_match_gosym(name):
    path = binary(name)
    funcs = [(int(r[0], 16), int(r[1], 16)) for r in query("funcs", path)]
    pcs = set()
    for entry, end in funcs:
        pcs.update(pc for pc in (entry, entry + 1, entry + 4, (entry + end) // 2, end - 1) if entry <= pc < end)
    calls = return_addresses(path)
    assert len(calls) > 5000
    pcs.update(calls)
    pcs.update(ret - 1 for ret in calls)  # where Go looks return addresses up
    text = info(path)["text"]
    pcs.update((int(text[0], 16) - 1, int(text[1], 16)))  # just outside
    pcs = sorted(pcs)
    ours = answers(path, pcs)
    theirs = {int(r[0], 16): r for r in run([tool("gosym_oracle"), "pcs", path], [f"{pc:#x}" for pc in pcs])}
    mismatches, with_line = [], 0
    for pc in pcs:
        a, g = ours[pc], theirs[pc]
        want = (g[1], int(g[2], 16) if g[2] != "-" else None, g[3], int(g[4]))
        if want[2:] == ("-", -1):
            want = want[:2] + ("-", 0)  # gosym's "no entry" (inter-function padding)
        got = (a.name, a.entry, a.file, a.line)
        with_line += a.line > 0
        if got != want:
            mismatches.append(f"{pc:#x}: ours {got} gosym {want}")
    assert not mismatches, f"{len(mismatches)} of {len(pcs)} pcs differ:\n" + "\n".join(mismatches[:20])
    assert with_line > 0.9 * len(pcs)


@pytest.mark.parametrize("name", GO119 + ["esbuild", "lefthook"])
def test_scan_finds_the_same_table(name):
    path = binary(name)
    by_section, by_scan = info(path), info(path, scan=True)
    assert by_scan["found"] == ["scan"]
    # PIE keeps the table in .data.rel.ro.gopclntab: even the plain path scans.
    assert by_section["found"] == (["scan"] if name.endswith("_pie") else ["section"])
    for key in ("version", "pclntab", "nfunc", "nfiles", "text", "gofunc"):
        assert by_section[key] == by_scan[key], key
    assert query("funcs", path) == query("funcs", path, scan=True)


@pytest.mark.parametrize("name", GO119 + ["esbuild", "lefthook"])
def test_find_by_name(name):
    path = binary(name)
    funcs = query("funcs", path)
    first = {}
    for i, row in enumerate(funcs):
        first.setdefault(row[2], (int(row[0], 16), i))
    step = max(1, len(funcs) // 400)
    names = [row[2] for row in funcs[::step]] + ["runtime.goexit", "runtime.allgadd", "no.such.function"]
    for row in query("names", path, names):
        if row[0] == "no.such.function":
            assert row[1:] == ["-", "-"]
            continue
        assert (int(row[1], 16), int(row[2])) == first[row[0]], row


# ---- every binary against its own traceback


def descendants(pid):
    """Every process below pid (through /proc/PID/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except FileNotFoundError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/children") as f:
                    kids = [int(x) for x in f.read().split()]
            except FileNotFoundError:
                continue
            found += kids
            todo += kids
    return found


def kill_pids(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_for(cond, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def file_contains(path, text):
    def check():
        with open(path, errors="replace") as f:
            return text in f.read()
    return check


def lowest_load_vaddr(path):
    """The lowest PT_LOAD p_vaddr of a 64-bit little-endian ELF file."""
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    vaddrs = []
    for i in range(phnum):
        p_type, _, _, p_vaddr = struct.unpack_from("<IIQQ", data, phoff + i * phentsize)
        if p_type == 1:
            vaddrs.append(p_vaddr)
    return min(vaddrs)


def load_bias(pid, path):
    """Where the kernel put a PIE (go-runtime.md F5.7): the start of the
    executable's mapping at file offset 0 minus its lowest PT_LOAD vaddr."""
    real = os.path.realpath(path)
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 6 and fields[5] == real and int(fields[2], 16) == 0:
                return int(fields[0].split("-")[0], 16) - lowest_load_vaddr(path)
    raise AssertionError(f"{real} is not mapped in pid {pid}")


def go_traceback(name, tmp_path):
    """Starts the program so that it stays alive, sends SIGQUIT and returns
    what the Go runtime printed (GOTRACEBACK=system: every goroutine, with
    fp, sp and pc per frame) and the program's load bias."""
    env = dict(os.environ, GOTRACEBACK="system", NO_COLOR="1")
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    work = tmp_path / "work"
    work.mkdir()
    if name == "esbuild":
        (work / "in.js").write_text("console.log(1)\n")
        argv = [binary(name), "in.js", "--outfile=out.js", "--watch=forever"]
        ready = (file_contains(err, "watching for changes"), "esbuild's watch mode")
    elif name == "lefthook":
        git = shutil.which("git")
        assert git, "git is required (lefthook runs its hook in a scratch repository)"
        subprocess.run([git, "init", "-q", str(work)], check=True, timeout=60)
        (work / "lefthook.yml").write_text("stacktop-wait:\n  commands:\n    wait:\n      run: sleep 300\n")
        argv = [binary(name), "run", "stacktop-wait"]
        ready = None  # set once the process exists: its hook command runs
    else:
        argv = [binary(name)]
        ready = (file_contains(out, "ready"), "the fixture's ready line")
    with open(out, "w") as fo, open(err, "w") as fe:
        proc = subprocess.Popen(argv, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe,
                                start_new_session=True)
    children = []
    try:
        if ready is None:
            ready = (lambda: any(_comm(p) == "sleep" for p in descendants(proc.pid)), "lefthook's hook command")
        wait_for(ready[0], ready[1])
        bias = load_bias(proc.pid, argv[0])
        children = descendants(proc.pid)
        proc.send_signal(signal.SIGQUIT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        kill_pids(children + descendants(proc.pid))
    return err.read_text(errors="replace"), bias


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


FRAME = re.compile(r"^(?P<name>\S.*)\((?P<args>.*)\)$")
POS = re.compile(r"^\t(?P<file>.+):(?P<line>\d+)(?: \+0x(?P<off>[0-9a-f]+))?"
                 r"(?: fp=0x(?P<fp>[0-9a-f]+) sp=0x(?P<sp>[0-9a-f]+) pc=0x(?P<pc>[0-9a-f]+))?$")
CREATED = re.compile(r"^created by (?P<name>\S+)(?: in goroutine \d+)?$")


def parse_traceback(text, bias):
    """[(frames, created)] per goroutine, and the signal PC, as link-time
    addresses (minus the load bias). A frame is a dict (name, file, line, off,
    fp, sp, pc); inlined frames have no pc."""
    lines = text.splitlines()
    sig_pc = None
    goroutines = []
    i = 0
    while i < len(lines):
        line = lines[i]
        pos = POS.match(lines[i + 1]) if i + 1 < len(lines) else None
        if line.startswith("PC=0x") and sig_pc is None:
            sig_pc = int(line.split()[0][5:], 16) - bias
        elif re.match(r"^goroutine \d+ ", line):
            goroutines.append(([], None))
        elif goroutines and pos and CREATED.match(line):
            frames, _ = goroutines[-1]
            goroutines[-1] = (frames, dict(name=CREATED.match(line)["name"], **pos.groupdict()))
            i += 1
        elif goroutines and pos and FRAME.match(line):
            fr = dict(name=FRAME.match(line)["name"], **pos.groupdict())
            if fr["pc"] is not None:
                fr["pc"] = f"{int(fr['pc'], 16) - bias:x}"
            goroutines[-1][0].append(fr)
            i += 1
        i += 1
    return goroutines, sig_pc


def check_against_traceback(path, traceback, go119):
    """Every frame of the traceback against Pclntab; returns the matched
    (physical, inlined) frame names."""
    text, bias = traceback
    goroutines, sig_pc = parse_traceback(text, bias)
    assert goroutines and sig_pc, f"no traceback in the output:\n{text[:2000]}"
    # Frames after these are resumed at the trap pc, not a return address
    # (Go 1.19: only sigpanic; 1.21+ also asyncPreempt and debugCallV2).
    trap_callers = {"runtime.sigpanic"} if go119 else {"runtime.sigpanic", "runtime.asyncPreempt",
                                                       "runtime.debugCallV2"}
    groups = []  # (inlined frames + physical frame, lookup pc)
    for frames, _ in goroutines:
        pending, prev = [], None
        for fr in frames:
            pending.append(fr)
            if fr["pc"] is None:
                continue
            pc, off = int(fr["pc"], 16), int(fr["off"] or "0", 16)
            # The signal's own goroutine starts at the interrupted pc itself.
            trap = (prev is None and pc == sig_pc) or off == 0 or prev in trap_callers
            groups.append((pending, pc if trap else pc - 1))
            pending, prev = [], fr["name"]
    assert groups
    pcs = sorted({lookup for _, lookup in groups} | {int(g[-1]["pc"], 16) for g, _ in groups})
    ours = answers(path, pcs)
    mismatches, physical, inlined = [], set(), set()
    for group, lookup in groups:
        phys = group[-1]
        pc, off = int(phys["pc"], 16), int(phys["off"] or "0", 16)
        a = ours[lookup]
        want = [(g["name"], g["file"], int(g["line"])) for g in group]
        got = [(print_name(f[0]), f[1], int(f[2])) for f in a.frames]
        if got != want:
            mismatches.append(f"pc {pc:#x} (lookup {lookup:#x}): ours {got}, traceback {want}")
            continue
        if a.entry != pc - off:
            mismatches.append(f"pc {pc:#x}: entry {a.entry:#x}, traceback +{off:#x}")
        frame_size = int(phys["fp"], 16) - int(phys["sp"], 16)
        if ours[pc].spdelta is None or ours[pc].spdelta + 8 != frame_size:
            mismatches.append(f"pc {pc:#x} {phys['name']}: spdelta {ours[pc].spdelta}, fp-sp {frame_size}")
        physical.add(phys["name"])
        inlined.update(g["name"] for g in group[:-1])
    assert not mismatches, f"{len(mismatches)} of {len(groups)} frames differ:\n" + "\n".join(mismatches[:20])
    check_created_by(path, goroutines, go119)
    return physical, inlined


def check_created_by(path, goroutines, go119):
    """`created by F` + file:line +off: F's entry + off, looked up at pc-1."""
    created = [c for _, c in goroutines if c and (go119 or "[...]" not in c["name"])]
    assert created
    entries = {r[0]: int(r[1], 16) for r in query("names", path, sorted({c["name"] for c in created}))}
    pcs = []
    for c in created:
        off = int(c["off"] or "0", 16)
        pcs.append((c, entries[c["name"]] + off - (1 if off else 0)))
    ours = answers(path, [pc for _, pc in pcs])
    for c, pc in pcs:
        a = ours[pc]
        assert (print_name(a.name), a.file, a.line) == (c["name"], c["file"], int(c["line"])), c


@pytest.mark.parametrize("name", GO119)
def test_go119_frames_match_traceback(name, tmp_path):
    path = binary(name)
    physical, inlined = check_against_traceback(path, go_traceback(name, tmp_path), go119=True)
    # The kinds of frame the fixture parks in are all there, and matched.
    assert {"main.recvOne", "main.recvTwice"} <= inlined
    assert {"main.looper", "main.(*Counter).Add", "main.Drain[...]", "main.main.func1", "runtime.gopark",
            "runtime.goexit"} <= physical


@pytest.mark.parametrize("name", ["esbuild", "lefthook"])
def test_current_go_frames_match_traceback(name, tmp_path):
    path = binary(name)
    meta = info(path)
    assert meta["version"] == ["120"]
    assert meta["gofunc"] != ["0x0"]
    physical, inlined = check_against_traceback(path, go_traceback(name, tmp_path), go119=False)
    assert len(physical) >= 15, physical
    assert len(inlined) >= 2, inlined
    assert {"runtime.gopark", "runtime.goexit"} <= physical
