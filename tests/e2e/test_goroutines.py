"""`stacktop dump` of Go processes: the goroutine profile (issue 7), checked
against oracles that do not depend on stacktop.

- The fixture tests/fixtures/go/goroutines (built four ways by
  tests/fixtures/goroutines.mk: plain, stripped, PIE, cgo) parks known numbers
  of goroutines in known places and serves net/http/pprof on 127.0.0.1: its
  own /debug/pprof/goroutine?debug=1 and ?debug=2 are the reference, byte for
  byte. On SIGUSR1 it prints runtime.NumGoroutine().
- Go releases newer than Debian's 1.19 (esbuild go1.26, lefthook go1.27, from
  the npm registry): their own SIGQUIT traceback and their build info.

What stacktop must print is issue 7's output contract: Go's own layouts.
Differences from the process's own output that are expected, and nothing
else:
- The request that fetches the process's profile runs goroutines of its own.
  Go's output is cut by these rules, which only HTTP connection goroutines can
  match (the fixture runs no HTTP client of its own):
    R1  a stack with a function of `net/http.(*conn).` (the connection being
        served: the pprof handler's goroutine);
    R2  a stack with a function of `net/http.(*connReader).` (the connection's
        background reader);
    R3  (debug=1 only) a record with no frame line and a single PC: a goroutine
        that has not started yet and whose start function is a go-statement
        wrapper, hidden with runtime.goexit; debug=2 names it
        net/http.(*connReader).startBackgroundRead.func2 (R2). The fixture
        starts no goroutine after it says ready.
  stacktop's snapshot may still hold such goroutines of an earlier request
  (closing connections): allowed by the same rules.
- The busy loop (main.spin) is running when stacktop stops it: `[running]`
  and the PC where it was stopped, where Go shows `[runnable]` at an
  async-preemption point. Only its function, file and caller are compared.
- Arguments are `(...)` in stacktop's debug=2: masked on Go's side too.

Every test that attaches goes through the `spawn` fixture, which checks that
no thread of the target is left stopped or traced.
"""
import collections
import dataclasses
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from conftest import FIXTURES, proc_status, run_stacktop, thread_states

VARIANTS = ["goroutines", "goroutines_stripped", "goroutines_pie", "goroutines_cgo"]
NPM_DIR = os.path.join(os.path.dirname(FIXTURES), "npm")
PROMETHEUS = "/usr/bin/prometheus"   # Debian's package (DEB_TEST)

# The fixture's parking places (the ready line's KIND=COUNT): the first
# function of package main in the group's frames (innermost first), and its
# pprof labels.
KINDS = {
    "send": (r"main\.send", {}),                   # inlined into main.check
    "recv": (r"main\.watcher", {}),
    "mutex": (r"main\.lockMutex", {}),
    "select": (r"main\.selectMany", {}),
    "generic": (r"main\.waitGeneric\[\.\.\.\]", {}),
    "closure": (r"main\.parkers\.func\d+\.1", {}),
    "sleep": (r"main\.sleeper", {}),
    "labels_a": (r"main\.labeled\.func1", {"shard": "1", "worker": "a"}),
    "waitgroup": (r"main\.waitGroup", {}),
    "labels_b": (r"main\.labeled\.func1", {"worker": "b"}),
    "method": (r"main\.\(\*worker\)\.run", {}),    # started through a method value (run-fm)
    "syscall": (r"main\.readPipe", {}),
    "spin": (r"main\.spin", {}),
    "cgo": (r"main\._Cfunc_block_in_c", {}),      # goroutines_cgo only
}
# The fixture's goroutines besides the parked ones (one each).
OTHERS = {
    "main": r"main\.main",
    "signal": r"os/signal\.signal_recv",
    "accept": r"net/http\.\(\*Server\)\.Serve",
}
SPIN = "main.spin"
READ_LINE = re.compile(r"# goroutines read in \d+(\.\d+)? ms, process stopped \d+(\.\d+)? ms")


# ---------------------------------------------------------------------------
# Parsers for Go's two goroutine formats. Strict: anything unexpected raises,
# so a parsing slip cannot hide (or invent) a difference. Unit-tested on
# canned Go output at the end of this file.


@dataclasses.dataclass
class Frame1:
    """One `#\t0xPC\tfunc+0xOFF\tfile:LINE` line of debug=1."""
    pc: int
    function: str = None
    offset: int = None
    file: str = None
    line: int = None


@dataclasses.dataclass
class Record:
    """One group of debug=1: `COUNT @ PCs`, optional labels, frame lines."""
    count: int
    pcs: list
    labels: str          # the text after "# labels: ", or None
    frames: list
    text: str            # the record's lines exactly as printed, without the blank line

    @property
    def functions(self):
        return [f.function for f in self.frames]

    def labels_dict(self):
        return json.loads(self.labels) if self.labels else {}


@dataclasses.dataclass
class Profile1:
    total: int
    records: list
    notes: list          # "# ..." lines after the records (stacktop's footer)
    rest: str            # what follows them (stacktop's thread profile)


HEADER1 = re.compile(r"goroutine profile: total (\d+)")
COUNT_LINE = re.compile(r"(\d+) @((?: 0x[0-9a-f]+)*)")
FRAME1 = re.compile(r"#\t+0x([0-9a-f]+)(?:\t+(\S+)\+0x([0-9a-f]+)\t+(.*):(\d+))?")


def parse_frame1(line):
    m = FRAME1.fullmatch(line)
    if not m:
        raise ValueError(f"not a debug=1 frame line: {line!r}")
    if m.group(2) is None:
        return Frame1(int(m.group(1), 16))
    return Frame1(int(m.group(1), 16), m.group(2), int(m.group(3), 16), m.group(4), int(m.group(5)))


def parse_debug1(text):
    """Go's /debug/pprof/goroutine?debug=1, or stacktop's goroutine part."""
    lines = text.split("\n")

    def at(i):
        if i >= len(lines):
            raise ValueError(f"debug=1 output ends inside a record (line {i + 1})")
        return lines[i]

    m = HEADER1.fullmatch(lines[0])
    if not m:
        raise ValueError(f"not a goroutine profile: first line {lines[0]!r}")
    records, pos = [], 1
    while pos < len(lines) and COUNT_LINE.fullmatch(lines[pos]):
        start = pos
        cm = COUNT_LINE.fullmatch(lines[pos])
        pos += 1
        labels = None
        if at(pos).startswith("# labels: "):
            labels = at(pos)[len("# labels: "):]
            pos += 1
        frames = []
        while at(pos).startswith("#\t"):
            frames.append(parse_frame1(at(pos)))
            pos += 1
        if at(pos) != "":
            raise ValueError(f"line {pos + 1}: expected the empty line that ends a record, got {at(pos)!r}")
        records.append(Record(int(cm.group(1)), [int(x, 16) for x in cm.group(2).split()], labels,
                              frames, "\n".join(lines[start:pos])))
        pos += 1
    notes = []
    while pos < len(lines) and lines[pos].startswith("# "):
        notes.append(lines[pos])
        pos += 1
    return Profile1(int(m.group(1)), records, notes, "\n".join(lines[pos:]))


@dataclasses.dataclass
class Frame2:
    """One frame of a debug=2 (traceback) block: `func(args)` and `\tfile:line +0xOFF`."""
    function: str
    args: str
    file: str
    line: int
    offset: str = None   # "+0x27", or None (inlined frame, or at function entry)
    pc: int = None       # traceback level 2 only (" pc=0x...")

    def masked(self):
        loc = f"\t{self.file}:{self.line}" + (f" {self.offset}" if self.offset else "")
        return f"{self.function}(...)\n{loc}"


@dataclasses.dataclass
class Goroutine:
    goid: int
    status: str          # "chan send", "running", ... (without minutes and flags)
    minutes: int         # None when not printed
    locked: bool
    frames: list         # Frame2, or the text of an elision line ("...N frames elided...")
    created_by: str = None     # "main.parkers.func1", "os/exec.(*Cmd).Start in goroutine 1"
    created_at: str = None     # "\tfile:line +0xOFF"
    unavailable: bool = False  # "goroutine running on other thread; stack unavailable"

    @property
    def functions(self):
        return [f.function for f in self.frames if isinstance(f, Frame2)]

    def normalized(self, minutes=True):
        """The block as stacktop must print it: arguments masked, level-2
        decorations gone."""
        flags = [self.status]
        if minutes and self.minutes is not None:
            flags.append(f"{self.minutes} minutes")
        if self.locked:
            flags.append("locked to thread")
        out = [f"goroutine {self.goid} [{', '.join(flags)}]:"]
        out += [f.masked() if isinstance(f, Frame2) else f for f in self.frames]
        if self.unavailable:
            out.append("\tgoroutine running on other thread; stack unavailable")
        if self.created_by is not None:
            out += [f"created by {self.created_by}", self.created_at]
        return "\n".join(out)


# `gp=... m=... mp=...` appear at traceback level 2 (Go >= 1.23).
HEADER2 = re.compile(r"goroutine (\d+)(?: gp=0x[0-9a-f]+ m=(?:\d+|nil)(?: mp=0x[0-9a-f]+)?)? \[(.*)\]:")
LOCATION = re.compile(r"\t(.*):(\d+)(?: (\+0x[0-9a-f]+))?(?: fp=0x[0-9a-f]+ sp=0x[0-9a-f]+ pc=0x([0-9a-f]+))?")
ELIDED = re.compile(r"\.\.\.(additional frames elided|\d+ frames elided)\.\.\.")


def parse_location(line):
    m = LOCATION.fullmatch(line)
    if not m:
        raise ValueError(f"not a traceback location line: {line!r}")
    return m.group(1), int(m.group(2)), m.group(3), int(m.group(4), 16) if m.group(4) else None


def split_call(line):
    """'pkg.(*T).f(0x1, {0x2, 0x3}, ...)' -> ('pkg.(*T).f', '(0x1, {0x2, 0x3}, ...)').
    Go prints arguments as hex words, '?', '_', '{', '}', '...': never a
    parenthesis, so the arguments start at the last '('."""
    i = line.rfind("(")
    if i <= 0 or not line.endswith(")"):
        raise ValueError(f"not a traceback function line: {line!r}")
    return line[:i], line[i:]


def parse_header2(line):
    m = HEADER2.fullmatch(line)
    if not m:
        raise ValueError(f"not a goroutine header: {line!r}")
    parts = m.group(2).split(", ")
    status, minutes, locked = parts[0], None, False
    for part in parts[1:]:
        mm = re.fullmatch(r"(\d+) minutes", part)
        if mm:
            minutes = int(mm.group(1))
        elif part == "locked to thread":
            locked = True
        else:
            raise ValueError(f"unknown goroutine header field {part!r} in {line!r}")
    return int(m.group(1)), status, minutes, locked


def parse_block2(block):
    lines = block.split("\n")
    goid, status, minutes, locked = parse_header2(lines[0])
    g = Goroutine(goid, status, minutes, locked, [])
    i = 1
    while i < len(lines):
        line = lines[i]
        if line.startswith("created by "):
            if i + 1 >= len(lines):
                raise ValueError(f"goroutine {goid}: 'created by' without a location")
            g.created_by = line[len("created by "):]
            file, lineno, offset, _ = parse_location(lines[i + 1])
            g.created_at = f"\t{file}:{lineno}" + (f" {offset}" if offset else "")
            i += 2
            if i < len(lines):
                raise ValueError(f"goroutine {goid}: lines after 'created by': {lines[i]!r}")
        elif ELIDED.fullmatch(line):
            g.frames.append(line)
            i += 1
        elif line == "\tgoroutine running on other thread; stack unavailable":
            g.unavailable = True
            i += 1
        else:
            if i + 1 >= len(lines):
                raise ValueError(f"goroutine {goid}: frame {line!r} without a location")
            function, args = split_call(line)
            file, lineno, offset, pc = parse_location(lines[i + 1])
            g.frames.append(Frame2(function, args, file, lineno, offset, pc))
            i += 2
    return g


def parse_debug2(text, sigquit=False):
    """Go's debug=2 (or stacktop's --debug 2) as a list of Goroutine, in
    order. stacktop's `# ...` footer lines are returned separately. With
    sigquit, `text` is a Go program's crash output: blocks that are not
    goroutines (the SIGQUIT line, the register dump) are skipped."""
    notes = []
    lines = text.rstrip("\n").split("\n")
    while lines and (lines[-1].startswith("# ") or (lines[-1] == "" and notes)):
        if lines[-1]:
            notes.insert(0, lines[-1])
        lines.pop()
    goroutines = []
    for block in "\n".join(lines).split("\n\n"):
        block = block.strip("\n")
        if not block:
            continue
        if sigquit and not block.startswith("goroutine "):
            continue
        goroutines.append(parse_block2(block))
    return goroutines, notes


# ---- traceback level 2 (a SIGQUIT crash) -> level 1 (runtime.Stack, pprof debug=2)
# traceback.go: isSystemGoroutine, showframe/showfuncinfo, printcreatedby.

def is_hidden_function(name):
    """showfuncinfo at level 1: no '.' in the name, or an unexported runtime function."""
    if "." not in name:
        return True
    return name.startswith("runtime.") and not ("A" <= name[8:9] <= "Z")


def is_wrapper(frame):
    """Wrappers (funcID wrapper) are hidden at level 1; the text does not carry
    the funcID, so: method-value wrappers (-fm), go-statement wrappers
    (.gowrapN, Go >= 1.22) and compiler-generated methods (<autogenerated>)."""
    return (frame.function.endswith("-fm") or re.search(r"\.gowrap\d+$", frame.function) is not None
            or frame.file == "<autogenerated>")


def is_system_goroutine(g):
    """isSystemGoroutine: from the start function, the outermost frame below
    runtime.goexit. The finalizer and cleanup goroutines count as user
    goroutines while they run user code (Go reads fingStatus /
    runningCleanups; their wait reasons say when they do not)."""
    frames = [f for f in g.frames if isinstance(f, Frame2)]
    if g.goid == 0 or not frames:
        return g.goid == 0
    if frames[-1].function == "runtime.goexit" and len(frames) > 1:
        frames = frames[:-1]
    start = frames[-1].function
    if start in ("runtime.main", "runtime.handleAsyncEvent", "runtime.corostart"):
        return False
    if start in ("runtime.runfinq", "runtime.runFinalizers"):
        return g.status == "finalizer wait"
    if start == "runtime.runCleanups":
        return g.status == "cleanup wait"
    return start.startswith("runtime.")


def to_level1(goroutines):
    """What runtime.Stack(buf, true) (pprof debug=2) would print of a level-2
    traceback: system goroutines gone, runtime and wrapper frames hidden (all
    frames when that would leave none), creators that are hidden runtime
    functions not printed, no creator for goroutine 1."""
    out = []
    for g in goroutines:
        if is_system_goroutine(g):
            continue
        shown = [f for f in g.frames
                 if not isinstance(f, Frame2) or not (is_hidden_function(f.function) or is_wrapper(f))]
        if not any(isinstance(f, Frame2) for f in shown):
            shown = list(g.frames)
        created_by, created_at = g.created_by, g.created_at
        creator = (created_by or "").split(" in goroutine ")[0]
        if created_by is not None and (g.goid == 1 or is_hidden_function(creator)):
            created_by = created_at = None
        frames = [dataclasses.replace(f, pc=None) if isinstance(f, Frame2) else f for f in shown]
        out.append(dataclasses.replace(g, frames=frames, created_by=created_by, created_at=created_at))
    return out


# ---- the rules for the profile request's own goroutines (module docstring)

def is_http_connection(functions):
    """R1, R2: the stack belongs to an HTTP connection (the profile request)."""
    return any(f and (f.startswith("net/http.(*conn).") or f.startswith("net/http.(*connReader)."))
               for f in functions)


def is_request_record(record):
    """R1-R3 for a debug=1 record."""
    return is_http_connection(record.functions) or (not record.frames and len(record.pcs) == 1)


def is_request_group(group):
    """R1-R3 for a group of stacktop's JSON."""
    functions = [f["function"] for f in group["frames"]]
    return is_http_connection(functions) or (not group["frames"] and len(group["pcs"]) == 1)


# ---------------------------------------------------------------------------
# Talking to the fixture, to stacktop and to the Go programs.


def ready_fields(fixture):
    """The fixture's ready line as a dict: port, goroutines, and KIND=COUNT."""
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", fixture.ready_line)}


def fetch(port, debug):
    """The process's own goroutine profile, one request on its own connection."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}/debug/pprof/goroutine?debug={debug}",
                                 headers={"Connection": "close"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        assert resp.status == 200
        return resp.read().decode()


def go_debug1(port):
    p = parse_debug1(fetch(port, 1))
    assert p.total == sum(r.count for r in p.records), "Go's own debug=1 total != sum of its counts"
    assert not p.notes and p.rest == ""
    return p


def go_debug2(port):
    goroutines, notes = parse_debug2(fetch(port, 2))
    assert not notes
    return goroutines


def stacktop_out(pid, *args):
    """stdout of `stacktop dump PID ARGS`, which must succeed."""
    r = run_stacktop("dump", pid, *args)
    assert r.returncode == 0, \
        f"stacktop dump {' '.join(map(str, args))} failed (exit {r.returncode}): {r.stderr.strip()}"
    return r.stdout


def stacktop_debug1(pid):
    """stacktop's goroutine part (--goroutines), parsed like Go's debug=1."""
    out = stacktop_out(pid, "--goroutines")
    assert out.startswith("goroutine profile: total "), f"stacktop printed no goroutine profile:\n{out[:800]}"
    p = parse_debug1(out)
    assert p.total == sum(r.count for r in p.records), "stacktop's total != sum of its counts"
    assert p.notes and READ_LINE.fullmatch(p.notes[-1]), f"no '# goroutines read in' line: {p.notes}"
    assert p.rest == "", f"--goroutines printed more than the goroutine part: {p.rest[:300]!r}"
    return p


def stacktop_debug2(pid):
    out = stacktop_out(pid, "--goroutines", "--debug", "2")
    assert out.startswith("goroutine "), f"stacktop printed no debug=2 goroutines:\n{out[:800]}"
    goroutines, notes = parse_debug2(out)
    assert notes and READ_LINE.fullmatch(notes[-1]), f"no '# goroutines read in' line: {notes}"
    return goroutines


def stacktop_json(pid, *args):
    doc = json.loads(stacktop_out(pid, "--format", "json", *args))
    assert "go" in doc, f"no 'go' object in stacktop's JSON (keys {sorted(doc)})"
    assert "error" not in doc["go"], f"goroutine view unavailable: {doc['go']['error']}"
    return doc


def go_version_of(path):
    """The Go release a binary was built with, read without Go: its build info
    (`\\xff Go buildinf:`, Go >= 1.18 inline-string form), or, for binaries
    built without one (esbuild), the one runtime.buildVersion string."""
    with open(path, "rb") as f:
        data = f.read()
    i = data.find(b"\xff Go buildinf:")
    while i >= 0 and i % 16:
        i = data.find(b"\xff Go buildinf:", i + 1)
    if i >= 0 and data[i + 15] & 2:
        pos, n, shift = i + 32, 0, 0
        while True:
            b = data[pos]
            pos += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        return data[pos:pos + n].decode()
    found = set(re.findall(rb"go1\.\d+\.\d+(?![\d.])", data))
    assert len(found) == 1, f"{path}: no build info and {len(found)} candidate versions {found}"
    return found.pop().decode()


def fixture_kind(functions, labels):
    """The KINDS entry (or OTHERS key) a stack belongs to, or None. labels
    None: not known (debug=2), any labels match."""
    first_main = next((f for f in functions if f and f.startswith("main.")), None)
    for kind, (pattern, kind_labels) in KINDS.items():
        if first_main and re.fullmatch(pattern, first_main) and labels in (None, kind_labels):
            return kind
    for kind, pattern in OTHERS.items():
        if any(f and re.fullmatch(pattern, f) for f in functions):
            return kind
    return None


def is_spin(functions):
    return SPIN in functions


def wait_quiescent(fixture, busy=0, timeout=30):
    """Waits until at most `busy` threads of a Go program are not asleep,
    three samples in a row 50 ms apart. A runnable goroutine keeps a thread
    awake until it has run (an idle thread steals it before it sleeps): so
    then every goroutine but the busy ones is parked or in a system call.
    For programs that cannot say when they have started up, and after a
    profile request to the fixture (whose accept loop wakes up for it, and
    may not have parked again yet on a loaded machine). busy=1: the
    fixture's busy loop."""
    deadline = time.monotonic() + timeout
    calm = 0
    while calm < 3:
        states = thread_states(fixture.pid)
        assert time.monotonic() < deadline, f"{fixture.argv[0]} never went quiet: {states}"
        calm = calm + 1 if states and sum(s != "S" for s in states.values()) <= busy else 0
        time.sleep(0.05)


def start_fixture(spawn, variant, **kw):
    """The goroutines fixture, once its main goroutine has parked too: it
    prints "ready" itself, and on a loaded machine may not be back from that
    write(2) when the test starts looking."""
    p = spawn(variant, **kw)
    wait_quiescent(p, busy=1)
    return p


# ---------------------------------------------------------------------------
# The oracle itself: the fixture's own profile is what the fixture says it is.


@pytest.mark.parametrize("variant", VARIANTS)
def test_fixture_own_profile_is_known(spawn, variant):
    """Exercises the oracle on every build, independently of stacktop: the
    process's own debug=1 holds exactly the expected groups (one per parking
    place with the ready line's count, main, os/signal, the HTTP accept loop)
    plus the request's own goroutines, and its debug=2 agrees."""
    p = start_fixture(spawn, variant)
    fields = ready_fields(p)
    expected = {k: v for k, v in fields.items() if k in KINDS}
    assert ("cgo" in expected) == (variant == "goroutines_cgo")
    prof = go_debug1(fields["port"])
    seen = collections.Counter()
    for r in prof.records:
        if is_request_record(r):
            continue
        kind = fixture_kind(r.functions, r.labels_dict())
        assert kind, f"unexpected record in the fixture's own profile:\n{r.text}"
        seen[kind] += r.count
    assert seen == collections.Counter({**expected, **{k: 1 for k in OTHERS}})
    assert prof.total - sum(r.count for r in prof.records if is_request_record(r)) == fields["goroutines"]
    # debug=2: the same goroutines, one block each
    blocks = go_debug2(fields["port"])
    assert len({g.goid for g in blocks}) == len(blocks)
    kinds = collections.Counter(fixture_kind(g.functions, None) for g in blocks
                                if not is_http_connection(g.functions))
    assert kinds[None] == 0, [g.normalized() for g in blocks if fixture_kind(g.functions, None) is None]
    assert sum(kinds.values()) == fields["goroutines"]


# ---------------------------------------------------------------------------
# debug=1, byte for byte


def compare_debug1(go, ours):
    """Every record of Go's profile but the request's own (R1-R3) and the busy
    loop is in stacktop's, byte for byte and in the same order; stacktop has
    nothing else but the busy loop and connection goroutines; totals agree."""
    go_records = [r for r in go.records if not is_request_record(r)]
    our_records = [r for r in ours.records if not is_request_record(r)]
    go_spin = [r for r in go_records if is_spin(r.functions)]
    our_spin = [r for r in our_records if is_spin(r.functions)]
    assert len(go_spin) == 1 and len(our_spin) == 1, (go_spin, our_spin)
    (gs,), (os_,) = go_spin, our_spin
    # the running goroutine: the same function and file, the same callers
    assert os_.count == 1 and os_.functions == [SPIN], os_.text
    assert os_.frames[0].file == gs.frames[0].file
    assert os_.pcs[-1] == gs.pcs[-1], "the busy loop's stack does not end at Go's runtime.goexit PC"
    go_text = [r.text for r in go_records if r is not gs]
    our_text = [r.text for r in our_records if r is not os_]
    missing = [t for t in go_text if t not in our_text]
    extra = [t for t in our_text if t not in go_text]
    assert not missing, "records of Go's own profile that stacktop does not print byte for byte:\n\n" + \
        "\n\n".join(missing) + "\n\n--- stacktop printed:\n\n" + "\n\n".join(extra)
    assert not extra, "records stacktop printed that Go's profile does not have:\n\n" + "\n\n".join(extra)
    assert our_text == go_text, "the same records in another order (Go: by count, then by PC list text)"
    request_go = sum(r.count for r in go.records if is_request_record(r))
    request_ours = sum(r.count for r in ours.records if is_request_record(r))
    assert go.total - request_go == ours.total - request_ours


@pytest.mark.parametrize("variant", VARIANTS)
def test_debug1_matches_go_byte_for_byte(spawn, variant):
    p = start_fixture(spawn, variant)
    port = ready_fields(p)["port"]
    ours = stacktop_debug1(p.pid)
    go = go_debug1(port)
    compare_debug1(go, ours)
    # and the other way round in time: stacktop after Go's request
    go = go_debug1(port)
    wait_quiescent(p, busy=1)
    compare_debug1(go, stacktop_debug1(p.pid))


# ---------------------------------------------------------------------------
# debug=2, goroutine by goroutine


def compare_debug2(go, ours, exact_minutes=lambda g: False):
    """Go's debug=2 blocks (arguments masked) against stacktop's, by goid.
    The two snapshots are taken at different moments, so a goroutine may
    cross a minute boundary in between: `N minutes` may differ by one, except
    on the goroutines exact_minutes(g) selects."""
    go = {g.goid: g for g in go if not is_http_connection(g.functions)}
    ours_all = {g.goid: g for g in ours}
    ours = {goid: g for goid, g in ours_all.items() if not is_http_connection(g.functions)}
    assert sorted(go) == sorted(ours), \
        f"goids only in Go's output: {sorted(set(go) - set(ours))}, only in stacktop's: {sorted(set(ours) - set(go))}"
    order_go = [goid for goid in go if goid in ours]
    assert list(ours) == order_go, "goroutines not in Go's order (allgs)"
    diffs = []
    for goid, g in go.items():
        o = ours[goid]
        if is_spin(g.functions):
            # running when stopped: [running] (or [runnable] if Go had just
            # preempted it), its own PC; the function and the creator agree
            assert o.status in ("running", "runnable"), o.normalized()
            assert o.functions == g.functions and (o.created_by, o.created_at) == (g.created_by, g.created_at)
            continue
        if not exact_minutes(g) and abs((g.minutes or 0) - (o.minutes or 0)) <= 1:
            o = dataclasses.replace(o, minutes=g.minutes)
        if g.normalized() != o.normalized():
            diffs.append(f"--- Go:\n{g.normalized()}\n--- stacktop:\n{o.normalized()}")
    assert not diffs, f"{len(diffs)} goroutines differ:\n" + "\n".join(diffs[:10])


@pytest.mark.parametrize("variant", VARIANTS)
def test_debug2_matches_go(spawn, variant):
    p = start_fixture(spawn, variant)
    port = ready_fields(p)["port"]
    ours = stacktop_debug2(p.pid)
    compare_debug2(go_debug2(port), ours)
    assert any(g.created_by for g in ours)
    assert any(isinstance(f, Frame2) and f.offset is None for g in ours for f in g.frames), \
        "no inlined frame (main.send is inlined into main.check)"


def test_minutes_match_go(spawn):
    """`N minutes` counts from the first GC that saw the goroutine parked (the
    fixture runs one just before it says ready): once Go's own debug=2 shows
    `1 minutes`, stacktop's must show the same on the same goroutines. Exact
    on the fixture's parked goroutines, whose minute boundary the test has
    just seen pass; main, os/signal and the accept loop parked later (the GCs
    that the polling requests cause date them) and may cross theirs between
    the two snapshots."""
    p = start_fixture(spawn, "goroutines")
    port = ready_fields(p)["port"]
    ours = stacktop_debug2(p.pid)                       # the view exists before we wait
    assert all(g.minutes is None for g in ours), "minutes before a minute has passed"
    deadline = time.monotonic() + 180
    while True:
        go = go_debug2(port)
        waited = [g for g in go if fixture_kind(g.functions, None) == "send"]
        if waited and all(g.minutes == 1 for g in waited):
            break
        assert time.monotonic() < deadline, "Go never showed '1 minutes' on the parked goroutines"
        assert all(g.minutes is None for g in waited), [g.minutes for g in waited]
        time.sleep(0.5)
    first_minute = time.monotonic()
    wait_quiescent(p, busy=1)
    ours = stacktop_debug2(p.pid)
    go = go_debug2(port)
    assert time.monotonic() - first_minute < 50, "too slow to stay inside the first minute"
    compare_debug2(go, ours, exact_minutes=lambda g: fixture_kind(g.functions, None) in KINDS)
    assert sum(1 for g in ours if g.minutes == 1) >= sum(ready_fields(p)[k] for k in ("send", "recv", "mutex"))


# ---------------------------------------------------------------------------
# JSON, folded, the parts of the text output


@pytest.mark.parametrize("variant", VARIANTS)
def test_json_agrees_with_text_and_go(spawn, variant):
    p = start_fixture(spawn, variant)
    port = ready_fields(p)["port"]
    text = stacktop_debug1(p.pid)
    doc = stacktop_json(p.pid)
    go2 = {g.goid: g for g in go_debug2(port)}
    gdoc = doc["go"]
    assert gdoc["version"] == go_version_of(p.argv[0]) and gdoc["version"].startswith("go1.19")
    assert gdoc["read_ms"] >= 0 and gdoc["stopped_ms"] >= 0 and isinstance(gdoc["notes"], list)
    groups = gdoc["goroutines"]["groups"]
    assert gdoc["goroutines"]["total"] == sum(g["count"] for g in groups)
    all_goids = [goid for g in groups for goid in g["goids"]]
    assert len(all_goids) == len(set(all_goids)) == gdoc["goroutines"]["total"]
    # the same snapshot as the thread part of the same object
    assert doc["total_threads"] == sum(g["count"] for g in doc["groups"])
    by_key = {(tuple(r.pcs), json.dumps(r.labels_dict(), sort_keys=True)): r for r in text.records}
    checked = 0
    for g in groups:
        functions = [f["function"] for f in g["frames"]]
        assert g["count"] == len(g["goids"]) == sum(g["wait_reasons"].values()), g
        assert all(re.fullmatch(r"0x[0-9a-f]+", pc) for pc in g["pcs"])
        if is_request_group(g) or is_spin(functions):
            continue
        # the text's record with the same PC list and labels: the same frames
        key = (tuple(int(pc, 16) for pc in g["pcs"]), json.dumps(g["labels"], sort_keys=True))
        r = by_key.get(key)
        assert r is not None, f"JSON group without a text record: {g}"
        assert r.count == g["count"]
        assert [(int(f["pc"], 16), f["function"], f["offset"], f["file"], f["line"]) for f in g["frames"]] == \
            [(f.pc, f.function, f.offset, f.file, f.line) for f in r.frames]
        # the goids are Go's goroutines with this stack and these wait reasons
        blocks = [go2[goid] for goid in g["goids"]]
        assert collections.Counter(b.status for b in blocks) == collections.Counter(g["wait_reasons"])
        shown = [f for f in g["frames"] if not is_hidden_function(f["function"])]
        for b in blocks:
            assert [(f["function"], f["file"], f["line"], f["inlined"]) for f in shown] == \
                [(f.function, f.file, f.line, f.offset is None) for f in b.frames], (g, b.normalized())
        checked += 1
    assert checked >= len([k for k in ready_fields(p) if k in KINDS]) - 1
    covered = set(all_goids)
    expected = {goid for goid, b in go2.items() if not is_http_connection(b.functions)}
    assert covered - expected == {goid for g in groups if is_request_group(g) for goid in g["goids"]}
    assert expected <= covered


def test_folded_goroutine_lines_first(spawn):
    p = start_fixture(spawn, "goroutines")
    text = stacktop_debug1(p.pid)
    folded = stacktop_out(p.pid, "--format", "folded").splitlines()
    with open(f"/proc/{p.pid}/comm") as f:
        comm = f.read().strip()
    expected = [f"{comm};{';'.join(reversed(r.functions))} {r.count}" for r in text.records]
    assert any(is_spin(r.functions) for r in text.records)
    # one line per goroutine group first, in the groups' order (the busy
    # loop's PCs, and so its place among the groups of 1, may change between
    # the two snapshots), then the thread lines
    assert len(folded) > len(expected)
    assert sorted(folded[:len(expected)]) == sorted(expected)
    counts = [int(line.rsplit(" ", 1)[1]) for line in folded[:len(expected)]]
    assert counts == sorted(counts, reverse=True)
    assert all(line.startswith(comm + ";") for line in folded)


def test_text_parts_and_options(spawn):
    p = start_fixture(spawn, "goroutines")
    threads = int(proc_status(p.pid)["Threads"])
    both = stacktop_out(p.pid)
    assert both.startswith("goroutine profile: total "), both[:300]
    gor, _, rest = both.partition("\n\nthread profile: total ")
    assert rest, "no thread profile after the goroutine part"
    prof = parse_debug1(gor + "\n")
    assert prof.notes and READ_LINE.fullmatch(prof.notes[-1]) and prof.rest == ""
    assert int(rest.split("\n", 1)[0]) == threads == int(proc_status(p.pid)["Threads"])
    only_go = stacktop_out(p.pid, "--goroutines")
    assert "thread profile" not in only_go and READ_LINE.fullmatch(only_go.rstrip("\n").split("\n")[-1])
    only_threads = stacktop_out(p.pid, "--threads")
    assert only_threads.startswith("thread profile: total ") and "goroutine profile" not in only_threads
    doc = json.loads(stacktop_out(p.pid, "--format", "json", "--threads"))
    assert "go" not in doc and doc["total_threads"] == threads


def test_total_matches_numgoroutine(spawn):
    """The fixture's own runtime.NumGoroutine(), asked right before and right
    after the dump (no HTTP request in flight), equals stacktop's total."""
    p = start_fixture(spawn, "goroutines")

    def num_goroutine():
        os.kill(p.pid, signal.SIGUSR1)
        line = p.wait_line(r"^goroutines=\d+$", timeout=20)
        assert line, "the fixture did not answer SIGUSR1"
        return int(line.split("=")[1])

    for _ in range(3):
        before = num_goroutine()
        ours = stacktop_debug1(p.pid)
        after = num_goroutine()
        if before == after:
            break
    assert before == after == ready_fields(p)["goroutines"]
    assert ours.total == before


def test_non_go_process_unchanged(spawn):
    p = spawn("stack_groups")
    text = stacktop_out(p.pid)
    assert text.startswith("thread profile: total 58\n")
    assert "goroutine" not in text
    doc = json.loads(stacktop_out(p.pid, "--format", "json"))
    assert "go" not in doc and doc["total_threads"] == 58


# ---------------------------------------------------------------------------
# The thread view of Go processes: pclntab names and lines, no lost frames


def thread_groups(pid):
    """The thread part of the JSON (without --threads: it works before the goroutine view)."""
    return json.loads(stacktop_out(pid, "--format", "json"))["groups"]


def read_thread_frames(groups):
    """The frames of the threads blocked in main.readPipe's read(2)."""
    hits = [g for g in groups if any(f["function"] == "main.readPipe" for f in g["frames"])]
    assert len(hits) == 1 and hits[0]["count"] == 2, \
        f"expected one group of 2 threads in main.readPipe, got {[g['count'] for g in hits]}"
    return [(f["function"], f["file"], f["line"]) for f in hits[0]["frames"]]


def test_go_threads_named_with_lines(spawn):
    """Stripped Go binary: every frame in the binary is named and has
    file:line (from .gopclntab); frameless assembly keeps its caller; the
    thread in the pipe read equals the plain build's and Go's own view."""
    stripped = start_fixture(spawn, "goroutines_stripped")
    plain = start_fixture(spawn, "goroutines")
    groups = thread_groups(stripped.pid)
    exe = os.path.realpath(stripped.argv[0])
    for g in groups:
        for f in g["frames"]:
            if f["module"] and os.path.realpath(f["module"]) == exe:
                assert f["function"] and f["file"] and f["line"], f"unnamed Go frame {f} in {g['pcs']}"
        functions = [f["function"] for f in g["frames"]]
        for inner, outer in zip(functions, functions[1:]):
            if inner == "runtime.futex":
                assert outer in ("runtime.futexsleep", "runtime.futexwakeup"), functions
            if inner == "runtime/internal/syscall.Syscall6":
                assert outer == "syscall.RawSyscall6", functions
        assert functions[-1:] != ["runtime.futexsleep"], f"nothing after runtime.futexsleep: {functions}"
    assert any(f["function"] == "runtime.futex" for g in groups for f in g["frames"]), \
        "no thread in runtime.futex (idle threads wait there)"
    ours = read_thread_frames(groups)
    assert ours == read_thread_frames(thread_groups(plain.pid)), "stripped and plain builds differ"
    # Go's own view of that goroutine starts at the syscall.Syscall frame
    # (g.syscallpc, the return address of its entersyscall call); the thread
    # is deeper, in RawSyscall6's call, so that one frame's line differs.
    go = [g for g in go_debug2(ready_fields(stripped)["port"]) if "main.readPipe" in g.functions][0]
    expected = [(f.function, f.file, f.line) for f in go.frames]
    names = [f for f, _, _ in ours]
    assert names[:2] == ["runtime/internal/syscall.Syscall6", "syscall.RawSyscall6"], names
    assert names[2:] == [f for f, _, _ in expected] + ["runtime.goexit"], names
    assert ours[3:-1] == expected[1:]
    assert ours[2][:2] == expected[0][:2]


# ---------------------------------------------------------------------------
# Newer Go releases (npm): no pprof endpoint; the program's own SIGQUIT traceback


def has_descendant(fixture, comm):
    """Whether a process named comm runs below the fixture."""
    pids = [fixture.pid]
    while pids:
        pid = pids.pop()
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except FileNotFoundError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    children = [int(c) for c in f.read().split()]
            except FileNotFoundError:
                continue
            for child in children:
                try:
                    with open(f"/proc/{child}/comm") as f:
                        if f.read().strip() == comm:
                            return True
                except FileNotFoundError:
                    continue
                pids.append(child)
    return False


def start_esbuild(spawn, tmp_path):
    (tmp_path / "in.js").write_text("console.log(1)\n")
    # serve mode on a free loopback port; it serves while stdin stays open
    p = spawn(os.path.join(NPM_DIR, "esbuild"), "in.js", "--outdir=out", "--serve=127.0.0.1:0",
              cwd=tmp_path, env=dict(os.environ, GOTRACEBACK="all"), stdin=subprocess.PIPE,
              ready=r"Local: +http://127\.0\.0\.1:\d+", ready_stream="stderr")
    wait_quiescent(p)
    return p


def start_lefthook(spawn, tmp_path):
    """`lefthook run` of a hook whose command (cat) waits on lefthook's stdin:
    our pipe, so it ends when the test closes it, whatever became of lefthook
    (a command without use_stdin runs in a process group of its own)."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "lefthook.yml").write_text("hold:\n  commands:\n    wait:\n      run: cat\n      use_stdin: true\n")
    env = dict(os.environ, GOTRACEBACK="all", NO_COLOR="1")
    p = spawn(os.path.join(NPM_DIR, "lefthook"), "run", "hold", cwd=tmp_path, env=env,
              stdin=subprocess.PIPE, ready=lambda fp: has_descendant(fp, "cat"), ready_timeout=60)
    wait_quiescent(p)   # os/exec starts its copying goroutines after the command
    return p


NEWER_GO = [("esbuild", "go1.26.5", "github.com/evanw/esbuild/pkg/cli.serveImpl"),
            ("lefthook", "go1.27.0", "os/exec.(*Cmd).Wait")]


def sigquit_goroutines(fixture):
    """SIGQUIT: the program's own traceback (level 2) of every goroutine."""
    crash = fixture.signal_and_collect(signal.SIGQUIT)
    assert "SIGQUIT: quit" in crash, crash[:500]
    level2, _ = parse_debug2(crash[crash.index("SIGQUIT: quit"):], sigquit=True)
    assert level2, crash[:1000]
    return level2


@pytest.mark.parametrize("program,version,waiting_in", NEWER_GO, ids=[n[0] for n in NEWER_GO])
def test_newer_go_oracle(spawn, tmp_path, program, version, waiting_in):
    """Exercises the oracle of the next test without stacktop: the program
    starts and idles where expected, its version is known, its SIGQUIT
    traceback parses, and level 1 keeps goroutine 1 in its known place."""
    start = {"esbuild": start_esbuild, "lefthook": start_lefthook}[program]
    p = start(spawn, tmp_path)
    assert go_version_of(p.argv[0]) == version
    level2 = sigquit_goroutines(p)
    assert len({f.pc for g in level2 for f in g.frames
                if isinstance(f, Frame2) and f.function == "runtime.goexit"}) == 1
    assert any(is_system_goroutine(g) for g in level2)
    level1 = {g.goid: g for g in to_level1(level2)}
    assert 1 in level1 and waiting_in in level1[1].functions, level1.get(1)
    assert all(not is_hidden_function(f) for g in level1.values() for f in g.functions), \
        [g.normalized() for g in level1.values() if any(is_hidden_function(f) for f in g.functions)]
    assert len(level1) >= 3


def without_legacy_go_wrapper(g):
    """Go 1.17-1.21 run `go f(x)` through a wrapper closure named like any
    closure of the creator (creator.funcN, creator.funcN.M) at the go
    statement's line, hidden at level 1. From 1.22 it is creator.gowrapN,
    which is_wrapper knows. Here: g without such an outermost frame."""
    frames = [f for f in g.frames if isinstance(f, Frame2)]
    creator = (g.created_by or "").split(" in goroutine ")[0]
    if not frames or not creator or not g.created_at:
        return g
    last = frames[-1]
    if re.fullmatch(re.escape(creator) + r"\.(func)?\d+", last.function) and \
            g.created_at.startswith(f"\t{last.file}:{last.line} "):
        return dataclasses.replace(g, frames=g.frames[:-1])
    return g


def test_sigquit_conversion_matches_pprof(spawn):
    """Checks the oracle of the newer-Go test against Go's own level 1: the
    fixture's SIGQUIT traceback (level 2) turned into level 1 by to_level1
    equals its pprof debug=2, goroutine by goroutine."""
    p = start_fixture(spawn, "goroutines", env=dict(os.environ, GOTRACEBACK="all"))
    pprof = {g.goid: g for g in go_debug2(ready_fields(p)["port"]) if not is_http_connection(g.functions)}
    wait_quiescent(p, busy=1)
    level2 = sigquit_goroutines(p)
    signalled = level2[0].goid
    level1 = {g.goid: g for g in to_level1(level2) if not is_http_connection(g.functions)}
    assert sorted(level1) == sorted(pprof)
    compared = 0
    for goid, g in pprof.items():
        o = level1[goid]
        if is_spin(g.functions):
            continue
        compared += 1
        if goid == signalled:
            compare_signalled(without_legacy_go_wrapper(o), g)
            continue
        assert g.normalized() in (o.normalized(), without_legacy_go_wrapper(o).normalized()), \
            f"--- pprof:\n{g.normalized()}\n--- SIGQUIT at level 1:\n{o.normalized()}"
    assert compared == len(pprof) - 1


@pytest.mark.parametrize("program,version,waiting_in", NEWER_GO, ids=[n[0] for n in NEWER_GO])
def test_newer_go_against_sigquit_traceback(spawn, tmp_path, program, version, waiting_in):
    start = {"esbuild": start_esbuild, "lefthook": start_lefthook}[program]
    p = start(spawn, tmp_path)
    assert go_version_of(p.argv[0]) == version
    doc = stacktop_json(p.pid, "--goroutines")
    gdoc = doc["go"]
    assert gdoc["version"] == version
    groups = gdoc["goroutines"]["groups"]
    assert groups and gdoc["goroutines"]["total"] == sum(g["count"] for g in groups)
    for g in groups:
        for f in g["frames"]:
            assert f["function"] and f["function"] != "?" and f["file"] and f["line"] > 0, (f, g)
    ours = stacktop_debug2(p.pid)
    assert all(f.function and f.file and f.line > 0 for g in ours for f in g.frames if isinstance(f, Frame2))

    level2 = sigquit_goroutines(p)
    # Go >= 1.21 prints SIGQUIT tracebacks at level 2 (runtime frames, pc=):
    # every complete stack ends at the same runtime.goexit return address.
    goexit = {f.pc for g in level2 for f in g.frames if isinstance(f, Frame2) and f.function == "runtime.goexit"}
    assert len(goexit) == 1, goexit
    goexit = goexit.pop()
    for g in groups:
        assert int(g["pcs"][-1], 16) == goexit, f"stack does not end at runtime.goexit ({goexit:#x}): {g}"

    go = {g.goid: g for g in to_level1(level2)}
    assert waiting_in in go[1].functions
    mine = {g.goid: g for g in ours}
    # The three reads come one after the other from a live program: between
    # them short-lived goroutines may end, and new ones (higher goids: Go
    # numbers them in order) may start. Any other difference is ours.
    assert_same_goroutines(go, mine, "stacktop --debug 2")
    assert_same_goroutines(go, {goid for g in groups for goid in g["goids"]}, "stacktop --format json")
    signalled = level2[0].goid
    diffs = []
    for goid, g in go.items():
        if goid not in mine:
            continue
        o = mine[goid]
        if g.unavailable or g.status in ("running", "runnable") or o.status in ("running", "runnable"):
            continue   # no stack on Go's side, or moving between the two snapshots
        if goid == signalled:
            compare_signalled(g, o)
        elif g.normalized() != o.normalized():
            diffs.append(f"--- Go (SIGQUIT, level 1):\n{g.normalized()}\n--- stacktop:\n{o.normalized()}")
    assert not diffs, f"{len(diffs)} goroutines differ:\n" + "\n".join(diffs[:10])


def assert_same_goroutines(later, earlier, what):
    later, earlier = set(later), set(earlier)
    newer = later - earlier
    assert all(goid > max(earlier) for goid in newer), \
        f"goids: Go {sorted(later)}, {what} {sorted(earlier)}: {sorted(newer)} are missing and not newer"
    assert len(later & earlier) >= len(earlier) // 2, f"goids: Go {sorted(later)}, {what} {sorted(earlier)}"


def compare_signalled(go, ours):
    """The goroutine that took SIGQUIT (printed first; goroutine 0 when the
    signal landed on a thread's g0) is traced from the signal's PC, deeper
    than where stacktop starts it (g.syscallpc, g.sched.pc): Go prints more
    inner frames, and the innermost frame stacktop shows is at another PC of
    the same function there (another line and +0x). The rest is identical."""
    ours_frames = [f.masked() if isinstance(f, Frame2) else f for f in ours.frames]
    go_frames = [f.masked() if isinstance(f, Frame2) else f for f in go.frames]
    n = len(ours_frames)
    assert 1 <= n <= len(go_frames), (go.normalized(), ours.normalized())
    inner_go, inner_ours = go.frames[len(go.frames) - n], ours.frames[0]
    assert (inner_go.function, inner_go.file) == (inner_ours.function, inner_ours.file), \
        (go.normalized(), ours.normalized())
    assert go_frames[len(go_frames) - n + 1:] == ours_frames[1:], (go.normalized(), ours.normalized())
    assert (go.status, go.locked, go.created_by, go.created_at) == \
        (ours.status, ours.locked, ours.created_by, ours.created_at)


# ---------------------------------------------------------------------------
# Unit tests of the parsers on canned Go output (no process involved)

CANNED_DEBUG1 = """goroutine profile: total 9
5 @ 0x439976 0x44a8de 0x44a8b5 0x4660a5 0x4704c5 0x66e459 0x66e435 0x469f81
#\t0x4660a4\tsync.runtime_SemacquireMutex+0x24\t/usr/lib/go-1.19/src/runtime/sema.go:77
#\t0x4704c4\tsync.(*Mutex).lockSlow+0x164\t\t/usr/lib/go-1.19/src/sync/mutex.go:171
#\t0x66e458\tsync.(*Mutex).Lock+0x38\t\t\t/usr/lib/go-1.19/src/sync/mutex.go:90
#\t0x66e434\tmain.lockMutex+0x14\t\t\t/work/fixtures/goroutines/main.go:67

1 @ 0x439976 0x40657b 0x406078 0x66e68c 0x669a63 0x66e910 0x469f81
# labels: {"shard":"1", "worker":"a"}
#\t0x66e68b\tmain.labeled.func1+0x2b\t/work/fixtures/goroutines/main.go:116
#\t0x669a62\truntime/pprof.Do+0xa2\t\t/usr/lib/go-1.19/src/runtime/pprof/runtime.go:40
#\t0x66e90f\tmain.labeled+0x26f\t\t/work/fixtures/goroutines/main.go:115

1 @ 0x4643a5 0x618227 0x469f81
#\t0x4643a4\truntime/pprof.runtime_goroutineProfileWithLabels+0x24\t/usr/lib/go-1.19/src/runtime/mprof.go:846
#\t0x618226\tnet/http.(*conn).serve+0x606\t\t\t\t/usr/lib/go-1.19/src/net/http/server.go:1991

1 @ 0x43809f 0x46b5bb 0x66e641 0x469f81
#\t0x66e640\tmain.spin+0x0\t/work/fixtures/goroutines/main.go:102

1 @ 0x469f81

"""

CANNED_DEBUG2 = """goroutine 5 [running]:
net/http.(*conn).serve(0xc00007e000, {0x75e640, 0xc00006e0c0})
\t/usr/lib/go-1.19/src/net/http/server.go:1991 +0x607
created by net/http.(*Server).Serve
\t/usr/lib/go-1.19/src/net/http/server.go:3102 +0x4db

goroutine 1 [chan receive, 2 minutes]:
main.main()
\t/work/fixtures/goroutines/main.go:257 +0x573

goroutine 25 [chan send, 1 minutes, locked to thread]:
main.send(...)
\t/work/fixtures/goroutines/main.go:52
main.check(0x0?)
\t/work/fixtures/goroutines/main.go:57 +0x27
created by main.parkers.func1
\t/work/fixtures/goroutines/main.go:140 +0x6a

goroutine 162 [chan receive]:
main.(*worker).run(0x0?)
\t/work/fixtures/goroutines/main.go:131 +0x1e
created by main.parkers.func11
\t/work/fixtures/goroutines/main.go:155 +0x94

goroutine 6 [runnable]:
net/http.(*connReader).startBackgroundRead.func2()
\t/usr/lib/go-1.19/src/net/http/server.go:674
runtime.goexit()
\t/usr/lib/go-1.19/src/runtime/asm_amd64.s:1594 +0x1
created by net/http.(*connReader).startBackgroundRead
\t/usr/lib/go-1.19/src/net/http/server.go:674 +0xca
"""

# lefthook (go1.27.0) on SIGQUIT with GOTRACEBACK=all, shortened
CANNED_SIGQUIT = """SIGQUIT: quit
PC=0x41514c m=0 sigcode=0

goroutine 1 gp=0x1dbfb64c01e0 m=0 mp=0x112e3a0 [syscall]:
syscall.Syscall6(0xf7, 0x3, 0xe, 0x1dbfb66fbc80, 0x4, 0x1dbfb66bc480, 0x0)
\tsyscall/syscall_linux.go:96 +0x39 fp=0x1dbfb66fbbf8 sp=0x1dbfb66fbb98 pc=0x4ab459
os.(*Process).Wait(...)
\tos/exec.go:347
main.main()
\tgithub.com/evilmartians/lefthook/v2/main.go:12 +0x105 fp=0x1dbfb66fdeb8 sp=0x1dbfb66fde40 pc=0x9a1565
runtime.main()
\truntime/proc.go:302 +0x427 fp=0x1dbfb66fdfe0 sp=0x1dbfb66fdeb8 pc=0x4542e7
runtime.goexit({})
\truntime/asm_amd64.s:1264 +0x1 fp=0x1dbfb66fdfe8 sp=0x1dbfb66fdfe0 pc=0x4929c1

goroutine 2 gp=0x1dbfb64c0780 m=nil [force gc (idle)]:
runtime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)
\truntime/proc.go:474 +0xca fp=0x1dbfb6504fa8 sp=0x1dbfb6504f88 pc=0x48bbea
runtime.goparkunlock(...)
\truntime/proc.go:480
runtime.forcegchelper()
\truntime/proc.go:387 +0xb3 fp=0x1dbfb6504fe0 sp=0x1dbfb6504fa8 pc=0x454633
runtime.goexit({})
\truntime/asm_amd64.s:1264 +0x1 fp=0x1dbfb6504fe8 sp=0x1dbfb6504fe0 pc=0x4929c1
created by runtime.init.7 in goroutine 1
\truntime/proc.go:375 +0x1a

goroutine 6 gp=0x1dbfb64c1680 m=nil [finalizer wait]:
runtime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)
\truntime/proc.go:474 +0xca fp=0x1dbfb6506620 sp=0x1dbfb6506600 pc=0x48bbea
runtime.runFinalizers()
\truntime/mfinal.go:210 +0x107 fp=0x1dbfb65067e0 sp=0x1dbfb6506620 pc=0x4297a7
runtime.goexit({})
\truntime/asm_amd64.s:1264 +0x1 fp=0x1dbfb65067e8 sp=0x1dbfb65067e0 pc=0x4929c1
created by runtime.createfing in goroutine 1
\truntime/mfinal.go:172 +0x3d

goroutine 40 gp=0x1dbfb6718d20 m=nil [IO wait, 3 minutes]:
runtime.gopark(0x103bf98?, 0x7f4a20386820?, 0x2?, 0x2?, 0x5?)
\truntime/proc.go:474 +0xca fp=0x1dbfb6531b98 sp=0x1dbfb6531b78 pc=0x48bbea
internal/poll.runtime_pollWait(0x7f4a20386800, 0x72)
\truntime/netpoll.go:351 +0x85 fp=0x1dbfb6531bf0 sp=0x1dbfb6531bd0 pc=0x48ade5
os.fileWithoutWriteTo.Read({{}, 0x1dbfb671a2a0?}, {0x1dbfb65c5600?, 0x4218ff?, 0xfcb8b0?})
\t<autogenerated>:1 +0x18 fp=0x1dbfb6531d30 sp=0x1dbfb6531d00 pc=0x5185b8
io.Copy(...)
\tio/io.go:388
os/exec.(*Cmd).Start.gowrap1()
\tos/exec/exec.go:780 +0x1b fp=0x1dbfb6531fe0 sp=0x1dbfb6531fc8 pc=0x655bfb
runtime.goexit({})
\truntime/asm_amd64.s:1264 +0x1 fp=0x1dbfb6531fe8 sp=0x1dbfb6531fe0 pc=0x4929c1
created by os/exec.(*Cmd).Start in goroutine 1
\tos/exec/exec.go:767 +0x92b

goroutine 49 gp=0x1dbfb6718780 m=nil [select, locked to thread]:
runtime.gopark(0x1dbfb670e7a8?, 0x2?, 0x68?, 0x0?, 0x1dbfb670e794?)
\truntime/proc.go:474 +0xca fp=0x1dbfb670e618 sp=0x1dbfb670e5f8 pc=0x48bbea
runtime.ensureSigM.func1()
\truntime/signal_unix.go:1093 +0x188 fp=0x1dbfb670e7e0 sp=0x1dbfb670e758 pc=0x4865c8
runtime.goexit({})
\truntime/asm_amd64.s:1264 +0x1 fp=0x1dbfb670e7e8 sp=0x1dbfb670e7e0 pc=0x4929c1
created by runtime.ensureSigM in goroutine 1
\truntime/signal_unix.go:1076 +0xc5

rax    0xf7
rbx    0x3
"""


def test_parse_debug1_canned():
    p = parse_debug1(CANNED_DEBUG1)
    assert p.total == 9 == sum(r.count for r in p.records)
    assert [r.count for r in p.records] == [5, 1, 1, 1, 1]
    mutex, labeled, handler, spin, unstarted = p.records
    assert mutex.pcs[0] == 0x439976 and len(mutex.pcs) == 8
    assert mutex.functions == ["sync.runtime_SemacquireMutex", "sync.(*Mutex).lockSlow",
                               "sync.(*Mutex).Lock", "main.lockMutex"]
    assert mutex.frames[2] == Frame1(0x66e458, "sync.(*Mutex).Lock", 0x38, "/usr/lib/go-1.19/src/sync/mutex.go", 90)
    assert mutex.text == CANNED_DEBUG1.split("\n\n")[0].split("\n", 1)[1]   # tabs kept
    assert labeled.labels_dict() == {"shard": "1", "worker": "a"} and mutex.labels_dict() == {}
    assert [is_request_record(r) for r in p.records] == [False, False, True, False, True]
    assert is_spin(spin.functions) and not unstarted.frames and unstarted.pcs == [0x469f81]
    assert fixture_kind(mutex.functions, {}) == "mutex"
    assert fixture_kind(labeled.functions, labeled.labels_dict()) == "labels_a"
    assert fixture_kind(labeled.functions, {"worker": "b"}) == "labels_b"
    assert p.notes == [] and p.rest == ""
    # stacktop's goroutine part: a footer, then the thread part
    ours = parse_debug1(CANNED_DEBUG1 + "# 1 goroutine's stack could not be read\n"
                        "# goroutines read in 3.1 ms, process stopped 1.2 ms\n\nthread profile: total 4\n")
    assert len(ours.records) == 5 and READ_LINE.fullmatch(ours.notes[-1])
    assert ours.rest == "\nthread profile: total 4\n"
    for broken in (CANNED_DEBUG1.replace("\n\n1 @ 0x469f81", "\n1 @ 0x469f81"),      # no blank line
                   CANNED_DEBUG1.replace("#\t0x66e640", "#  0x66e640"),              # not a frame
                   CANNED_DEBUG1[:-2], "thread profile: total 3\n"):
        with pytest.raises(ValueError):
            parse_debug1(broken)


def test_parse_debug2_canned():
    blocks, notes = parse_debug2(CANNED_DEBUG2 + "\n# goroutines read in 3.1 ms, process stopped 1.2 ms\n")
    assert READ_LINE.fullmatch(notes[-1])
    assert [g.goid for g in blocks] == [5, 1, 25, 162, 6]
    handler, main, send, method, unstarted = blocks
    assert (main.status, main.minutes, main.locked, main.created_by) == ("chan receive", 2, False, None)
    assert (send.status, send.minutes, send.locked) == ("chan send", 1, True)
    assert send.frames[0] == Frame2("main.send", "(...)", "/work/fixtures/goroutines/main.go", 52)
    assert send.frames[1].offset == "+0x27" and send.frames[1].args == "(0x0?)"
    assert method.functions == ["main.(*worker).run"]
    assert send.normalized() == (
        "goroutine 25 [chan send, 1 minutes, locked to thread]:\n"
        "main.send(...)\n\t/work/fixtures/goroutines/main.go:52\n"
        "main.check(...)\n\t/work/fixtures/goroutines/main.go:57 +0x27\n"
        "created by main.parkers.func1\n\t/work/fixtures/goroutines/main.go:140 +0x6a")
    assert send.normalized(minutes=False).startswith("goroutine 25 [chan send, locked to thread]:")
    assert [is_http_connection(g.functions) for g in blocks] == [True, False, False, False, True]
    assert parse_debug2(CANNED_DEBUG2)[0] == blocks
    for broken in (CANNED_DEBUG2.replace("goroutine 1 [", "goroutine 1 ("),
                   CANNED_DEBUG2.replace("main.main()", "main.main"),
                   CANNED_DEBUG2.replace("\t/work/fixtures/goroutines/main.go:257 +0x573\n", ""),
                   CANNED_DEBUG2.replace("[chan send, 1 minutes", "[chan send, soon")):
        with pytest.raises(ValueError):
            parse_debug2(broken)
    assert split_call("net/http.(*conn).serve(0xc00007e000, {0x75e640, 0xc00006e0c0})") == \
        ("net/http.(*conn).serve", "(0xc00007e000, {0x75e640, 0xc00006e0c0})")


def test_sigquit_level2_to_level1_canned():
    level2, _ = parse_debug2(CANNED_SIGQUIT, sigquit=True)
    assert [g.goid for g in level2] == [1, 2, 6, 40, 49]
    assert {f.pc for g in level2 for f in g.frames if f.function == "runtime.goexit"} == {0x4929c1}
    assert [is_system_goroutine(g) for g in level2] == [False, True, True, False, True]
    level1 = to_level1(level2)
    assert [g.goid for g in level1] == [1, 40]
    main, reader = level1
    assert main.normalized() == (
        "goroutine 1 [syscall]:\n"
        "syscall.Syscall6(...)\n\tsyscall/syscall_linux.go:96 +0x39\n"
        "os.(*Process).Wait(...)\n\tos/exec.go:347\n"
        "main.main(...)\n\tgithub.com/evilmartians/lefthook/v2/main.go:12 +0x105")
    assert reader.normalized() == (
        "goroutine 40 [IO wait, 3 minutes]:\n"
        "internal/poll.runtime_pollWait(...)\n\truntime/netpoll.go:351 +0x85\n"
        "io.Copy(...)\n\tio/io.go:388\n"
        "created by os/exec.(*Cmd).Start in goroutine 1\n\tos/exec/exec.go:767 +0x92b")
    # a goroutine with nothing but hidden frames keeps them all
    hidden = dataclasses.replace(level2[3], frames=[level2[3].frames[i] for i in (0, -2, -1)])
    assert to_level1([hidden])[0].functions == ["runtime.gopark", "os/exec.(*Cmd).Start.gowrap1",
                                                "runtime.goexit"]
    assert is_hidden_function("runtime.gopark") and not is_hidden_function("runtime.Gosched")
    assert is_hidden_function("type:.eq") is False and is_hidden_function("nodot")


def test_go_version_of_canned(tmp_path):
    old = tmp_path / "inline"
    old.write_bytes(b"\0" * 32 + b"\xff Go buildinf:\x08\x02" + b"\0" * 16 + bytes([8]) + b"go1.21.3" + b"\0" * 8)
    assert go_version_of(str(old)) == "go1.21.3"
    bare = tmp_path / "bare"
    bare.write_bytes(b"\0junk go1.26.5\0 go1.26.\0")
    assert go_version_of(str(bare)) == "go1.26.5"


def test_compare_signalled_canned():
    level2, _ = parse_debug2(CANNED_SIGQUIT, sigquit=True)
    go = to_level1(level2)[0]
    # stacktop starts goroutine 1 at g.syscallpc: Syscall6 at another PC
    ours = dataclasses.replace(go, frames=[dataclasses.replace(go.frames[0], line=94, offset="+0x2e")] +
                               go.frames[1:])
    compare_signalled(go, ours)
    deeper = dataclasses.replace(go, frames=[Frame2("internal/runtime/syscall/linux.Syscall6", "()",
                                                    "internal/runtime/syscall/linux/asm_linux_amd64.s", 36,
                                                    "+0xe")] + go.frames)
    compare_signalled(deeper, ours)
    with pytest.raises(AssertionError):
        compare_signalled(go, dataclasses.replace(ours, frames=ours.frames[:1] + ours.frames[2:]))
    with pytest.raises(AssertionError):
        compare_signalled(go, dataclasses.replace(ours, status="IO wait"))


# ---------------------------------------------------------------------------
# A Go service from Debian's archive: prometheus 2.42 (Go 1.19, stripped,
# built by Debian), against its own /debug/pprof/goroutine?debug=1.


def free_loopback_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_prometheus(spawn, tmp_path):
    """Debian's prometheus on a free loopback port, no scrape targets, its
    data in tmp_path; ready when /-/ready answers and its threads sleep."""
    port = free_loopback_port()
    (tmp_path / "prometheus.yml").write_text("global:\n  scrape_interval: 1h\n")

    def ready(_):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    p = spawn(PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}",
              f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
              ready=ready, ready_timeout=60)
    wait_quiescent(p)
    return p, port


def stable_records(first, second):
    """Records (but the request's own) that two of Go's profiles print alike:
    goroutines that did not move in between."""
    later = {r.text for r in second.records if not is_request_record(r)}
    return [r.text for r in first.records if not is_request_record(r) and r.text in later]


def test_debian_prometheus_matches_its_own_profile(spawn, tmp_path):
    """The issue's first complaint: on Debian's stripped prometheus every Go
    frame printed as '?'. Its goroutine profile read from outside must hold,
    byte for byte, every record the service itself prints before and after
    (a live service may start or end a goroutine in between: then the triple
    is taken again, at most three times), and nothing the service never
    printed; every frame named."""
    assert "stripped" in subprocess.run(["file", PROMETHEUS], capture_output=True, text=True).stdout
    p, port = start_prometheus(spawn, tmp_path)
    for attempt in range(3):
        wait_quiescent(p)
        before = go_debug1(port)
        wait_quiescent(p)
        ours = stacktop_debug1(p.pid)
        after = go_debug1(port)
        stable = stable_records(before, after)
        seen = {r.text for r in before.records} | {r.text for r in after.records}
        our_text = [r.text for r in ours.records if not is_request_record(r)]
        missing = [t for t in stable if t not in our_text]
        extra = [t for t in our_text if t not in seen]
        if not missing and not extra:
            break
    assert len(stable) >= 10, stable
    assert not missing, "prometheus's own records that stacktop does not print byte for byte:\n\n" + \
        "\n\n".join(missing) + "\n\n--- stacktop printed:\n\n" + "\n\n".join(our_text)
    assert not extra, "records prometheus never printed:\n\n" + "\n\n".join(extra)
    assert all(f.function for r in ours.records for f in r.frames), "a frame without a name"
    assert any("github.com/prometheus/prometheus/" in f.function for r in ours.records for f in r.frames)
