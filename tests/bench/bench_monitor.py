#!/usr/bin/env python3
"""Monitor benchmark. With 1,000 and with 5,000 extra idle processes
(fixture idle_forker), in the same run: CPU time per refresh (children's
utime+stime from wait4) of `stacktop -b -n N -d 0.2` against
`top -b -n N -d 0.2`, both printing the whole table, and the ratio; CPU per
refresh of the interactive monitors, stacktop against htop, each in a tmux
pane at a 1 s refresh for TUI_SECONDS (utime+stime from /proc/PID/stat,
start-up excluded); peak RSS of stacktop in batch mode (wait4 ru_maxrss via
tests/fixtures/measure.c) and of stacktop's and htop's interactive views
(VmHWM after a few refreshes). Goals: less CPU per refresh than top, and
than htop. Figures are printed, never asserted."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import rusage_run

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STACKTOP = os.environ.get("STACKTOP_BIN", os.path.join(ROOT, "build", "stacktop"))
FIXTURES = os.environ.get("STACKTOP_FIXTURES", os.path.join(ROOT, "build", "fixtures"))
EXTRA = [1000, 5000]
REFRESHES = 10
DELAY = "0.2"
ROUNDS = 3                      # alternate the tools, report the median
TMUX = ["tmux", "-L", "stacktop-bench-monitor"]
TMUX_SETTLE_S = 2.0             # ~10 refreshes at 0.2 s
TUI_SECONDS = 30                # interactive CPU: measured over this many 1 s refreshes
CLK_TCK = os.sysconf("SC_CLK_TCK")


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
    m = rusage_run.run(argv)
    if m.status != 0:
        sys.exit(f"bench_monitor: {argv[0]} failed: {m.stderr}")
    return m.cpu_s, m.maxrss_kib


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


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def interactive_cpu_ms(argv, seconds=TUI_SECONDS):
    """CPU ms per refresh of an interactive monitor refreshing every second in
    a 200x50 tmux pane, over `seconds` after a settle (so start-up is not
    counted); None when it cannot run."""
    if not shutil.which("tmux"):
        return None
    session = "cpu"
    subprocess.run(TMUX + ["kill-server"], stderr=subprocess.DEVNULL)
    cmd = " ".join(f"'{a}'" for a in argv)
    rc = subprocess.run(TMUX + ["new-session", "-d", "-s", session, "-x", "200", "-y", "50", f"exec {cmd}"],
                        env={**os.environ, "TERM": "xterm-256color"})
    if rc.returncode != 0:
        return None
    try:
        time.sleep(3.0)
        out = subprocess.run(TMUX + ["list-panes", "-t", session, "-F", "#{pane_pid}"], capture_output=True,
                             text=True)
        if out.returncode != 0 or not out.stdout.strip():
            return None
        pid = int(out.stdout.split()[0])
        before = cpu_ticks(pid)
        time.sleep(seconds)
        after = cpu_ticks(pid)
        return (after - before) / CLK_TCK * 1000 / seconds
    finally:
        subprocess.run(TMUX + ["kill-server"], stderr=subprocess.DEVNULL)


def cpu_per_refresh(tool_argv):
    """(CPU ms per refresh including start-up, marginal CPU ms per refresh):
    the marginal figure is (cost of N refreshes - cost of 1) / (N - 1), so the
    cost of loading the program and its libraries drops out."""
    full, peak = run_batch(tool_argv + ["-n", str(REFRESHES), "-d", DELAY])
    one, _ = run_batch(tool_argv + ["-n", "1", "-d", DELAY])
    return full / REFRESHES * 1000, (full - one) / (REFRESHES - 1) * 1000, peak


def measure(extra):
    idle = start_idle(extra)
    try:
        total = count_processes()
        ours, theirs = [], []
        for _ in range(ROUNDS):
            ours.append(cpu_per_refresh([STACKTOP, "-b"]))
            theirs.append(cpu_per_refresh(["top", "-b"]))
        st_tui = interactive_peak_rss([STACKTOP, "-d", DELAY])
        htop_tui = interactive_peak_rss(["htop", "-d", str(int(float(DELAY) * 10))], quit_key="q")
        st_cpu = interactive_cpu_ms([STACKTOP, "-d", "1"]) if extra == EXTRA[0] else None
        htop_cpu = interactive_cpu_ms(["htop", "-d", "10"]) if extra == EXTRA[0] else None
        median = lambda runs, i: statistics.median(r[i] for r in runs)  # noqa: E731
        return {"processes": total, "stacktop_ms": median(ours, 0), "top_ms": median(theirs, 0),
                "stacktop_marginal": median(ours, 1), "top_marginal": median(theirs, 1),
                "batch_rss": max(r[2] for r in ours), "tui_rss": st_tui, "htop_rss": htop_tui,
                "tui_cpu": st_cpu, "htop_cpu": htop_cpu}
    finally:
        stop_idle(idle)


def fmt_kib(v):
    return "n/a" if v is None else f"{v / 1024:.1f} MiB"


def ratio(a, b):
    return "n/a" if a is None or not b else f"{a / b:.2f}"


def main():
    # The monitors' rc files (stacktop's, htop's) stay out of the user's home.
    config = tempfile.mkdtemp(prefix="stacktop-bench-config-")
    os.environ.update({"XDG_CONFIG_HOME": config, "HOME": config})
    for tool in ("top", "htop"):
        if not shutil.which(tool):
            sys.exit(f"bench_monitor: {tool} is not installed (make deps)")
    for path in (STACKTOP, os.path.join(FIXTURES, "idle_forker")):
        if not os.path.exists(path):
            sys.exit(f"bench_monitor: {path} is missing: run 'make all fixtures'")
    print(f"{REFRESHES} refreshes at -d {DELAY}, both tools printing the whole table to /dev/null; "
          f"median of {ROUNDS} rounds; CPU = the child's utime+stime from wait4")
    rows = [measure(extra) for extra in EXTRA]
    head = f"{'extra idle':>10} {'procs':>6} | {'stacktop -b':>11} {'top -b':>9} {'ratio':>6} | " \
           f"{'marginal: stacktop':>18} {'top':>9} {'ratio':>6}"
    print("\nCPU time per refresh (first three: total / N, start-up included; last three: marginal)")
    print(head)
    print("-" * len(head))
    for extra, r in zip(EXTRA, rows):
        print(f"{extra:>10} {r['processes']:>6} | {r['stacktop_ms']:>8.2f} ms {r['top_ms']:>6.2f} ms "
              f"{ratio(r['stacktop_ms'], r['top_ms']):>6} | {r['stacktop_marginal']:>15.2f} ms "
              f"{r['top_marginal']:>6.2f} ms {ratio(r['stacktop_marginal'], r['top_marginal']):>6}")
    print(f"\nInteractive CPU per refresh at -d 1 (htop -d 10), {TUI_SECONDS} s in a tmux pane, start-up excluded")
    for extra, r in zip(EXTRA, rows):
        if r["tui_cpu"] is None:
            continue
        print(f"{extra:>10} extra, {r['processes']} procs | stacktop {r['tui_cpu']:.2f} ms  htop "
              f"{r['htop_cpu']:.2f} ms  ratio {ratio(r['tui_cpu'], r['htop_cpu'])}")
    head = f"{'extra idle':>10} {'procs':>6} | {'stacktop -b':>11} {'stacktop TUI':>12} {'htop TUI':>9} " \
           f"{'TUI/htop':>8}"
    print("\nPeak RSS (batch: measure.c wait4 ru_maxrss; TUI: VmHWM after ~10 refreshes in tmux)")
    print(head)
    print("-" * len(head))
    for extra, r in zip(EXTRA, rows):
        print(f"{extra:>10} {r['processes']:>6} | {fmt_kib(r['batch_rss']):>11} {fmt_kib(r['tui_rss']):>12} "
              f"{fmt_kib(r['htop_rss']):>9} {ratio(r['tui_rss'], r['htop_rss']):>8}")
    worst = max(r["stacktop_ms"] / r["top_ms"] for r in rows)
    print(f"\nstacktop costs {worst:.2f}x top's CPU per refresh at worst, start-up included "
          f"({'goal met' if worst < 1 else 'goal NOT met'}: < 1.00)")
    return 0


BASELINE = count_processes()

if __name__ == "__main__":
    sys.exit(main())
