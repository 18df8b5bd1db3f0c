"""`stacktop dump --format pprof` and `--format svg` (issue 11, part 3):
profiles in the formats fleet tools read, checked with those tools.

- pprof: Debian's `go tool pprof` (Go 1.19) reads the profile with `-top`,
  `-traces` and `-raw`, while the fixture's binary is gone from disk (it is
  started from a copy that is then deleted), so every name it prints came
  from the profile. Thread profile of the C fixture stack_groups (40 threads
  in park_on_condvar, 12 in nap_forever, 5 in block_on_pipe, main); goroutine
  profile of the Go fixture tests/fixtures/go/goroutines, whose own
  /debug/pprof/goroutine?debug=1 is the reference (same rules as
  test_goroutines.py for the profile request's own goroutines and the busy
  loop). Both agree with stacktop's `--format folded`.
- svg: parsed by Python's XML parser; every box's <title> names its function
  and count, its width is its share of the total; the names of
  tests/fixtures/hostile_frames (markup, quotes, terminal escapes, invalid
  UTF-8 in its process, thread, function and file names) come out escaped.

Both dumps of a comparison are taken of a fixture that does not change
between them (every thread or goroutine parked for good). Every test that
attaches goes through the `spawn` fixture, which checks that nothing is left
stopped or traced.
"""
import collections
import gzip
import os
import pty
import re
import shutil
import subprocess
import threading
import xml.etree.ElementTree as ET

import pytest

from conftest import ROOT, STACKTOP_BIN, fixture_path, run_stacktop
from test_goroutines import (KINDS, SPIN, go_debug1, is_http_connection, is_request_record, ready_fields,
                             start_fixture)

SVG_NS = "{http://www.w3.org/2000/svg}"
STACK_GROUPS = {"park_on_condvar": 40, "nap_forever": 12, "block_on_pipe": 5, "main": 1}
# FlameSvg's geometry: 1200 pixels less 10 on each side.
GRAPH_WIDTH = 1180.0
TITLE = re.compile(r"(.*) \((\d+) (threads|goroutines), \d+\.\d\d%\)")
# hostile_frames.c: the names as every format must show them once neutralised
# (control bytes become '?', invalid UTF-8 bytes too).
# As stacktop writes them: every unsafe byte as \xHH (Printable)
HOSTILE_COMM = "\"<&>'\\x1b]0;x\\x07"
HOSTILE_THREAD = "<i>\\x1b[2J&'\"</i>"
HOSTILE_FUNCTION = "<b>&amp;'\\x1b[31m</b>"
HOSTILE_CALLER = "bad\\xff\\xc0utf8"
HOSTILE_FILE = "hostile<&\"'\\x1b[2J>.c"


def go_tool():
    go = shutil.which("go")
    assert go, "go is not installed: it is a test dependency (golang-go, DEB_TEST); run 'make deps'"
    return go


def spawn_without_binary(spawn, tmp_path, name, start=None):
    """The fixture NAME started from a copy that is deleted once it is ready:
    nothing on disk can name its frames. Returns (process, deleted path)."""
    directory = tmp_path / "gone"
    directory.mkdir()
    path = directory / name
    shutil.copy2(fixture_path(name), path)
    p = start(spawn, str(path)) if start else spawn(str(path))
    os.unlink(path)
    return p, str(path)


def dump_to(pid, path, *args):
    """A complete dump into path. Exit 3 (written, but a goroutine or thread
    could not be read or unwound at that instant, as the dump says; seen once
    in a make check on this loaded machine, the busy goroutine being the only
    one that moves) is a true answer about that instant, not the snapshot
    these comparisons need: taken again, at most three times."""
    for _ in range(3):
        r = run_stacktop("dump", pid, *args, "-o", path)
        if r.returncode != 3:
            break
        incomplete = open(path, "rb").read()[-2000:]
    assert r.returncode == 0, f"stacktop dump {' '.join(map(str, args))} failed ({r.returncode}): {r.stderr}" + \
        (f"\nend of the incomplete dump: {incomplete!r}" if r.returncode == 3 else "")
    assert r.stdout == ""
    return path


def pprof(tmp_path, *args):
    """`go tool pprof ARGS`: no binaries to look at (PPROF_BINARY_PATH is an
    empty directory, HOME a scratch one). Its output must be valid UTF-8."""
    empty = tmp_path / "no-binaries"
    empty.mkdir(exist_ok=True)
    env = dict(os.environ, HOME=str(tmp_path), PPROF_TMPDIR=str(tmp_path), PPROF_BINARY_PATH=str(empty))
    r = subprocess.run([go_tool(), "tool", "pprof", *map(str, args)], capture_output=True, timeout=300, env=env)
    assert r.returncode == 0, f"go tool pprof {args} failed: {r.stderr.decode(errors='replace')}"
    return r.stdout.decode("utf-8"), r.stderr.decode("utf-8")


TOP_LINE = re.compile(r"\s*(\d+)\s+[\d.]+%\s+[\d.]+%\s+(\d+)\s+[\d.]+%\s+(.+)")


def pprof_top(tmp_path, profile):
    """{function: (flat, cum)} from `-top -cum`, every node kept."""
    out, _ = pprof(tmp_path, "-top", "-cum", "-nodefraction=0", "-edgefraction=0", profile)
    rows = {}
    for line in out.splitlines():
        m = TOP_LINE.fullmatch(line)
        if m:
            name = m.group(3).removesuffix(" (inline)")
            assert name not in rows, f"{name} twice in -top"
            rows[name] = (int(m.group(1)), int(m.group(2)))
    assert rows, f"no rows in go tool pprof -top:\n{out}"
    return rows


Trace = collections.namedtuple("Trace", "count functions labels")
SEPARATOR = "-----------+-------------------------------------------------------"


def pprof_traces(tmp_path, profile):
    """The samples of `-traces`: count, functions innermost first (inlined
    ones included, " (inline)" dropped) and string labels {key: "values"}."""
    out, _ = pprof(tmp_path, "-traces", profile)
    assert SEPARATOR in out, f"no traces:\n{out}"
    traces = []
    for block in out.split(SEPARATOR)[1:]:
        if not block.strip():
            continue    # after the last separator
        count, functions, labels = None, [], {}
        for line in block.strip("\n").splitlines():
            m = re.fullmatch(r" {0,9}(\d+)   (.+)", line)
            if m and count is None:
                count = int(m.group(1))
                functions.append(m.group(2))
            elif count is not None and line.startswith(" " * 13):
                functions.append(line[13:])
            else:
                key, sep, values = line.strip().partition(":  ")
                assert sep and count is None, f"unexpected -traces line {line!r}"
                labels[key] = values
        assert count is not None, f"a trace without a count:\n{block}"
        traces.append(Trace(count, tuple(f.removesuffix(" (inline)") for f in functions), labels))
    return traces


def pprof_mappings(tmp_path, profile):
    """[(path, flags)] of -raw's Mappings section."""
    out, _ = pprof(tmp_path, "-raw", profile)
    section = out.split("Mappings\n", 1)[1]
    return [(m.group(1), m.group(2)) for m in re.finditer(r"\d+: 0x[0-9a-f]+/0x[0-9a-f]+/0x[0-9a-f]+ (\S+) *(.*)",
                                                          section)]


def folded_stacks(path, comm):
    """Counter {functions innermost first: count} of a folded file; the
    process name as root is checked and dropped."""
    stacks = collections.Counter()
    for line in open(path, encoding="utf-8").read().splitlines():
        frames, count = line.rsplit(" ", 1)
        frames = frames.split(";")
        assert frames[0] == comm, line
        stacks[tuple(reversed(frames[1:]))] += int(count)
    return stacks


# ---------------------------------------------------------------------------
# pprof: threads


def test_pprof_threads_read_by_go_tool_pprof(spawn, tmp_path):
    p, gone = spawn_without_binary(spawn, tmp_path, "stack_groups")
    profile = dump_to(p.pid, tmp_path / "threads.pb.gz", "--format", "pprof")
    folded = dump_to(p.pid, tmp_path / "threads.folded", "--format", "folded")
    with open(profile, "rb") as f:
        assert f.read(2) == b"\x1f\x8b", "a pprof profile on disk is gzip-compressed"

    top = pprof_top(tmp_path, profile)
    for function, count in STACK_GROUPS.items():
        assert top[function][1] == count, f"{function}: cum {top[function]} in -top, expected {count}"
    assert sum(flat for flat, _ in top.values()) == 58

    traces = pprof_traces(tmp_path, profile)
    assert sorted(t.count for t in traces) == [1, 5, 12, 40]
    by_function = {f: t for t in traces for f in t.functions if f in STACK_GROUPS}
    for function, count in STACK_GROUPS.items():
        assert by_function[function].count == count
    parkers = by_function["park_on_condvar"]
    assert parkers.labels["thread_names"] == "parker" and parkers.labels["thread_states"] == "S\u00d740"
    assert parkers.functions.index("park_on_condvar") < parkers.functions.index("parker")
    # the same stacks as --format folded
    ours = collections.Counter()
    for t in traces:
        ours[t.functions] += t.count
    assert ours == folded_stacks(folded, "stack_groups")

    # names came from the profile: the binary it names is gone, and the
    # mappings say so (pprof would otherwise try to symbolize them)
    mappings = pprof_mappings(tmp_path, profile)
    assert mappings[0][0] == gone and not os.path.exists(gone)
    assert all("[FN]" in flags for _, flags in mappings), mappings
    # [FL][LN][IN] only when every location has them: _start (crt1.o) has no line table


def test_pprof_to_a_pipe_and_not_to_a_terminal(spawn, tmp_path):
    p = spawn("stack_groups")
    # a pipe: fine (e.g. | curl --data-binary @-)
    r = subprocess.run([STACKTOP_BIN, "dump", str(p.pid), "--format", "pprof"], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert gzip.decompress(r.stdout)[:2] == b"\x0a\x04", "the first field: sample_type (field 1, 4 bytes)"
    # a terminal: refused before the target is touched, standard output or -o
    leader, follower = pty.openpty()
    try:
        for args in ([], ["-o", os.ttyname(follower)]):
            r = subprocess.run([STACKTOP_BIN, "dump", str(p.pid), "--format", "pprof", *args], stdout=follower,
                               stderr=subprocess.PIPE, text=True, timeout=60)
            assert r.returncode == 2, r.stderr
            assert r.stderr.startswith("stacktop: dump: --format pprof is gzip-compressed binary data"), r.stderr
            assert "give -o FILE.pb.gz" in r.stderr and len(r.stderr.splitlines()) == 1
        # text formats still go to a terminal (read meanwhile: a full pty would block the writer)
        received = []
        reader = threading.Thread(target=drain, args=(leader, received), daemon=True)
        reader.start()
        r = subprocess.run([STACKTOP_BIN, "dump", str(p.pid), "--format", "svg"], stdout=follower,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
    finally:
        os.close(follower)
        os.close(leader)    # ends the reader's os.read


def drain(fd, into):
    """Reads fd until it fails (closed) or ends."""
    try:
        while True:
            data = os.read(fd, 65536)
            if not data:
                return
            into.append(data)
    except OSError:
        return


# ---------------------------------------------------------------------------
# pprof: goroutines


def test_pprof_goroutines_match_the_programs_own_profile(spawn, tmp_path):
    p, gone = spawn_without_binary(spawn, tmp_path, "goroutines", start=start_fixture)
    fields = ready_fields(p)
    profile = dump_to(p.pid, tmp_path / "goroutines.pb.gz", "--format", "pprof")
    folded = dump_to(p.pid, tmp_path / "goroutines.folded", "--format", "folded", "--goroutines")
    go = go_debug1(fields["port"])

    traces = pprof_traces(tmp_path, profile)
    assert all("goroutine_states" in t.labels for t in traces), "not the goroutine profile"
    spin = [t for t in traces if SPIN in t.functions]
    assert len(spin) == 1 and spin[0].count == 1

    def key(functions, labels):
        return tuple(functions), tuple(sorted(labels.items()))

    ours = collections.Counter()
    for t in traces:
        if t is spin[0] or is_http_connection(t.functions):
            continue
        labels = {k: v for k, v in t.labels.items() if not k.startswith("goroutine_")}
        ours[key(t.functions, labels)] += t.count
    expected = collections.Counter()
    for record in go.records:
        if not is_request_record(record) and not any(f == SPIN for f in record.functions):
            expected[key(record.functions, {k: str(v) for k, v in record.labels_dict().items()})] += record.count
    assert ours == expected, "go tool pprof -traces of stacktop's profile != the program's own debug=1"
    assert sum(ours.values()) == fields["goroutines"] - 1  # all but the busy loop

    # -top: every function of package main with the cumulative count of Go's records
    top = pprof_top(tmp_path, profile)
    cum = collections.Counter()
    for record in go.records:
        if not is_request_record(record):
            for f in set(record.functions):
                cum[f] += record.count
    for function, count in cum.items():
        if function.startswith("main."):
            assert top[function][1] == count, f"{function}: {top[function]} in -top, {count} in Go's profile"
    assert top["main.watcher"][1] == fields["recv"] and top["main.selectMany"][1] == fields["select"]

    # the same stacks as the folded goroutine part
    stacks = collections.Counter()
    for t in traces:
        stacks[t.functions] += t.count
    assert stacks == folded_stacks(folded, "goroutines")
    mappings = pprof_mappings(tmp_path, profile)
    assert mappings[0][0] == gone and not os.path.exists(gone)
    assert "[FN][FL][LN][IN]" in mappings[0][1]


# ---------------------------------------------------------------------------
# svg


def svg_boxes(path):
    """[(name, count, unit, title lines, width)] of every box of a flame graph."""
    tree = ET.parse(path)
    root = tree.getroot()
    assert root.tag == SVG_NS + "svg"
    boxes = []
    for g in root.iter(SVG_NS + "g"):
        title = g.find(SVG_NS + "title").text
        lines = title.split("\n")
        m = TITLE.fullmatch(lines[0])
        assert m, f"box title {title!r}"
        box = g.find(SVG_NS + "svg")
        boxes.append((m.group(1), int(m.group(2)), m.group(3), lines[1:], float(box.get("width"))))
    return boxes


def prefix_tree(stacks):
    """Counter {(name, count)} of the boxes a flame graph of these stacks
    (innermost first) must have: one per function per merged prefix."""
    nodes = collections.Counter()
    for functions, count in stacks.items():
        outer_first = tuple(reversed(functions))
        for depth in range(1, len(outer_first) + 1):
            nodes[outer_first[:depth]] += count
    return collections.Counter((path[-1], count) for path, count in nodes.items())


def test_svg_threads(spawn, tmp_path):
    p = spawn("stack_groups")
    svg = dump_to(p.pid, tmp_path / "threads.svg", "--format", "svg")
    folded = dump_to(p.pid, tmp_path / "threads.folded", "--format", "folded")
    raw = open(svg, "rb").read()
    assert b"<script" not in raw and b"href" not in raw, "self-contained, no script"
    boxes = svg_boxes(svg)
    assert boxes[0][:3] == ("stack_groups", 58, "threads")
    for name, count, unit, lines, width in boxes:
        assert unit == "threads"
        assert width == pytest.approx(GRAPH_WIDTH * count / 58, abs=0.01), (name, count, width)
    titles = {name: (count, lines) for name, count, _, lines, _ in boxes}
    for function, count in STACK_GROUPS.items():
        assert titles[function][0] == count
        assert re.fullmatch(r".*stack_groups\.c:\d+", titles[function][1][0]), titles[function]
    got = collections.Counter((name, count) for name, count, _, _, _ in boxes[1:])
    assert got == prefix_tree(folded_stacks(folded, "stack_groups"))


def test_svg_goroutines(spawn, tmp_path):
    p = start_fixture(spawn, "goroutines")
    fields = ready_fields(p)
    svg = dump_to(p.pid, tmp_path / "goroutines.svg", "--format", "svg")
    go = go_debug1(fields["port"])
    boxes = svg_boxes(svg)
    assert boxes[0][:3] == ("goroutines", boxes[0][1], "goroutines")
    total = boxes[0][1]
    assert total >= fields["goroutines"]
    for name, count, unit, lines, width in boxes:
        assert width == pytest.approx(GRAPH_WIDTH * count / total, abs=0.01)
    # the boxes of the fixture's own goroutines are the program's own profile's
    stacks = collections.Counter()
    for record in go.records:
        if not is_request_record(record):
            stacks[tuple(record.functions)] += record.count
    # the busy loop: running when stopped, its box is checked on its own
    assert ("main.spin", 1) in [(name, count) for name, count, _, _, _ in boxes]
    stacks = collections.Counter({k: v for k, v in stacks.items() if SPIN not in k})
    expected = collections.Counter({k: v for k, v in prefix_tree(stacks).items() if k[0].startswith("main.")})
    got = collections.Counter((name, count) for name, count, _, _, _ in boxes
                              if name.startswith("main.") and name != SPIN)
    assert got == expected
    watcher = [lines for name, count, _, lines, _ in boxes if name == "main.watcher"]
    assert len(watcher) == 1 and re.fullmatch(r".*/main\.go:\d+", watcher[0][0])
    assert ("main.watcher", fields["recv"]) in got


def test_hostile_names_are_escaped(spawn, tmp_path):
    p = spawn("hostile_frames")
    svg = dump_to(p.pid, tmp_path / "hostile.svg", "--format", "svg")
    raw = open(svg, "rb").read()
    raw.decode("utf-8")  # strict: invalid bytes became '?'
    assert b"\x1b" not in raw and b"\x07" not in raw
    assert b"<b>" not in raw and b"<i>" not in raw, "markup from the target is escaped"
    boxes = svg_boxes(svg)
    titles = {name: (count, lines) for name, count, _, lines, _ in boxes}
    assert titles[HOSTILE_COMM][0] == 4
    assert titles[HOSTILE_FUNCTION][0] == 3 and titles[HOSTILE_CALLER][0] == 3
    assert titles[HOSTILE_FUNCTION][1][0].endswith(HOSTILE_FILE + ":5")

    profile = dump_to(p.pid, tmp_path / "hostile.pb.gz", "--format", "pprof")
    for args in (["-raw"], ["-traces"], ["-top"]):
        out, err = pprof(tmp_path, *args, profile)
        assert "\x1b" not in out + err and "\x07" not in out + err, f"a control byte in pprof {args}"
    raw_out, _ = pprof(tmp_path, "-raw", profile)
    assert HOSTILE_FUNCTION in raw_out and HOSTILE_CALLER in raw_out and HOSTILE_FILE in raw_out
    traces = pprof_traces(tmp_path, profile)
    workers = [t for t in traces if t.count == 3]
    assert len(workers) == 1 and workers[0].labels["thread_names"] == HOSTILE_THREAD
    assert HOSTILE_CALLER in workers[0].functions


def test_every_format_is_documented():
    """The formats of `stacktop dump --help` (generated from DumpCli's table)
    are those of the man page's synopsis and each has its entry under
    Output formats."""
    r = run_stacktop("dump", "--help")
    assert r.returncode == 0
    listed = " ".join(r.stdout.split("--format FMT", 1)[1].split("-o, --output", 1)[0].split())
    formats = re.findall(r"(?:one of: |, )([a-z]+) \(", listed)
    assert formats[-2:] == ["pprof", "svg"], listed
    man = open(os.path.join(ROOT, "doc", "stacktop.1"), encoding="utf-8").read()
    assert f'.RB [ \\-\\-format " {"|".join(formats)}" ]' in man
    section = man.split(".SS Output formats", 1)[1].split(".SS ", 1)[0]
    for name in formats:
        assert f".TP\n.B {name}\n" in section, f"format {name} has no entry under Output formats"
