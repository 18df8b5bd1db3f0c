#!/usr/bin/env python3
"""Monitor benchmark. With 1,000 and with 5,000 extra idle processes
(fixture idle_forker), in the same run: CPU time per refresh (children's
utime+stime from wait4) of `stacktop -b -n N -d 0.2` against
`top -b -n N -d 0.2`, both printing the whole table, and the ratio; peak RSS
of stacktop in batch mode (wait4 ru_maxrss) and of stacktop's and htop's
interactive views running in a tmux pane (VmHWM after a few refreshes).
Goal: less CPU per refresh than top. Figures are printed, never asserted."""
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STACKTOP = os.environ.get("STACKTOP_BIN", os.path.join(ROOT, "build", "stacktop"))
FIXTURES = os.environ.get("STACKTOP_FIXTURES", os.path.join(ROOT, "build", "fixtures"))
EXTRA = [1000, 5000]
REFRESHES = 10
DELAY = "0.2"
ROUNDS = 3                      # alternate the tools, report the median
TMUX = ["tmux", "-L", "stacktop-bench-monitor"]
TMUX_SETTLE_S = 2.0             # ~10 refreshes at 0.2 s


def start_idle(count):
    proc = subprocess.Popen([os.path.join(FIXTURES, "idle_forker"), str(count)], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    line = proc.stdout.readline()
    if not line.startswith("ready"):
        proc.kill()
        proc.wait()
        sys.exit(f"bench_monitor: idle_forker {count} did not start")
    return proc


def stop_idle(proc):
    proc.kill()                 # its children die with it (PR_SET_PDEATHSIG)
    proc.wait()
    proc.stdout.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and count_processes() > BASELINE + 50:
        time.sleep(0.1)


def count_processes():
    return sum(1 for name in os.listdir("/proc") if name.isdigit())


def run_batch(argv):
    """Runs argv with output to /dev/null; returns (cpu seconds, peak RSS KiB)."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    err = proc.stderr.read().decode(errors="replace").strip()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench_monitor: {argv[0]} failed: {err}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def vm_hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return None


def interactive_peak_rss(argv, quit_key="q"):
    """Runs argv in a detached tmux pane for a few refreshes; VmHWM in KiB or None."""
    if not shutil.which("tmux"):
        return None
    session = "bench"
    subprocess.run(TMUX + ["kill-server"], stderr=subprocess.DEVNULL)
    cmd = " ".join(f"'{a}'" for a in argv)
    rc = subprocess.run(TMUX + ["new-session", "-d", "-s", session, "-x", "200", "-y", "50",
                                f"exec {cmd}"], env={**os.environ, "TERM": "xterm-256color"})
    if rc.returncode != 0:
        return None
    try:
        time.sleep(TMUX_SETTLE_S)
        out = subprocess.run(TMUX + ["list-panes", "-t", session, "-F", "#{pane_pid}"], capture_output=True,
                             text=True)
        if out.returncode != 0 or not out.stdout.strip():
            return None      # it already exited: no interactive view to measure
        pid = int(out.stdout.split()[0])
        hwm = vm_hwm_kib(pid)
        subprocess.run(TMUX + ["send-keys", "-t", session, quit_key])
        time.sleep(0.3)
        return hwm
    finally:
        subprocess.run(TMUX + ["kill-server"], stderr=subprocess.DEVNULL)


def measure(extra):
    idle = start_idle(extra)
    try:
        total = count_processes()
        ours, theirs, rss = [], [], []
        for _ in range(ROUNDS):
            cpu, peak = run_batch([STACKTOP, "-b", "-n", str(REFRESHES), "-d", DELAY])
            ours.append(cpu / REFRESHES)
            rss.append(peak)
            cpu, _ = run_batch(["top", "-b", "-n", str(REFRESHES), "-d", DELAY])
            theirs.append(cpu / REFRESHES)
        st_tui = interactive_peak_rss([STACKTOP, "-d", DELAY])
        htop_tui = interactive_peak_rss(["htop", "-d", str(int(float(DELAY) * 10))], quit_key="q")
        return {"processes": total, "stacktop_ms": statistics.median(ours) * 1000,
                "top_ms": statistics.median(theirs) * 1000, "batch_rss": max(rss),
                "tui_rss": st_tui, "htop_rss": htop_tui}
    finally:
        stop_idle(idle)


def fmt_kib(v):
    return "n/a" if v is None else f"{v / 1024:.1f} MiB"


def ratio(a, b):
    return "n/a" if a is None or not b else f"{a / b:.2f}"


def main():
    for tool in ("top", "htop"):
        if not shutil.which(tool):
            sys.exit(f"bench_monitor: {tool} is not installed (make deps)")
    for path in (STACKTOP, os.path.join(FIXTURES, "idle_forker")):
        if not os.path.exists(path):
            sys.exit(f"bench_monitor: {path} is missing: run 'make all fixtures'")
    print(f"CPU time per refresh: {REFRESHES} refreshes at -d {DELAY}, median of {ROUNDS} rounds "
          f"(children's utime+stime via wait4); peak RSS: batch ru_maxrss, interactive VmHWM in tmux")
    rows = [measure(extra) for extra in EXTRA]
    head = f"{'extra idle':>10} {'procs':>6} | {'stacktop -b':>11} {'top -b':>9} {'ratio':>6} | " \
           f"{'stacktop -b RSS':>15} {'stacktop TUI RSS':>16} {'htop RSS':>10} {'TUI/htop':>8}"
    print(head)
    print("-" * len(head))
    for extra, r in zip(EXTRA, rows):
        print(f"{extra:>10} {r['processes']:>6} | {r['stacktop_ms']:>8.2f} ms {r['top_ms']:>6.2f} ms "
              f"{ratio(r['stacktop_ms'], r['top_ms']):>6} | {fmt_kib(r['batch_rss']):>15} "
              f"{fmt_kib(r['tui_rss']):>16} {fmt_kib(r['htop_rss']):>10} "
              f"{ratio(r['tui_rss'], r['htop_rss']):>8}")
    worst = max(r["stacktop_ms"] / r["top_ms"] for r in rows)
    print(f"stacktop costs {worst:.2f}x top's CPU per refresh at worst "
          f"({'goal met' if worst < 1 else 'goal NOT met'}: < 1.00)")
    return 0


BASELINE = count_processes()

if __name__ == "__main__":
    sys.exit(main())
