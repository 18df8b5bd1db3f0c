#!/usr/bin/env python3
"""Soak test of `stacktop watch` (make soak; not part of make check).

Runs the watcher for SOAK_SECONDS (default 600) at interval = 1s over 20
services that match in every way a config can (comm, exe, pidfile, cmdline;
every per-process rule, restart, the system memory rule), plus one service
that fires every minute, so bundles, mail (to a local aiosmtpd) and exec hooks
run all along. Every 30 s it prints the watcher's RSS, its peak, its CPU use
over the last period, and what was done. The verdict: after the warm-up (the
longest growth window plus a minute), RSS must stay flat (within SLACK_KIB).

It runs in a PID namespace of its own (unshare --pid --mount-proc): the
watcher samples every process it can see, and its per-process tables follow
the number of processes; on a shared machine other people's test runs would
move its RSS in steps that say nothing about the watcher.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("STACKTOP_BIN", os.path.join(ROOT, "build", "stacktop"))
FIXTURES = os.environ.get("STACKTOP_FIXTURES", os.path.join(ROOT, "build", "fixtures"))
SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
PERIOD = 30
SERVICES = 20
WINDOW_S = 120  # growth windows: the raw history is full after this
WARMUP_S = WINDOW_S + 60
SLACK_KIB = 512  # malloc noise and History's minute buckets (72 bytes a minute a process)
HZ = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def in_own_pid_namespace():
    """Re-runs this script as pid 1 of a new PID namespace (with its own /proc)."""
    if os.environ.get("STACKTOP_SOAK_NAMESPACE") == "1":
        return
    env = dict(os.environ, STACKTOP_SOAK_NAMESPACE="1")
    os.execvpe("unshare", ["unshare", "--pid", "--fork", "--mount-proc", sys.executable, os.path.abspath(__file__)],
               env)


def main():
    in_own_pid_namespace()
    work = tempfile.mkdtemp(prefix="stacktop-soak-")
    procs = []
    try:
        port = free_port()
        procs.append(subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 30
        while True:  # the first incident fires at once: the server must be up
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("soak: aiosmtpd did not start")
                time.sleep(0.1)
        sections = []
        for i in range(SERVICES):
            exe = os.path.join(work, f"soak{i:02d}")
            shutil.copy("/bin/sleep", exe)
            p = subprocess.Popen([exe, str(SECONDS + 600)])
            procs.append(p)
            pidfile = os.path.join(work, f"soak{i:02d}.pid")
            with open(pidfile, "w") as f:
                f.write(f"{p.pid}\n")
            match = [f"comm:soak{i:02d}", f"exe:{exe}", f"pidfile:{pidfile}", f"cmdline:/soak{i:02d} [0-9]+$/"][i % 4]
            sections.append(f"[service s{i:02d}]\nmatch = {match}\ncpu_above = 90% for 3\nres_above = 1GiB\n"
                            f"res_growth_above = 50MiB/h over {WINDOW_S}s\nthreads_above = 500\n"
                            f"thread_growth_above = 100/h over {WINDOW_S}s\nfds_above = 90%\nrestart = alert\n")
        noisy = subprocess.Popen([os.path.join(FIXTURES, "deep_threads"), "4", "8"], stdout=subprocess.PIPE)
        procs.append(noisy)
        noisy.stdout.readline()
        sections.append(f"[service noisy]\nmatch = pid:{noisy.pid}\nthreads_above = 2\nexec = true\n")
        conf = os.path.join(work, "soak.conf")
        with open(conf, "w") as f:
            f.write(f"[global]\ninterval = 1s\nbundle_dir = {work}/bundles\nhostname = soak\ncooldown = 1m\n"
                    f"max_bundles_per_hour = 100\nkeep_bundles = 5\nmail_to = ops@example.com\n"
                    f"mail_from = stacktop@soak.example.com\nsmtp_url = smtp://127.0.0.1:{port}\n"
                    f"system_mem_available_below = 1%\n\n" + "\n".join(sections))
        log = open(os.path.join(work, "watch.log"), "w+")
        watcher = subprocess.Popen([BIN, "watch", "-c", conf, "--foreground"], stderr=log)
        start = time.monotonic()
        rows = []
        last_cpu, last_t = cpu_seconds(watcher.pid), start
        print(f"soak: {SERVICES} services + 1 firing every minute, interval 1s, {SECONDS}s, "
              f"{len(os.listdir('/proc'))} /proc entries in its PID namespace; {BIN}")
        print(f"{'t/s':>5} {'RSS/KiB':>8} {'peak/KiB':>8} {'CPU%':>6} {'bundles':>7} {'mailed':>6} {'jobs':>4}")
        while time.monotonic() - start < SECONDS:
            time.sleep(max(0.0, start + (len(rows) + 1) * PERIOD - time.monotonic()))
            if watcher.poll() is not None:
                raise SystemExit(f"soak: the watcher exited with {watcher.returncode}; see {work}/watch.log")
            now, cpu = time.monotonic(), cpu_seconds(watcher.pid)
            log.seek(0)
            text = log.read()
            with open(f"/proc/{watcher.pid}/task/{watcher.pid}/children") as f:
                jobs = len(f.read().split())
            row = (now - start, status(watcher.pid, "VmRSS"), status(watcher.pid, "VmHWM"),
                   100.0 * (cpu - last_cpu) / (now - last_t), text.count(" written ("), text.count(": notice: mailed"),
                   jobs)
            rows.append(row)
            last_cpu, last_t = cpu, now
            print(f"{row[0]:5.0f} {row[1]:8d} {row[2]:8d} {row[3]:6.2f} {row[4]:7d} {row[5]:6d} {row[6]:4d}", flush=True)
        watcher.send_signal(signal.SIGTERM)
        rc = watcher.wait(timeout=60)
        after = [r[1] for r in rows if r[0] >= WARMUP_S]
        if rc != 0:
            raise SystemExit(f"soak: the watcher exited with {rc} on SIGTERM; see {work}/watch.log")
        if not after:
            raise SystemExit(f"soak: run longer than the warm-up ({WARMUP_S}s) to judge RSS")
        growth = max(after) - after[0]
        verdict = "flat" if growth <= SLACK_KIB else "GROWING"
        print(f"soak: RSS after the {WARMUP_S}s warm-up: {after[0]}..{max(after)} KiB (+{growth} KiB, "
              f"allowed {SLACK_KIB}): {verdict}; CPU {sum(r[3] for r in rows) / len(rows):.2f}% on average; "
              f"{rows[-1][4]} bundles, {rows[-1][5]} mails")
        if growth > SLACK_KIB:
            raise SystemExit(1)
        shutil.rmtree(work)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


if __name__ == "__main__":
    main()
