"""stacktop watch, least privilege (issue 10): the watcher runs as root; a
local user must not be able to point it at root's processes, redirect where
it writes, make it mail a file, trigger bundles for a root service, read
other users' command lines in a bundle, inject bytes into what it writes, or
make it allocate without bound."""
import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import STACKTOP_BIN, FixtureProcess, fixture_path, run_stacktop
from watch_support import SmtpSink, attachment_of, body_of, bundles_in, run_once, unpack, write_config

NOBODY = pwd.getpwnam("nobody")


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def nobody_dir(path):
    path.mkdir()
    os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
    return path


def nobody_symlink(target, link):
    os.symlink(target, link)
    os.lchown(link, NOBODY.pw_uid, NOBODY.pw_gid)


def test_a_symlinked_pidfile_cannot_point_at_roots_daemon(tmp_path, spawn):
    """The service's user owns its run directory and puts a symbolic link
    there to root's pidfile: root's daemon must not be dumped, bundled or
    handed to the exec hook."""
    daemon = spawn("watch_busy")  # root's
    real = tmp_path / "daemon.pid"
    real.write_text(f"{daemon.pid}\n")
    run = nobody_dir(tmp_path / "run")
    nobody_symlink(real, run / "svc.pid")
    hook_out = tmp_path / "hook-ran"
    conf, bundles = write_config(tmp_path, f"[service svc]\nmatch = pidfile:{run / 'svc.pid'}\nthreads_above = 2\n"
                                           f"exec = touch {hook_out}\n")
    r = run_once(conf)
    assert bundles_in(bundles) == [], r.stderr
    assert not hook_out.exists()
    assert re.search(r"pidfile \S+svc\.pid not used: .*symbolic link", r.stderr), r.stderr


def test_a_symlinked_bundle_dir_of_another_user_is_refused(tmp_path, spawn):
    """bundle_dir under a directory another user owns: that user can swap it
    for a link to anything; root would then chmod, write and prune there."""
    busy = spawn("watch_busy")
    precious = tmp_path / "precious"
    precious.mkdir(mode=0o755)
    os.chmod(precious, 0o755)
    (precious / "data.tar.gz").write_bytes(b"keep me")
    home = nobody_dir(tmp_path / "home")
    nobody_symlink(precious, home / "bundles")
    conf = tmp_path / "c.conf"
    conf.write_text(f"[global]\ninterval = 200ms\nbundle_dir = {home / 'bundles'}\nkeep_bundles = 1\n"
                    f"[service busy]\nmatch = pid:{busy.pid}\nthreads_above = 2\n")
    r = run_stacktop("watch", "-c", conf, "--once", "--foreground", timeout=60)
    assert r.returncode == 1, r.stderr
    assert f"{home} (above bundle_dir) is owned by uid {NOBODY.pw_uid}" in r.stderr, r.stderr
    assert os.stat(precious).st_mode & 0o777 == 0o755
    assert sorted(os.listdir(precious)) == ["data.tar.gz"]


def test_a_planted_mail_file_is_quarantined_not_sent(tmp_path, spawn, smtp):
    """A .mail file stacktop did not write names /etc/shadow as its bundle:
    it must never be mailed."""
    conf, bundles = write_config(tmp_path, f"[service idle]\nmatch = pid:{os.getpid()}\nrestart = alert\n",
                                 smtp_port=smtp.port)
    bundles.mkdir(mode=0o700)
    planted = bundles / "x.mail"
    planted.write_text("stacktop-pending-mail 1\nbundle: /etc/shadow\nattempts: 0\nnext: 0\n"
                       "subject: [stacktop] nothing to see\n\nhello\n")
    r = run_once(conf)
    assert smtp.wait_for(1, timeout=2) == [], "a planted file was mailed"
    assert not planted.exists() and (bundles / "x.mail.quarantined").exists()
    assert "x.mail in bundle_dir was not written by stacktop" in r.stderr, r.stderr


@pytest.fixture
def unique_busy():
    """watch_busy under a name of its own (other sessions on this host run
    watch_busy too), in a directory every user can read: (name, path)."""
    d = tempfile.mkdtemp(prefix="stacktop-uniq-")
    os.chmod(d, 0o755)
    name = f"wb{os.getpid() % 100000}x{len(os.listdir('/tmp')) % 1000}"[:15]
    path = os.path.join(d, name)
    shutil.copy(fixture_path("watch_busy"), path)
    os.chmod(path, 0o755)
    procs = []

    def _start(user=None):
        argv = [path]
        if user:
            pw = pwd.getpwnam(user)
            argv = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups", path]
        fp = FixtureProcess(argv)
        procs.append(fp)
        return fp

    yield name, _start
    for fp in procs:
        fp.kill()
    shutil.rmtree(d)


def test_another_users_process_cannot_trigger_a_root_service(tmp_path, unique_busy):
    """comm: matches root's processes unless `user` says otherwise: nobody's
    process of the same name neither triggers a bundle nor burns the cooldown."""
    name, start = unique_busy
    start(user="nobody")
    conf, bundles = write_config(tmp_path, f"[service web]\nmatch = comm:{name}\nthreads_above = 2\n")
    r = run_once(conf)
    assert bundles_in(bundles) == [], r.stderr
    assert f"[web] no process matches comm:{name} (user root)" in r.stderr
    # Asked for explicitly, any user's process matches, and --check-config says what that means.
    conf.write_text(conf.read_text().replace("threads_above = 2\n", "threads_above = 2\nuser = any\n"))
    r = run_stacktop("watch", "-c", conf, "--check-config")
    assert r.returncode == 0, r.stderr
    assert re.search(rf"warning: .*:\d+: \[service web\] match = comm:{name} with user = any: any local user can "
                     r"start a process that matches", r.stderr), r.stderr
    assert "# warning:" in r.stdout and "user = any" in r.stdout
    r = run_once(conf)
    assert len(bundles_in(bundles)) == 1


def test_top20_shows_other_users_processes_without_arguments(tmp_path, spawn):
    secret = f"--password=hunter2-{os.getpid()}"
    # Large enough to be in the top 20 even while other sessions run big processes.
    hog = spawn("memhog", 384, 0, secret, user="nobody")
    mine = spawn("memhog", 320, 0, "--mine")  # root's, like the service's processes
    conf, bundles = write_config(tmp_path, f"[service hog]\nmatch = pid:{mine.pid}\nres_above = 1MiB\n")
    run_once(conf)
    [bundle] = bundles_in(bundles)
    files = unpack(bundle.read_bytes())
    top = files["system/top20.txt"].decode()
    assert re.search(rf"^\s*{hog.pid}\s+nobody\s.*\[memhog\]$", top, re.M), top
    assert re.search(rf"^\s*{mine.pid}\s+root\s.*memhog 320 0 --mine$", top, re.M), top
    for name, data in files.items():
        assert secret.encode() not in data, name


def test_process_names_cannot_inject_bytes(tmp_path, spawn, smtp):
    """A process name and a command line with escape sequences and a newline:
    every text the watcher writes (summary.txt, summary.json, top20.txt, /proc
    copies, the mail, the log) carries them as visible escapes, never raw."""
    evil = spawn("evil_names", "\x1b]2;owned\x07\nFAKE LINE")
    conf, bundles = write_config(tmp_path, f"[service evil]\nmatch = pid:{evil.pid}\nthreads_above = 1\n",
                                 smtp_port=smtp.port)
    r = subprocess.run([STACKTOP_BIN, "watch", "-c", str(conf), "--once", "--foreground"], capture_output=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert b"\x1b" not in r.stderr and b"\x07" not in r.stderr and b"EVIL\nX" not in r.stderr, r.stderr
    [bundle] = bundles_in(bundles)
    files = unpack(bundle.read_bytes())
    for name in ["summary.txt", "summary.json", "system/top20.txt", f"proc-{evil.pid}/status",
                 f"proc-{evil.pid}/fds", f"proc-{evil.pid}/maps"]:
        assert b"\x1b" not in files[name] and b"\x07" not in files[name], name
    escaped = "\\x1b]2;owned\\x07"
    summary = files["summary.txt"].decode()
    assert escaped in summary and "\nFAKE LINE" not in summary, summary
    assert escaped in json.loads(files["summary.json"])["processes"][0]["command"]
    [(_, _, raw)] = smtp.wait_for(1, timeout=10)
    assert b"\x1b" not in raw and b"\x07" not in raw
    msg, _ = attachment_of(raw)
    body = body_of(msg)
    assert "\x1b" not in body and escaped in body and "\nFAKE LINE" not in body


def test_thread_names_in_stacks_txt_are_neutralised(tmp_path, spawn):
    evil = spawn("evil_names")
    conf, bundles = write_config(tmp_path, f"[service evil]\nmatch = pid:{evil.pid}\nthreads_above = 1\n")
    run_once(conf)
    [bundle] = bundles_in(bundles)
    stacks = unpack(bundle.read_bytes())[f"proc-{evil.pid}/stacks.txt"]
    assert b"\x1b" not in stacks and b"\x07" not in stacks
    assert b"\\x1b]0;pwn" in stacks


def run_measured(conf):
    """--once under wait4: the peak RSS of the watcher and every job it ran."""
    p = subprocess.Popen([STACKTOP_BIN, "watch", "-c", str(conf), "--once", "--foreground"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = b""
    try:
        err = p.stderr.read()
    finally:
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, err.decode("utf-8", "replace"), usage.ru_maxrss


def test_deep_stacks_of_many_threads_stay_within_the_dump_budget(tmp_path, spawn):
    """1,000 threads, each with ~480 KiB of live stack: copied whole, that is
    469 MiB in the watcher. With the default dump_memory (64 MiB) the stack
    copies are cut short instead, and the summary says so."""
    deep = spawn("deep_threads", 1000, 480, ready_timeout=120)
    with open(f"/proc/{deep.pid}/status") as f:
        stacks_kib = int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))
    conf, bundles = write_config(tmp_path, f"[service deep]\nmatch = pid:{deep.pid}\nthreads_above = 2\n")
    rc, err, peak_kib = run_measured(conf)
    assert rc == 0, err
    # Measured in the same run: the target's own stacks against the watcher tree's peak.
    print(f"deep stacks: target RSS {stacks_kib} KiB, watcher tree peak {peak_kib} KiB")
    assert peak_kib < stacks_kib / 2, (peak_kib, stacks_kib)
    [bundle] = bundles_in(bundles)
    files = unpack(bundle.read_bytes())
    assert "thread profile: total 1001" in files[f"proc-{deep.pid}/stacks.txt"].decode()
    assert "limited to dump_memory" in files["summary.txt"].decode()
