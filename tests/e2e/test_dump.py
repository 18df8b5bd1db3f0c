"""`stacktop dump`: grouped thread stacks of real processes.

Fixtures: stack_groups (40 threads in park_on_condvar, 12 in nap_forever,
5 in block_on_pipe, plus main) in four builds, churn (threads created and
joined without pause), go_threads (Go). Every test that attaches goes through
the `spawn` fixture, which asserts afterwards that nothing is left stopped or
traced.
"""
import json
import os
import re
import signal
import stat
import subprocess
import time

import pytest

from conftest import (ROOT, STACKTOP_BIN, assert_not_stopped_or_traced, hold_env, proc_status,
                      thread_states)

FIXTURE_SOURCE = os.path.join(ROOT, "tests", "fixtures", "stack_groups.c")
EXPECTED_GROUPS = {"park_on_condvar": 40, "nap_forever": 12, "block_on_pipe": 5}


def call_lines():
    """{function: line} of the 'CALL:<function>' markers in the fixture source."""
    lines = {}
    with open(FIXTURE_SOURCE) as f:
        for number, text in enumerate(f, 1):
            m = re.search(r"CALL:(\w+)", text)
            if m:
                lines[m.group(1)] = number
    return lines


def dump_json(stacktop, pid, *args, partial=False):
    """The dump as JSON; exit 0, or 3 (written, incomplete) when partial."""
    r = stacktop("dump", pid, "--format", "json", *args)
    assert r.returncode == (3 if partial else 0), r.stderr
    return json.loads(r.stdout)


def real_frames(group):
    return [f for f in group["frames"] if not f["inlined"]]


def group_of(doc, function):
    """The groups whose frames name `function`."""
    return [g for g in doc["groups"] if any(f["function"] == function for f in g["frames"])]


@pytest.mark.parametrize("variant", ["stack_groups", "stack_groups_O2", "stack_groups_nopie"])
def test_known_groups_with_lines(spawn, stacktop, variant):
    p = spawn(variant)
    doc = dump_json(stacktop, p.pid)
    assert doc["pid"] == p.pid
    assert doc["total_threads"] == int(proc_status(p.pid)["Threads"]) == 58
    assert sorted(t["tid"] for g in doc["groups"] for t in g["threads"]) == \
        sorted(int(t) for t in os.listdir(f"/proc/{p.pid}/task"))
    assert [g["count"] for g in doc["groups"]] == [40, 12, 5, 1]
    lines = call_lines()
    for function, count in EXPECTED_GROUPS.items():
        groups = group_of(doc, function)
        assert [g["count"] for g in groups] == [count], function
        frame = next(f for f in groups[0]["frames"] if f["function"] == function)
        # Relative DWARF names are joined with the CU's comp_dir: a path one can open.
        assert os.path.samefile(frame["file"], FIXTURE_SOURCE), frame
        assert frame["line"] == lines[function], frame
        assert frame["module"].endswith(variant)
        assert {t["state"] for t in groups[0]["threads"]} == {"S"}
    main = group_of(doc, "main")
    assert [g["count"] for g in main] == [1] and main[0]["threads"][0]["tid"] == p.pid
    libc = {f["function"] for f in group_of(doc, "park_on_condvar")[0]["frames"]}
    assert "pthread_cond_wait" in libc and "start_thread" in libc


def test_stripped_binary(spawn, stacktop):
    p = spawn("stack_groups_stripped")
    doc = dump_json(stacktop, p.pid)
    assert [g["count"] for g in doc["groups"]] == [40, 12, 5, 1]
    big = doc["groups"][0]
    names = [f["function"] for f in real_frames(big)]
    assert "pthread_cond_wait" in names      # libc: .dynsym / libc6-dbg
    assert None in names                     # the fixture's own functions: unknown
    text = stacktop("dump", p.pid)
    assert text.returncode == 0, text.stderr
    assert "\t?\t" in text.stdout and "stack_groups_stripped" in text.stdout


def test_text_layout(spawn, stacktop):
    p = spawn("stack_groups")
    r = stacktop("dump", p.pid)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    lines = out.splitlines()
    assert lines[0] == "thread profile: total 58"
    assert re.fullmatch(r"40 @( 0x[0-9a-f]+)+", lines[1])
    assert re.fullmatch(r"# threads: \d+ \d+ \d+ \.\.\. \d+ \(names: parker\)   states: S\u00d740", lines[2])
    frame = re.compile(r"#\t0x[0-9a-f]+(\t\S+\+0x[0-9a-f]+\t\S+)?")
    blocks = out.split("\n", 1)[1].split("\n\n")
    for block in blocks[:-1]:
        body = block.strip("\n").splitlines()
        assert re.fullmatch(r"\d+ @( 0x[0-9a-f]+)*", body[0])
        assert body[1].startswith("# threads: ")
        for line in body[2:]:
            assert frame.fullmatch(line), line
        # The interrupted instruction (the group line's first PC) is printed
        # and looked up at its own address, return addresses at PC - 1.
        pcs = [int(x, 16) for x in body[0].split(" @ ")[1].split()]
        printed = [int(line.split("\t")[1], 16) for line in body[2:]]
        assert sorted(set(printed)) == sorted([pcs[0]] + [pc - 1 for pc in pcs[1:]])
    assert re.fullmatch(r"# stopped \d+\.\d ms, total \d+\.\d ms", lines[-1])
    assert f"park_on_condvar+0x" in out and "stack_groups.c:" in out


def test_folded(spawn, stacktop, tmp_path):
    p = spawn("stack_groups")
    out = tmp_path / "stacks.folded"
    r = stacktop("dump", p.pid, "--format", "folded", "-o", out)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    rows = out.read_text().splitlines()
    assert len(rows) == 4
    counts = [int(row.rsplit(" ", 1)[1]) for row in rows]
    assert counts == [40, 12, 5, 1]
    frames = rows[0].rsplit(" ", 1)[0].split(";")
    assert frames[0] == "stack_groups"
    assert frames.index("parker") < frames.index("park_on_condvar") < frames.index("pthread_cond_wait")


def test_group_by_function_and_depth(spawn, stacktop):
    p = spawn("stack_groups")
    doc = dump_json(stacktop, p.pid, "--group-by", "function", "--no-lines")
    assert doc["group_by"] == "function"
    assert [g["count"] for g in doc["groups"]] == [40, 12, 5, 1]
    assert all(f["file"] is None for g in doc["groups"] for f in g["frames"])
    doc = dump_json(stacktop, p.pid, "--max-depth", "2")
    assert all(len(g["pcs"]) <= 2 for g in doc["groups"])
    assert sum(g["count"] for g in doc["groups"]) == 58
    # every stack is deeper than 2: each says it was cut, and why
    assert all(g["cut"] == "depth" for g in doc["groups"])
    assert doc["cut_stacks"] == 58
    text = stacktop("dump", p.pid, "--max-depth", "2").stdout
    assert text.count("#\t...\tstack cut: --max-depth frames reached\n") == len(re.findall(r"^\d+ @ ", text, re.M)) >= 3
    assert all(g["cut"] is None for g in dump_json(stacktop, p.pid)["groups"])


def eu_stack_threads(pid):
    """{tid: [pc, ...]} from eu-stack (non-inlined frames, raw return addresses)."""
    r = subprocess.run(["eu-stack", "-p", str(pid)], capture_output=True, text=True, timeout=60)
    threads, tid = {}, None
    for line in r.stdout.splitlines():
        m = re.match(r"TID (\d+):", line)
        if m:
            tid = int(m.group(1))
            threads[tid] = []
            continue
        m = re.match(r"#\d+\s+0x([0-9a-f]+)\s*(\S*)", line)
        if m and tid is not None:
            threads[tid].append((int(m.group(1), 16), m.group(2)))
    return threads


@pytest.mark.parametrize("variant", ["stack_groups", "stack_groups_O2"])
def test_matches_eu_stack(spawn, stacktop, variant):
    p = spawn(variant)
    doc = dump_json(stacktop, p.pid)
    ours = {}
    for g in doc["groups"]:
        names = {}
        for f in real_frames(g):
            names[f["pc"]] = f["function"]
        seq = [(int(pc, 16), names.get(hex(int(pc, 16) - 1))) for pc in g["pcs"]]
        for t in g["threads"]:
            ours[t["tid"]] = seq
    theirs = eu_stack_threads(p.pid)
    assert len(theirs) == len(ours) == 58
    fixture_functions = {"main", "parker", "napper", "reader", *EXPECTED_GROUPS}
    for tid, seq in theirs.items():
        assert [pc for pc, _ in ours[tid]] == [pc for pc, _ in seq], tid
        mine = [n for _, n in ours[tid] if n in fixture_functions]
        eu = [n for _, n in seq if n in fixture_functions]
        assert mine == eu, tid


def test_go_process(spawn, stacktop):
    p = spawn("go_threads")
    doc = dump_json(stacktop, p.pid)
    assert doc["total_threads"] == int(proc_status(p.pid)["Threads"])
    names = [f["function"] or "" for g in doc["groups"] for f in g["frames"]]
    assert any(n.startswith("runtime.") for n in names)
    assert "main.blockInRead" in names
    bottoms = re.compile(r"runtime\.(mstart|goexit)(\.abi0)?$")
    for g in doc["groups"]:
        functions = [f["function"] or "" for f in real_frames(g)]
        hits = [i for i, n in enumerate(functions) if bottoms.match(n)]
        if hits:
            assert hits[0] == len(functions) - 1, functions   # nothing past the bottom


def test_churn(spawn, stacktop):
    p = spawn("churn")
    for _ in range(10):
        # a thread caught being born or dying may have a stack not in the
        # maps read around the stop: that dump says so and exits 3
        r = stacktop("dump", p.pid, "--format", "json", "--no-lines")
        assert r.returncode in (0, 3), r.stderr
        doc = json.loads(r.stdout)
        assert doc["total_threads"] >= 5
        assert sum(g["count"] for g in doc["groups"]) == doc["total_threads"]
        cut = {g["cut"] for g in doc["groups"]} - {None}
        assert (r.returncode == 3) == bool(cut or doc["late_threads"] or doc["missed_threads"]), doc
        assert cut <= {"unreadable", "no_unwind_info", "not_stopped", "bad_frame"}, cut
        assert_not_stopped_or_traced(p.pid)


def test_target_truncating_its_mapped_file(spawn, stacktop):
    """A target that truncates and rewrites a file it has mapped (a copy of
    libc) must not kill stacktop with SIGBUS while it reads that file."""
    p = spawn("truncating_mapper")
    try:
        for i in range(150):
            r = stacktop("dump", p.pid, *(["--no-lines"] if i % 2 else []))
            assert r.returncode >= 0, f"dump {i} died of signal {-r.returncode}: {r.stderr}"
            assert r.returncode == 0 or (r.returncode != 128 + signal.SIGBUS
                                         and len(r.stderr.strip().splitlines()) == 1), r.stderr
            assert_not_stopped_or_traced(p.pid)
    finally:
        p.proc.send_signal(signal.SIGTERM)  # lets it remove its temporary file
        p.proc.wait(timeout=10)


def wait_threads_stopped(pid, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = thread_states(pid)
        if states and all(s in "tT" for s in states.values()):
            return True
        time.sleep(0.01)
    return False


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM])
def test_killed_mid_dump_leaves_target_running(spawn, sig):
    p = spawn("stack_groups")
    env = hold_env(5000)
    dumper = subprocess.Popen([STACKTOP_BIN, "dump", str(p.pid), "--timeout", "10"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert wait_threads_stopped(p.pid), "the dump never stopped the target"
        assert proc_status(p.pid)["TracerPid"] != "0"
        dumper.send_signal(sig)
        rc = dumper.wait(timeout=10)
    finally:
        if dumper.poll() is None:
            dumper.kill()
            dumper.wait()
        dumper.stderr.close()
    assert rc == (-signal.SIGKILL if sig == signal.SIGKILL else 128 + sig)
    # The helper that holds the threads dies with stacktop (at once, not at
    # its deadline): the threads run again within a moment.
    assert wait_threads_running(p.pid, 2.0) is not None, thread_states(p.pid)
    assert_not_stopped_or_traced(p.pid)
    assert all(s in "SR" for s in thread_states(p.pid).values())
    assert len(thread_states(p.pid)) == 58


def test_target_killed_mid_dump(spawn):
    p = spawn("stack_groups")
    env = hold_env(1500)
    dumper = subprocess.Popen([STACKTOP_BIN, "dump", str(p.pid)], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert wait_threads_stopped(p.pid), "the dump never stopped the target"
        os.kill(p.pid, signal.SIGKILL)
        out, err = dumper.communicate(timeout=30)
    finally:
        if dumper.poll() is None:
            dumper.kill()
            dumper.communicate()
    # the copies were taken before the process died: the dump still completes
    assert dumper.returncode == 0, err
    assert out.startswith("thread profile: total 58\n")
    assert "park_on_condvar" in out


def test_unstoppable_thread_is_listed_and_released(spawn, stacktop):
    p = spawn("vfork_wait", 60)
    sleeper = int(p.ready_line.split()[1])
    deadline = time.monotonic() + 10
    while thread_states(p.pid).get(sleeper) != "D" and time.monotonic() < deadline:
        time.sleep(0.01)
    doc = dump_json(stacktop, p.pid, "--timeout", "1", partial=True)
    assert doc["total_threads"] == 2 and doc["late_threads"] == 1
    late = [g for g in doc["groups"] if g["threads"][0]["tid"] == sleeper]
    assert late and late[0]["frames"] == [] and late[0]["threads"][0]["state"] == "D"
    # where it waits, as the kernel says it (it is still there: it stays in D)
    assert late[0]["cut"] == "not_stopped"
    with open(f"/proc/{p.pid}/task/{sleeper}/wchan") as f:
        assert late[0]["kernel_wchan"] == f.read() != ""
    with open(f"/proc/{p.pid}/task/{sleeper}/stack") as f:
        kernel = f.read().rstrip("\n")
    assert "vfork" in kernel and late[0]["kernel_stack"] == kernel
    r = stacktop("dump", p.pid, "--timeout", "0.5")
    assert r.returncode == 3, r.stderr   # written, incomplete
    text = r.stdout
    assert f"#\tkernel wait channel: {late[0]['kernel_wchan']}\n" in text
    assert "\n#\tkernel: " + kernel.splitlines()[0] + "\n" in text
    main = [g for g in doc["groups"] if g["threads"][0]["tid"] == p.pid]
    assert any(f["function"] == "main" for f in main[0]["frames"])
    # released although it never stopped: no tracer left, and it stays in D
    assert proc_status(p.pid)["TracerPid"] == "0"
    assert thread_states(p.pid)[sleeper] == "D"


def test_exec_during_dump_does_not_hang(spawn, stacktop):
    """A thread of exec_loop re-executes the program without pause. A dump that
    seized some threads and then blocks attaching while execve holds its lock
    used to deadlock with it: the exec waits for its killed threads to be
    reaped, which only their tracer can do (about 1 dump in 30 hung)."""
    p = spawn("exec_loop")
    outcomes = set()
    for _ in range(500):
        r = stacktop("dump", p.pid, "--no-lines", timeout=20)   # TimeoutExpired = the hang
        assert r.returncode in (0, 1, 3), r.stderr
        outcomes.add(r.returncode)
        assert_not_stopped_or_traced(p.pid)
    assert 0 in outcomes


def test_leader_exited(spawn, stacktop):
    """After pthread_exit in main the leader is a zombie with no address space:
    its /proc/PID/maps is empty and process_vm_readv refuses its pid, yet the
    other threads are alive and dumpable."""
    p = spawn("leader_exit")
    deadline = time.monotonic() + 10
    while proc_status(p.pid).get("State", "")[:1] != "Z" and time.monotonic() < deadline:
        time.sleep(0.01)
    doc = dump_json(stacktop, p.pid)
    assert doc["total_threads"] == 3
    groups = group_of(doc, "park_here")
    assert len(groups) == 1 and groups[0]["count"] == 3


def free_pid():
    pid_max = int(open("/proc/sys/kernel/pid_max").read())
    for pid in range(pid_max - 1, 1, -1):
        if not os.path.exists(f"/proc/{pid}"):
            return pid
    pytest.skip("no free pid")


def test_no_such_process(stacktop):
    pid = free_pid()
    r = stacktop("dump", pid)
    assert r.returncode == 1
    assert f"no process with pid {pid}" in r.stderr and len(r.stderr.splitlines()) == 1


def test_output_file_errors(spawn, stacktop, tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("old\n")
    r = stacktop("dump", free_pid(), "-o", target)     # failed dump: file untouched
    assert r.returncode == 1 and target.read_text() == "old\n"
    p = spawn("stack_groups")
    # The output is opened before anything is stopped: with a hold of 30 s
    # in the stop phase, failing after a stop could not be this quick.
    start = time.monotonic()
    r = stacktop("dump", p.pid, "-o", tmp_path / "missing" / "x.txt", env=hold_env(30000))
    assert time.monotonic() - start < 20
    assert r.returncode == 1
    assert "cannot write" in r.stderr and len(r.stderr.splitlines()) == 1


def test_output_to_a_device_or_fifo_is_written_not_replaced(spawn, stacktop, tmp_path):
    """-o /dev/null (or a FIFO, a terminal) writes to it: the temporary file
    and rename that protect a regular file must never replace a device node
    (it once turned /dev/null into a root-only regular file)."""
    p = spawn("stack_groups")
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    r = stacktop("dump", p.pid, "-o", null)
    assert r.returncode == 0, r.stderr
    assert stat.S_ISCHR(os.lstat(null).st_mode) and os.lstat(null).st_rdev == os.makedev(1, 3)
    assert sorted(os.listdir(tmp_path)) == ["null"]
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE, text=True)
    r = stacktop("dump", p.pid, "-o", fifo)
    out, _ = reader.communicate(timeout=30)
    assert r.returncode == 0, r.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert out.startswith("thread profile: total 58\n")


def test_kernel_thread(stacktop):
    r = stacktop("dump", 2)
    assert r.returncode == 1
    assert "kernel thread" in r.stderr and "pid 2" in r.stderr


def test_zombie(stacktop):
    child = subprocess.Popen(["true"])
    deadline = time.monotonic() + 10
    while proc_status(child.pid).get("State", "")[:1] != "Z" and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        r = stacktop("dump", child.pid)
    finally:
        child.wait()
    assert r.returncode == 1
    assert "zombie" in r.stderr and f"pid {child.pid}" in r.stderr


def test_own_pid(stacktop):
    r = subprocess.run(["sh", "-c", f"exec '{STACKTOP_BIN}' dump $$"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "stacktop itself" in r.stderr


def test_permission_denied_names_the_reason(spawn):
    p = spawn("stack_groups")
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                        STACKTOP_BIN, "dump", str(p.pid)], capture_output=True, text=True, timeout=30)
    if "Permission denied" in r.stderr and "stacktop:" not in r.stderr:
        pytest.skip("the binary is not executable by nobody here")
    assert r.returncode == 1
    assert f"pid {p.pid}" in r.stderr and "not root" in r.stderr
    assert_not_stopped_or_traced(p.pid)


@pytest.mark.parametrize("args", [
    [], ["abc"], ["1", "2"], ["--format", "xml", "1"], ["--group-by", "name", "1"],
    ["--max-depth", "0", "1"], ["--max-depth", "x", "1"], ["--bogus", "1"], ["--timeout", "-1", "1"],
    ["1", "--format"],
])
def test_usage_errors(stacktop, args):
    r = stacktop("dump", *args)
    assert r.returncode == 2, (args, r.stderr)
    assert r.stderr.startswith("stacktop: dump: ") and len(r.stderr.splitlines()) == 1


def test_help(stacktop):
    r = stacktop("dump", "--help")
    assert r.returncode == 0
    assert "--group-by" in r.stdout and "--format" in r.stdout


def wait_threads_running(pid, deadline_s):
    """Waits until no thread of pid is stopped (t/T) and nothing traces it;
    returns the seconds that took, or None when the deadline passed."""
    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        states = thread_states(pid)
        if states and not any(s in "tT" for s in states.values()) and proc_status(pid).get("TracerPid") == "0":
            return time.monotonic() - start
        time.sleep(0.005)
    return None


def test_target_released_while_stacktop_is_stopped(spawn):
    """SIGSTOP to stacktop in the middle of a pause (a debugger, Ctrl-Z):
    the target's threads run again on time, while stacktop stays stopped;
    once continued, stacktop finishes the dump."""
    p = spawn("stack_groups")
    dumper = subprocess.Popen([STACKTOP_BIN, "dump", str(p.pid), "--timeout", "5"], env=hold_env(800),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_threads_stopped(p.pid), "the dump never stopped the target"
        dumper.send_signal(signal.SIGSTOP)
        # The stop phase holds them 0.8 s: released after that, stacktop or not.
        assert wait_threads_running(p.pid, 5.0) is not None, "target still stopped while stacktop is stopped"
        assert_not_stopped_or_traced(p.pid)
        dumper.send_signal(signal.SIGCONT)
        out, err = dumper.communicate(timeout=30)
    finally:
        if dumper.poll() is None:
            dumper.send_signal(signal.SIGCONT)
            dumper.kill()
            dumper.communicate()
    assert dumper.returncode == 0, err
    assert out.startswith("thread profile: total 58\n")


def test_timeout_bounds_the_pause_of_10000_threads(spawn, tmp_path):
    """--timeout is the longest the target is stopped, at any thread count:
    threads not stopped by then are reported as missing, not waited for. The
    pause is measured inside the target by a heartbeat thread."""
    report = tmp_path / "pause"
    p = spawn("many_threads", 9800, 200, report, ready_timeout=120)
    timeout = 0.05
    os.kill(p.pid, signal.SIGUSR1)  # reset the heartbeat's longest gap
    r = subprocess.run([STACKTOP_BIN, "dump", str(p.pid), "--timeout", str(timeout), "--format", "json"],
                       capture_output=True, text=True, timeout=120)
    assert_not_stopped_or_traced(p.pid)
    report.unlink(missing_ok=True)
    os.kill(p.pid, signal.SIGUSR2)
    deadline = time.monotonic() + 10
    while not (report.exists() and report.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.01)
    pause_s = int(report.read_text()) / 1e6
    # The helper's own timer ends the stop 0.25 s past the deadline at the
    # latest; the heartbeat ticks every millisecond on a loaded machine.
    assert pause_s < timeout + 0.25 + 0.1, (pause_s, r.stdout[-300:], r.stderr)
    if r.returncode in (0, 3):
        doc = json.loads(r.stdout)
        assert doc["stopped_ms"] < (timeout + 0.25) * 1000
    else:
        assert "overran --timeout" in r.stderr or "stopped within" in r.stderr, r.stderr


def test_release_build_has_no_test_hooks():
    """STACKTOP_TEST_HOLD_MS exists only in the test build: the plain binary
    (what make install copies) ignores it."""
    plain = os.path.join(ROOT, "build", "stacktop")
    version = subprocess.run([plain, "--version"], capture_output=True, text=True, check=True).stdout
    assert "test build" not in version, version
    assert subprocess.run(["grep", "-c", "STACKTOP_TEST_HOLD_MS", plain], capture_output=True,
                          text=True).stdout.strip() == "0"


def gdb_backtrace(pid, tid):
    """[(function or '<signal handler called>', pc or None, file:line or None)]
    of one thread, from gdb."""
    r = subprocess.run(["gdb", "-nx", "-batch", "-p", str(pid), "-ex", "thread apply all bt"],
                       capture_output=True, text=True, timeout=120)
    frames, current = [], None
    for line in r.stdout.splitlines():
        m = re.match(r"Thread \d+ .*\(LWP (\d+)\)", line)
        if m:
            current = int(m.group(1))
            continue
        if current != tid or not line.startswith("#"):
            continue
        if "<signal handler called>" in line:
            frames.append(("<signal handler called>", None, None))
            continue
        m = re.match(r"#\d+\s+(?:0x([0-9a-f]+) in )?(\S+) \(.*?\)(?: at (\S+))?", line)
        assert m, line
        frames.append((m.group(2), int(m.group(1), 16) if m.group(1) else None, m.group(3)))
    assert frames, r.stdout + r.stderr
    return frames


def test_signal_frame_is_unwound_through_like_gdb(spawn, stacktop):
    """A thread inside a signal handler: the handler's frames, the trampoline
    named, then the interrupted function looked up at the very instruction
    the signal struck (not the one before), then its callers: gdb's stack."""
    p = spawn("signal_handler")
    victim = int(p.ready_line.split()[1])
    doc = dump_json(stacktop, p.pid)
    group = [g for g in doc["groups"] if g["threads"][0]["tid"] == victim][0]
    assert group["cut"] is None
    frames = real_frames(group)
    names = [("<signal handler called>" if f["signal_frame"] else f["function"]) for f in frames]
    fixture = {"wait_in_handler", "on_signal", "<signal handler called>", "spin_until_signalled", "victim"}
    assert [n for n in names if n in fixture] == ["wait_in_handler", "on_signal", "<signal handler called>",
                                                  "spin_until_signalled", "victim"]
    ours = {f["function"]: f for f in frames}
    theirs = [f for f in gdb_backtrace(p.pid, victim) if f[0] in fixture]
    assert [f[0] for f in theirs] == [n for n in names if n in fixture]
    # same addresses (gdb prints return addresses; frame 0 and the struck
    # instruction as they are) and the same file:line
    raw = dict(zip([f["function"] for f in frames], [int(pc, 16) for pc in group["pcs"]])) \
        if len(group["pcs"]) == len(frames) else None
    for name, pc, where in theirs:
        if name == "<signal handler called>":
            continue
        f = ours[name]
        assert where and where.endswith(f"{os.path.basename(f['file'])}:{f['line']}"), (name, where, f)
        # gdb leaves the address out of a frame whose pc starts a statement
        if raw is not None and pc is not None:
            assert raw[name] == pc, name
    struck = ours["spin_until_signalled"]
    assert int(struck["pc"], 16) == raw["spin_until_signalled"]   # not pc-1
    text = stacktop("dump", p.pid).stdout
    assert "\t<signal handler called>" in text


def test_stack_deeper_than_the_copy_is_marked_cut(spawn, stacktop):
    p = spawn("deep_recursion", "1500")
    deep = int(p.ready_line.split()[1])
    doc = dump_json(stacktop, p.pid, "--max-depth", "4096", partial=True)
    group = [g for g in doc["groups"] if g["threads"][0]["tid"] == deep][0]
    assert group["cut"] == "copy_limit"
    depth = sum(1 for f in real_frames(group) if f["function"] == "descend")
    assert 300 < depth < 1500
    assert doc["cut_stacks"] == 1
    r = stacktop("dump", "-v", p.pid)
    # cut by --max-depth (256) before the copy ends: asked for, so exit 0
    assert r.returncode == 0, r.stderr
    assert "1 stacks are cut (1 depth;" in r.stderr and "--max-depth frames reached" in r.stdout


def test_verbose_prints_the_phases_of_the_pause(spawn, stacktop):
    p = spawn("stack_groups")
    r = stacktop("dump", "-v", "--format", "json", p.pid)
    assert r.returncode == 0, r.stderr
    m = re.search(r"pid (\d+) \(stack_groups\): 58 threads, target paused ([\d.]+) ms = interrupt ([\d.]+) "
                  r"\+ wait ([\d.]+) \+ copy ([\d.]+) \+ release ([\d.]+) ms; (\d+) KiB of stacks copied; "
                  r"total ([\d.]+) ms", r.stderr)
    assert m, r.stderr
    paused, *phases = (float(x) for x in m.groups()[1:6])
    assert abs(sum(phases) - paused) <= 0.05 + 0.01 * paused
    doc = json.loads(r.stdout)
    assert doc["stopped_ms"] == pytest.approx(paused, abs=0.01)
    assert set(doc["pause_phases_ms"]) == {"interrupt", "wait", "copy", "release"}
