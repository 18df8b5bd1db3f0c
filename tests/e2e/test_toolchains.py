"""Stacks of programs built by every toolchain users run (issue 9 items 1-2):
GNU ld, gold, lld and mold, PIE and not, several PT_LOADs in one file page,
clang without .debug_aranges, DWARF 4 and 5, compressed DWARF in the binary and
in a separate debug file; and libc's frames with file:line from libc6-dbg.
Each is checked against gdb frame by frame (tests/e2e/gdb_oracle.py).

Fixture: deep_stack (tests/fixtures/deep_stack.c, variants in
tests/fixtures/toolchains.mk): one thread in
pause <- inner <- middle <- helper (inlined) <- outer <- body <- start_thread.
"""
import json
import os
import re

import pytest

from conftest import ROOT
from gdb_oracle import compare, gdb_stacks, our_stacks, wait_in_syscall

SOURCE = os.path.join(ROOT, "tests", "fixtures", "deep_stack.c")
VARIANTS = ["deep_stack", "deep_bfd_nopie", "deep_bfd_sharedpages", "deep_gold", "deep_gold_nopie", "deep_lld",
            "deep_lld_nopie", "deep_mold", "deep_mold_nopie", "deep_gcc_dwarf4", "deep_clang_dwarf4", "deep_gcc_gz",
            "deep_lld_gz", "deep_split_gz", "deep_zdebug"]
WORKER = ["inner", "middle", "helper", "outer", "body", "start_thread", "clone3"]


def call_lines():
    lines = {}
    with open(SOURCE) as f:
        for number, text in enumerate(f, 1):
            m = re.search(r"CALL:(\w+)", text)
            if m:
                lines[m.group(1)] = number
    return lines


def dump(stacktop, pid):
    r = stacktop("dump", pid, "--format", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("variant", VARIANTS)
def test_deep_stack_complete_with_lines(spawn, stacktop, variant):
    p = spawn(variant)
    wait_in_syscall(p.pid, p.pid)
    worker = int(p.ready_line.split()[1])
    stacks = our_stacks(dump(stacktop, p.pid))
    frames = stacks[worker]
    names = [f[0] for f in frames]
    # pause (libc's name for it) first, then the fixture's chain, then libc's thread start
    start = names.index("inner")
    assert names[start:start + len(WORKER)] == WORKER, names
    lines = call_lines()
    for function, file, line, module in frames[start:start + 5]:
        assert file and os.path.samefile(file, SOURCE), (function, file)
        assert line == lines[function], (function, line)
        assert module.endswith(variant)
    main = stacks[p.pid]
    own = [f for f in main if f[0] == "main"]
    assert own and own[0][2] == lines["main"], main


@pytest.mark.parametrize("variant", VARIANTS)
def test_matches_gdb(spawn, stacktop, variant):
    p = spawn(variant)
    wait_in_syscall(p.pid, p.pid)
    ours = our_stacks(dump(stacktop, p.pid))
    theirs = gdb_stacks(p.pid)
    assert compare(ours, theirs, {"deep_stack.c"}) >= 10


def test_libc_lines_from_libc6_dbg(spawn, stacktop):
    """libc6-dbg's DWARF is compressed: its frames get file:line too, the
    inlined ones included, as gdb prints them."""
    p = spawn("deep_stack")
    wait_in_syscall(p.pid, p.pid)
    ours = our_stacks(dump(stacktop, p.pid))
    libc = [f for frames in ours.values() for f in frames if "libc.so" in (f[3] or "")]
    assert libc and all(f[1] and f[2] > 0 for f in libc), libc
    files = {os.path.basename(f[1]) for f in libc if f[1]}
    assert {"pthread_create.c", "clone3.S"} <= files, files
