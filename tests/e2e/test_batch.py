"""Batch mode (-b) against real fixture processes: figures checked against
/proc, thread states, CPU%, sorting, filters, text and JSON shapes, pipes and
signals."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from conftest import STACKTOP_BIN, run_stacktop, thread_states  # noqa: E402

PROCESS_KEYS = {"pid", "user", "state", "threads", "cpu_pct", "mem_pct", "virt_kib", "res_kib",
                "shr_kib", "data_kib", "cpu_time_s", "command", "res_growth_kib_per_min",
                "thread_states"}
STATE_KEYS = {"R", "S", "D", "T", "Z"}


def batch_json(*args, iterations=1, delay=0.3):
    """Runs `stacktop -b --format json` and returns the parsed refreshes."""
    res = run_stacktop("-b", "-n", iterations, "-d", delay, "--format", "json", *args,
                       timeout=60 + iterations * delay * 2)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    lines = res.stdout.splitlines()
    assert len(lines) == iterations
    return [json.loads(line) for line in lines]


def only_process(refresh, pid):
    procs = [p for p in refresh["processes"] if p["pid"] == pid]
    assert len(procs) == 1, f"pid {pid} not exactly once in {[p['pid'] for p in refresh['processes']]}"
    return procs[0]


def statm_kib(pid):
    page_kib = os.sysconf("SC_PAGE_SIZE") // 1024
    with open(f"/proc/{pid}/statm") as f:
        size, resident, shared, _text, _lib, data, _dt = map(int, f.read().split())
    return {"virt": size * page_kib, "res": resident * page_kib, "shr": shared * page_kib,
            "data": data * page_kib}


def within(value, expected, fraction):
    return abs(value - expected) <= expected * fraction


HZ = os.sysconf("SC_CLK_TCK")


class TickRecorder:
    """Reads a task's utime+stime from /proc every few milliseconds, with the
    wall time, while stacktop runs: the CPU% stacktop reports for an interval
    is then checked against ticks read independently over that same
    interval, whatever else keeps the machine busy."""

    def __init__(self, pid, tid=None):
        self.path = f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat"
        self.samples = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _read(self):
        with open(self.path) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    def _run(self):
        while not self.stop.is_set():
            try:
                self.samples.append((time.time(), self._read()))
            except (FileNotFoundError, ProcessLookupError):
                return
            time.sleep(0.005)

    def close(self):
        self.stop.set()
        self.thread.join()

    def ticks_at(self, when):
        """Ticks at wall time `when`: the last reading before it (a tick may
        fall between readings: the comparison allows for it)."""
        before = [t for ts, t in self.samples if ts <= when]
        assert before, f"no reading before {when}"
        return before[-1]

    def percent(self, start, end):
        return (self.ticks_at(end) - self.ticks_at(start)) / HZ / (end - start) * 100.0


def assert_cpu_matches(reported, recorder, refresh, slack_ticks=3):
    """stacktop's CPU% for a refresh (its wall time and interval, from the
    JSON) against the recorder's over the same interval, within a few ticks."""
    end = refresh["time"]
    start = end - refresh["system"]["interval_s"]
    expected = recorder.percent(start, end)
    tolerance = slack_ticks / HZ / refresh["system"]["interval_s"] * 100.0 + 2.0
    assert abs(reported - expected) <= tolerance, (reported, expected, tolerance)


def batch_json_recorded(recorders, *args, iterations=2, delay=0.5):
    """batch_json while recorders read the same tasks' ticks."""
    try:
        return batch_json(*args, iterations=iterations, delay=delay)
    finally:
        time.sleep(0.02)
        for r in recorders:
            r.close()


def test_memhog_memory_matches_statm(spawn):
    hog = spawn("memhog", 64)
    (refresh,) = batch_json("-p", hog.pid)
    proc = only_process(refresh, hog.pid)
    statm = statm_kib(hog.pid)
    assert within(proc["res_kib"], statm["res"], 0.02), (proc, statm)
    assert proc["res_kib"] >= 64 * 1024
    assert within(proc["virt_kib"], statm["virt"], 0.02)
    assert within(proc["data_kib"], statm["data"], 0.02)
    assert within(proc["shr_kib"], statm["shr"], 0.10)
    mem_total = refresh["system"]["mem_total_kib"]
    assert abs(proc["mem_pct"] - 100.0 * proc["res_kib"] / mem_total) < 0.1
    assert proc["command"].endswith("memhog 64")


def test_idle_process_res_is_exact_and_covers_shr(spawn):
    """RES of a small idle process equals statm's resident exactly. Recent
    kernels keep /proc/PID/stat's rss as a per-CPU approximation that can lag
    by the anonymous pages, which showed SHR > RES for small processes."""
    p = spawn("sleeper")
    (refresh,) = batch_json("-p", p.pid)
    proc = only_process(refresh, p.pid)
    statm = statm_kib(p.pid)
    assert proc["res_kib"] == statm["res"], (proc, statm)
    assert proc["shr_kib"] <= proc["res_kib"], proc


def test_no_res_growth_before_the_minimum_span(spawn):
    # A process that just allocated 16 MiB once must not read as a leak:
    # no growth figure at all until it has been watched for a minute.
    hog = spawn("memhog", 16)
    refreshes = batch_json("-p", hog.pid, iterations=3, delay=0.2)
    assert only_process(refreshes[-1], hog.pid)["res_growth_kib_per_min"] is None


def parse_ready(line):
    """'ready busy=12 sleeping=13,14 main=11' -> {'busy': [12], ...}"""
    fields = dict(item.split("=") for item in line.split()[1:])
    return {k: [int(x) for x in v.split(",")] for k, v in fields.items()}


def test_thread_states_counts_and_rows(spawn):
    fx = spawn("thread_states", 4)
    ids = parse_ready(fx.ready_line)
    busy_tid = ids["busy"][0]
    recorder = TickRecorder(fx.pid, busy_tid)
    refresh = batch_json_recorded([recorder], "-p", fx.pid, "--threads")[-1]
    proc = only_process(refresh, fx.pid)
    assert proc["thread_count"] == 6
    # one busy thread (R), four sleepers plus the main thread in pthread_join (S)
    assert proc["thread_states"] == {"R": 1, "S": 5, "D": 0, "T": 0, "Z": 0}
    rows = {t["tid"]: t for t in proc["threads"]}
    assert set(rows) == set(thread_states(fx.pid))
    assert set(rows[t]["tid"] for t in ids["sleeping"]) == set(ids["sleeping"])
    busy = rows[busy_tid]
    assert busy["state"] == "R" and busy["name"] == "busy"
    assert_cpu_matches(busy["cpu_pct"], recorder, refresh)
    for tid in ids["sleeping"]:
        assert rows[tid]["state"] == "S" and rows[tid]["name"] == "sleeper"
        assert rows[tid]["cpu_pct"] < 5
    assert rows[fx.pid]["state"] == "S"
    assert set(rows[fx.pid]) == {"tid", "name", "state", "cpu_pct"}


def test_thread_states_without_thread_rows(spawn):
    fx = spawn("thread_states", 3)
    (refresh,) = batch_json("-p", fx.pid)
    proc = only_process(refresh, fx.pid)
    assert set(proc) == PROCESS_KEYS
    assert proc["threads"] == 5
    assert proc["thread_states"] == {"R": 1, "S": 4, "D": 0, "T": 0, "Z": 0}


def wait_for_states(pid, letters, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = thread_states(pid)
        if states and all(s in letters for s in states.values()):
            return states
        time.sleep(0.02)
    raise AssertionError(f"pid {pid} threads never all in {letters}: {thread_states(pid)}")


def test_stopped_process_counts_as_T(spawn):
    running = spawn("thread_states", 2)
    stopped = spawn("thread_states", 3)
    os.kill(stopped.pid, signal.SIGSTOP)
    try:
        wait_for_states(stopped.pid, "T")
        (refresh,) = batch_json("-p", f"{running.pid},{stopped.pid}", "--threads")
        st = only_process(refresh, stopped.pid)
        assert st["state"] == "T"
        assert st["thread_states"] == {"R": 0, "S": 0, "D": 0, "T": 5, "Z": 0}
        assert all(t["state"] == "T" and t["cpu_pct"] == 0 for t in st["threads"])
        run = only_process(refresh, running.pid)
        assert run["thread_states"]["T"] == 0 and run["thread_states"]["R"] == 1
        system = refresh["system"]
        assert system["thread_states"]["T"] >= 5
        assert system["task_states"]["T"] >= 1
    finally:
        os.kill(stopped.pid, signal.SIGCONT)
        wait_for_states(stopped.pid, "RS")


def test_busy_loop_cpu_matches_its_ticks(spawn):
    """A spinning process's CPU% is what /proc's ticks say for the same
    interval (near 100 on an idle machine, less when others compete)."""
    busy = spawn("busy", 1)
    sleeper = spawn("sleeper")
    recorder = TickRecorder(busy.pid)
    refreshes = batch_json_recorded([recorder], "-p", f"{busy.pid},{sleeper.pid}", iterations=2, delay=1.0)
    for refresh in refreshes:
        assert_cpu_matches(only_process(refresh, busy.pid)["cpu_pct"], recorder, refresh)
        assert only_process(refresh, sleeper.pid)["cpu_pct"] < 5
    assert only_process(refreshes[-1], busy.pid)["state"] == "R"
    assert only_process(refreshes[-1], sleeper.pid)["state"] == "S"


def test_two_busy_threads_above_one_core(spawn):
    busy = spawn("busy", 2)
    recorder = TickRecorder(busy.pid)
    refreshes = batch_json_recorded([recorder], "-p", busy.pid, "--threads", iterations=3, delay=0.7)
    procs = [only_process(r, busy.pid) for r in refreshes]
    for refresh, p in zip(refreshes, procs):
        assert p["thread_count"] == 2
        assert p["thread_states"]["R"] + p["thread_states"]["S"] == 2
        # the process's CPU% is its ticks over the interval, not capped at one core
        assert_cpu_matches(p["cpu_pct"], recorder, refresh)
        assert all(t["cpu_pct"] > 0 for t in p["threads"])
        assert abs(sum(t["cpu_pct"] for t in p["threads"]) - p["cpu_pct"]) < 10
    # Above one core whenever /proc says the two threads got more than one.
    for refresh, p in zip(refreshes, procs):
        end = refresh["time"]
        if recorder.percent(end - refresh["system"]["interval_s"], end) > 110:
            assert p["cpu_pct"] > 100


def test_cpu_time_matches_proc(spawn):
    busy = spawn("busy", 1)
    (refresh,) = batch_json("-p", busy.pid, delay=0.5)
    with open(f"/proc/{busy.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    now_s = ticks / os.sysconf("SC_CLK_TCK")
    cpu_time = only_process(refresh, busy.pid)["cpu_time_s"]
    assert 0 < cpu_time <= now_s + 0.01
    assert now_s - cpu_time < 1.0


@pytest.mark.parametrize("column,key", [("res", "res_kib"), ("cpu", "cpu_pct"), ("virt", "virt_kib"),
                                        ("mem", "mem_pct"), ("time", "cpu_time_s"), ("pid", "pid"),
                                        ("threads", "threads")])
def test_sorted_descending(column, key):
    (refresh,) = batch_json("-s", column, delay=0.2)
    values = [p[key] for p in refresh["processes"]]
    assert len(values) > 5
    assert values == sorted(values, reverse=True)


def test_sort_ties_by_pid():
    (refresh,) = batch_json("-s", "res", delay=0.2)
    procs = refresh["processes"]
    for a, b in zip(procs, procs[1:]):
        if a["res_kib"] == b["res_kib"]:
            assert a["pid"] < b["pid"]


def test_text_columns_in_res_order(spawn):
    small = spawn("memhog", 8)
    big = spawn("memhog", 48)
    res = run_stacktop("-b", "-n", 1, "-d", 0.2, "-s", "res", "-p", f"{small.pid},{big.pid}")
    assert res.returncode == 0 and res.stderr == ""
    lines = res.stdout.splitlines()
    assert lines[0].startswith("stacktop - ") and "load average:" in lines[0]
    assert lines[1].startswith("Tasks:")
    assert lines[2].startswith("Threads:")
    assert lines[3].startswith("%Cpu(s):")
    assert lines[4].startswith("MiB Mem :") and "avail" in lines[4]
    assert lines[5].startswith("MiB Swap:")
    header = lines.index(next(line for line in lines if line.lstrip().startswith("PID ")))
    assert lines[header].split() == ["PID", "USER", "S", "THR", "CPU%", "MEM%", "VIRT", "RES", "SHR",
                                     "DATA", "RGROW", "TIME+", "COMMAND"]
    rows = [line.split() for line in lines[header + 1:] if line.strip()]
    assert [int(r[0]) for r in rows] == [big.pid, small.pid]
    assert rows[0][-2].endswith("/memhog") and rows[0][-1] == "48"
    assert rows[0][7].endswith("M") and float(rows[0][7][:-1]) >= 48
    assert rows[1][2] == "S" and rows[1][3] == "1"


def test_text_thread_rows(spawn):
    fx = spawn("thread_states", 2)
    res = run_stacktop("-b", "-n", 1, "-d", 0.2, "-p", fx.pid, "--threads")
    assert res.returncode == 0
    thread_lines = [line for line in res.stdout.splitlines() if "`- " in line]
    assert len(thread_lines) == 4
    assert sum(1 for line in thread_lines if line.split()[-1] == "busy") == 1
    assert sum(1 for line in thread_lines if line.split()[-1] == "sleeper") == 2


def test_iterations_and_json_shape(spawn):
    sl = spawn("sleeper")
    refreshes = batch_json("-p", sl.pid, iterations=3, delay=0.1)
    times = [r["time"] for r in refreshes]
    assert times == sorted(times) and times[0] < times[-1]
    for r in refreshes:
        assert set(r) == {"time", "system", "processes"}
        system = r["system"]
        assert set(system["task_states"]) == STATE_KEYS
        assert set(system["thread_states"]) == STATE_KEYS
        assert sum(system["task_states"].values()) == system["tasks"]
        assert sum(system["thread_states"].values()) == system["threads"]
        assert 0 < system["mem_available_kib"] <= system["mem_total_kib"]
        assert system["interval_s"] > 0.05
        assert 0 <= system["cpu_pct"] <= 100
        (proc,) = r["processes"]
        assert set(proc) == PROCESS_KEYS
        assert proc["user"] == "root" if os.geteuid() == 0 else True
        assert set(proc["thread_states"]) == STATE_KEYS


def test_pid_filter_and_missing_pid(spawn):
    a = spawn("sleeper")
    b = spawn("sleeper")
    (refresh,) = batch_json("-p", f"{a.pid},{b.pid},999999")
    assert sorted(p["pid"] for p in refresh["processes"]) == sorted([a.pid, b.pid])


def test_user_filter(spawn):
    sl = spawn("sleeper")
    (refresh,) = batch_json("-u", "root")
    assert refresh["processes"]
    assert all(p["user"] == "root" for p in refresh["processes"])
    if os.geteuid() == 0:
        assert any(p["pid"] == sl.pid for p in refresh["processes"])
    (refresh,) = batch_json("-u", "nobody")
    assert all(p["user"] == "nobody" for p in refresh["processes"])
    assert not any(p["pid"] == sl.pid for p in refresh["processes"])


def test_processes_exiting_mid_read_are_normal():
    # Short-lived processes come and go while stacktop reads /proc.
    churn = subprocess.Popen(["/bin/sh", "-c", "while :; do /bin/true & /bin/true; wait; done"],
                             start_new_session=True)
    try:
        res = run_stacktop("-b", "-n", 10, "-d", 0.05, "--threads", "--format", "json")
    finally:
        os.killpg(churn.pid, signal.SIGKILL)
        churn.wait()
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert len(res.stdout.splitlines()) == 10
    for line in res.stdout.splitlines():
        json.loads(line)


def test_invalid_utf8_command_is_valid_json(spawn, tmp_path):
    # A command line with bytes that are not UTF-8 still gives valid JSON.
    link = os.path.join(str(tmp_path).encode(), b"sl\xffeeper")
    os.symlink(os.path.join(os.environ.get("STACKTOP_FIXTURES", ""), "sleeper").encode(), link)
    proc = subprocess.Popen([link], stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert proc.stdout.readline().startswith(b"ready")
        res = subprocess.run([STACKTOP_BIN, "-b", "-n", "1", "-d", "0.2", "--format", "json",
                              "-p", str(proc.pid)], capture_output=True, timeout=60)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    assert res.returncode == 0
    (p,) = json.loads(res.stdout.decode("utf-8"))["processes"]
    assert "sl\ufffdeeper" in p["command"]


def test_text_output_neutralises_terminal_escapes(tmp_path):
    """A process chooses its command line and name: root running `stacktop -b`
    in a terminal must not have escape sequences (C0, DEL, UTF-8 C1) from them
    written to it."""
    link = os.path.join(str(tmp_path).encode(), b"s\x1b[2Jp")
    os.symlink(os.path.join(os.environ.get("STACKTOP_FIXTURES", ""), "sleeper").encode(), link)
    argv0 = b"x\x1b]0;pwned\x07\x7f\xc2\x9b31m\xce\x9b\x01y"
    proc = subprocess.Popen([argv0], executable=link, stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert proc.stdout.readline().startswith(b"ready")
        res = subprocess.run([STACKTOP_BIN, "-b", "-n", "1", "-d", "0.2", "--threads", "-p", str(proc.pid)],
                             capture_output=True, timeout=60)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    assert res.returncode == 0, res.stderr
    out = res.stdout.decode("utf-8")
    assert not any(ord(c) < 0x20 and c != "\n" or 0x7f <= ord(c) <= 0x9f for c in out), repr(out)
    assert "x?]0;pwned???31m\u039b?y" in out   # printable text and real UTF-8 (Greek Lambda) stay
    assert "[2Jp" in out


def test_pipe_to_head_ends_quietly():
    res = subprocess.run(f"'{STACKTOP_BIN}' -b -d 0.05 | head -n 2", shell=True, capture_output=True,
                         text=True, timeout=60, executable="/bin/bash")
    assert res.returncode == 0
    assert res.stderr == ""
    assert len(res.stdout.splitlines()) == 2
    res = subprocess.run(f"set -o pipefail; '{STACKTOP_BIN}' -b -d 0.05 --format json | head -c 10",
                         shell=True, capture_output=True, text=True, timeout=60, executable="/bin/bash")
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_ends_cleanly(sig):
    proc = subprocess.Popen([STACKTOP_BIN, "-b", "-d", "0.2", "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        json.loads(first)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert err == ""
    for line in out.splitlines():
        json.loads(line)  # every printed refresh is complete


def test_single_threaded_process_has_one_thread_row(spawn):
    busy = spawn("busy", 1)
    refreshes = batch_json("-p", busy.pid, "--threads", iterations=2, delay=0.5)
    for refresh in refreshes:
        proc = only_process(refresh, busy.pid)
        assert proc["thread_count"] == 1
        (thread,) = proc["threads"]
        assert thread["tid"] == busy.pid and thread["name"] == "busy"
        assert thread["state"] == proc["state"]
        assert thread["cpu_pct"] == proc["cpu_pct"]


def test_write_error_is_reported():
    with open("/dev/full", "w") as full:
        res = subprocess.run([STACKTOP_BIN, "-b", "-n", "3", "-d", "0.05"], stdout=full,
                             stderr=subprocess.PIPE, text=True, timeout=60)
    assert res.returncode == 1
    (line,) = res.stderr.splitlines()
    assert line.startswith("stacktop: cannot write batch output:")


def test_growing_process_tracked_every_refresh(spawn):
    hog = spawn("memhog", 8, 4)      # +4 MiB every second
    res = run_stacktop("-b", "-n", 5, "-d", 0.6, "--format", "json", "-p", hog.pid)
    assert res.returncode == 0, res.stderr
    procs = [only_process(json.loads(line), hog.pid) for line in res.stdout.splitlines()]
    statm = statm_kib(hog.pid)
    assert procs[-1]["res_kib"] > procs[0]["res_kib"] + 4 * 1024
    assert procs[-1]["data_kib"] > procs[0]["data_kib"] + 4 * 1024   # statm re-read as it grows
    assert procs[-1]["res_kib"] <= statm["res"]
    # Three seconds are below the minimum span: growth is not guessed yet.
    assert procs[-1]["res_growth_kib_per_min"] is None


def test_process_started_between_refreshes(spawn):
    # stacktop primes first; the busy process starts within the first interval,
    # so its first CPU% counts all its ticks (not 0, not since-boot nonsense).
    proc = subprocess.Popen([STACKTOP_BIN, "-b", "-n", "2", "-d", "1.0", "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.2)
        busy = spawn("busy", 1)
        recorder = TickRecorder(busy.pid)
        out, err = proc.communicate(timeout=60)
        recorder.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    refreshes = [json.loads(line) for line in out.splitlines()]
    first, second = (only_process(r, busy.pid) for r in refreshes)
    # The first interval: every tick since the process started (0 at its start).
    end = refreshes[0]["time"]
    started = refreshes[0]["system"]["interval_s"]
    expected = recorder.ticks_at(end) / HZ / started * 100.0
    assert abs(first["cpu_pct"] - expected) <= 3 / HZ / started * 100.0 + 2.0, (first, expected)
    assert first["cpu_pct"] > 0
    assert_cpu_matches(second["cpu_pct"], recorder, refreshes[1])


def test_growth_tells_a_slow_leak_from_a_one_off_allocation(spawn):
    """Watched for just over the minimum span (60 s): a process leaking about
    2 MiB per minute shows that growth, one that allocated 32 MiB once right
    after starting shows none. The leak rate is measured independently from
    statm over the same interval."""
    once = spawn("memhog", 32)
    leak = spawn("memhog", 8, "34k")          # 34 KiB a second: ~2 MiB a minute
    start = (time.monotonic(), statm_kib(leak.pid)["res"])
    refreshes = batch_json("-p", f"{once.pid},{leak.pid}", iterations=72, delay=1.0)
    end = (time.monotonic(), statm_kib(leak.pid)["res"])
    measured = (end[1] - start[1]) / (end[0] - start[0]) * 60
    assert 1500 < measured < 2600, measured
    early = [only_process(r, leak.pid)["res_growth_kib_per_min"] for r in refreshes[:50]]
    assert early[0] is None and early[10] is None
    leak_growth = only_process(refreshes[-1], leak.pid)["res_growth_kib_per_min"]
    once_growth = only_process(refreshes[-1], once.pid)["res_growth_kib_per_min"]
    assert leak_growth is not None and once_growth is not None
    assert abs(leak_growth - measured) < measured * 0.25, (leak_growth, measured)
    assert abs(once_growth) < measured * 0.1, once_growth
