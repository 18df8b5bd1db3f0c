"""Demangled C++ and Rust names (issue 9 item 3), in every output format,
and --no-demangle for the raw ones; each program checked against gdb frame
by frame (tests/e2e/gdb_oracle.py): names after demangling, file:line.

Fixtures (tests/fixtures/names.mk): cpp_threads (g++; clang++ with lld): a
thread in members of the namespaced class shop::Worker started from a lambda,
one in the template shop::parkTemplate<double>; rust_threads (legacy and v0
mangling): a thread in methods of shop::Worker, one in shop::park_generic.
"""
import json
import os
import re

import pytest

from conftest import ROOT
from gdb_oracle import compare, gdb_stacks, our_stacks, wait_in_syscall, without_parameters

CPP_SOURCE = os.path.join(ROOT, "tests", "fixtures", "cpp_threads.cpp")
RUST_SOURCE = os.path.join(ROOT, "tests", "fixtures", "rust", "threads.rs")


def dump(stacktop, pid, *args):
    r = stacktop("dump", pid, "--format", "json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def call_lines(source):
    lines = {}
    with open(source) as f:
        for number, text in enumerate(f, 1):
            m = re.search(r"CALL:(\w+)", text)
            if m:
                lines[m.group(1)] = number
    return lines


def rust_spelling(name):
    """One spelling for gdb's and the demangler's Rust names: v0 writes an
    inherent method as <path::Type>::method and generic arguments as ::<T>;
    legacy mangling has no generic arguments and writes closures {{closure}};
    gdb writes path::Type::method, path<T> and {closure#N}."""
    if not name:
        return name
    name = re.sub(r"^<([^<> ]+)>::", r"\1::", name)
    name = re.sub(r"\{\{closure\}\}|\{closure#\d+\}", "{closure}", name)
    out, depth = [], 0
    for c in name:
        depth += c == "<"
        if depth == 0:
            out.append(c)
        depth -= c == ">"
    return "".join(out).replace("::::", "::").rstrip(":")


def frames_of(stacks, tid):
    return [(f[0], os.path.basename(f[1] or ""), f[2]) for f in stacks[tid]]


@pytest.mark.parametrize("variant", ["cpp_threads", "cpp_threads_clang"])
def test_cpp_names_and_lines(spawn, stacktop, variant):
    p = spawn(variant)
    wait_in_syscall(p.pid, p.pid)
    member, templated = map(int, p.ready_line.split()[1:])
    ours = our_stacks(dump(stacktop, p.pid))
    lines = call_lines(CPP_SOURCE)
    src = "cpp_threads.cpp"
    mine = frames_of(ours, member)
    assert ("shop::blockForever(int)", src, lines["blockForever"]) in mine, mine
    assert ("shop::Worker::wait()", src, lines["wait"]) in mine, mine
    assert ("shop::Worker::run()", src, lines["run"]) in mine, mine
    # g++ names the inlined call operator as gdb does, "operator()"; clang's
    # out-of-line one is "main::$_0::operator()() const"
    lambdas = [f for f in mine if f[1:] == (src, lines["lambda"])]
    assert lambdas and without_parameters(lambdas[0][0]).endswith("operator()"), mine
    mine = frames_of(ours, templated)
    assert ("shop::parkTemplate<double>(double)", src, lines["parkTemplate"]) in mine, mine
    assert any(f[2] == lines["lambda2"] and f[1] == src for f in mine), mine
    assert compare(ours, gdb_stacks(p.pid), {src}) >= 15


@pytest.mark.parametrize("variant", ["rust_threads_legacy", "rust_threads_v0"])
def test_rust_names_and_lines(spawn, stacktop, variant):
    p = spawn(variant)
    wait_in_syscall(p.pid, p.pid)
    member, generic = map(int, p.ready_line.split()[1:])
    ours = our_stacks(dump(stacktop, p.pid))
    lines = call_lines(RUST_SOURCE)
    src = "threads.rs"
    named = {rust_spelling(f[0]): f for f in frames_of(ours, member)}
    for function, marker in [("threads::shop::block_forever", "block_forever"), ("threads::shop::Worker::wait", "wait"),
                             ("threads::shop::Worker::run", "run")]:
        assert named[function][1:] == (src, lines[marker]), (function, named)
    named = {rust_spelling(f[0]): f for f in frames_of(ours, generic)}
    assert named["threads::shop::park_generic"][1:] == (src, lines["park_generic"]), named
    raw = [f[0] for f in ours[member]]
    assert not any(n and n.startswith(("_ZN", "_R")) for n in raw), raw
    assert compare(ours, gdb_stacks(p.pid), {src}, rust_spelling) >= 15


@pytest.mark.parametrize("variant,raw", [("cpp_threads", "_ZN4shop6Worker4waitEv"),
                                         ("rust_threads_v0", "_RNvMNtCs"),
                                         ("rust_threads_legacy", "_ZN7threads4shop6Worker4wait17h")])
def test_every_format_and_no_demangle(spawn, stacktop, variant, raw):
    p = spawn(variant)
    wait_in_syscall(p.pid, p.pid)
    readable = "shop::Worker::wait" if variant.startswith("cpp") else "shop::Worker>::wait" if "v0" in variant \
        else "threads::shop::Worker::wait"
    for fmt in ("text", "folded", "json"):
        r = stacktop("dump", p.pid, "--format", fmt)
        assert r.returncode == 0, r.stderr
        assert readable in r.stdout and raw not in r.stdout, (fmt, r.stdout)
        r = stacktop("dump", p.pid, "--format", fmt, "--no-demangle")
        assert r.returncode == 0, r.stderr
        assert raw in r.stdout and readable not in r.stdout, (fmt, r.stdout)
    r = stacktop("dump", "--help")
    assert "--no-demangle" in r.stdout


def test_go_names_are_never_demangled(spawn, stacktop):
    p = spawn("go_threads")
    doc = dump(stacktop, p.pid)
    raw = dump(stacktop, p.pid, "--no-demangle")
    names = sorted({f["function"] for g in doc["groups"] for f in g["frames"] if f["function"]})
    assert "main.blockInRead" in names
    assert names == sorted({f["function"] for g in raw["groups"] for f in g["frames"] if f["function"]})
