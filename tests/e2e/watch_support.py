"""Shared pieces of the `stacktop watch` end-to-end tests: a real SMTP server
on loopback (Debian's python3-aiosmtpd, a hard requirement: a missing module
is an error, not a skip) whose handlers can refuse recipients, refuse or
stall DATA; a watcher process whose log lines are read as they come, so tests
wait for conditions with deadlines instead of sleeping; config and bundle
helpers."""
import asyncio
import email
import email.policy
import io
import os
import re
import signal
import socket
import subprocess
import tarfile
import threading
import time

from aiosmtpd.controller import Controller  # python3-aiosmtpd: listed in DEB_TEST

from conftest import STACKTOP_BIN, run_stacktop


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=60, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class SmtpSink:
    """A real SMTP server on 127.0.0.1 that keeps every message it accepts.

    login:         (user, password) that must authenticate first
    reject_rcpt:   addresses refused at RCPT TO with 550
    data_reply:    the reply to DATA instead of "250 OK" (e.g. "554 5.7.1 no")
    stall:         DATA is received, then not answered until release()
    stall_seconds: DATA is answered only after this many seconds
    Every transaction is recorded in `events` as (monotonic time, what, detail)."""

    def __init__(self, port=None, login=None, reject_rcpt=(), data_reply=None, stall=False, stall_seconds=0):
        self.port = port or free_port()
        self.messages = []
        self.logins = []
        self.events = []
        self.lock = threading.Lock()
        self.controller = None
        self.login = login
        self.reject_rcpt = set(reject_rcpt)
        self.data_reply = data_reply
        self.stall = stall
        self.stall_seconds = stall_seconds
        self.stalled = threading.Event()  # a DATA handler is holding a message
        self._release = None

    def _event(self, what, detail=""):
        with self.lock:
            self.events.append((time.monotonic(), what, detail))

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword
        ok = isinstance(auth_data, LoginPassword) and \
            (auth_data.login.decode(), auth_data.password.decode()) == self.login
        with self.lock:
            self.logins.append((mechanism, ok))
        return AuthResult(success=ok)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self._event("mail", address)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.reject_rcpt:
            self._event("rcpt-refused", address)
            return "550 5.1.1 <%s>: no such mailbox here" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self._event("data", ",".join(envelope.rcpt_tos))
        if self.stall:
            self.stalled.set()
            await self._release.wait()
        if self.stall_seconds:
            await asyncio.sleep(self.stall_seconds)
        if self.data_reply:
            self._event("data-refused", self.data_reply)
            return self.data_reply
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        self._event("accepted", ",".join(envelope.rcpt_tos))
        return "250 OK"

    def start(self):
        kwargs = {}
        if self.login:
            kwargs = dict(authenticator=self._authenticate, auth_required=True, auth_require_tls=False)
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()
        self._release = asyncio.Event()
        return self

    def release(self):
        """Lets stalled DATA handlers answer (from the test's thread)."""
        if self.controller and self._release:
            self.controller.loop.call_soon_threadsafe(self._release.set)

    def stop(self):
        if self.controller:
            self.release()
            self.controller.stop()
            self.controller = None

    def wait_for(self, count, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        with self.lock:
            return list(self.messages)

    def times(self, what):
        with self.lock:
            return [t for t, w, _ in self.events if w == what]


class WatchProcess:
    """`stacktop watch -c CONF --foreground ARGS`, its stderr read line by line
    as it comes (bytes kept as they are, to check that nothing raw leaks)."""

    def __init__(self, conf, *args):
        self.proc = subprocess.Popen([STACKTOP_BIN, "watch", "-c", str(conf), "--foreground", *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.pid = self.proc.pid
        self.raw = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in iter(self.proc.stderr.readline, b""):
            with self.lock:
                self.raw.append(line)

    @property
    def log(self):
        with self.lock:
            return b"".join(self.raw).decode("utf-8", "replace")

    def wait_for(self, pattern, timeout=60, count=1):
        """Waits until `pattern` (a regex) occurs `count` times in the log."""
        rx = re.compile(pattern)
        ok = wait_until(lambda: len(rx.findall(self.log)) >= count or self.proc.poll() is not None, timeout)
        found = rx.findall(self.log)
        assert ok and len(found) >= count, f"no {count}x /{pattern}/ within {timeout}s; log:\n{self.log}"
        return found

    def count(self, pattern):
        return len(re.findall(pattern, self.log))

    def children(self):
        """Pids of the watcher's children (its background jobs) right now."""
        try:
            with open(f"/proc/{self.pid}/task/{self.pid}/children") as f:
                return [int(p) for p in f.read().split()]
        except FileNotFoundError:
            return []

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Signals the watcher and waits for it; returns (exit status, log)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return self.proc.returncode, self.log

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.reader.join(timeout=10)


def write_config(tmp_path, body, smtp_port=None, mail=True, extra_global="", name="stacktop.conf"):
    bundles = tmp_path / "bundles"
    mail_lines = ""
    if mail and smtp_port:
        mail_lines = (f"mail_to = ops@example.com, dev@example.com\n"
                      f"mail_from = stacktop@test.example.com\n"
                      f"smtp_url = smtp://127.0.0.1:{smtp_port}\n")
    text = (f"[global]\ninterval = 200ms\nbundle_dir = {bundles}\nhostname = testhost\n"
            f"{mail_lines}{extra_global}\n{body}")
    conf = tmp_path / name
    conf.write_text(text)
    return conf, bundles


def run_once(conf, timeout=120, expect=0):
    r = run_stacktop("watch", "-c", conf, "--once", "--foreground", timeout=timeout)
    assert r.returncode == expect, r.stderr
    return r


def bundles_in(directory):
    if not directory.exists():
        return []
    return sorted(p for p in directory.iterdir() if p.name.endswith(".tar.gz"))


def unpack(data):
    """{path below the top directory: bytes} of a bundle."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for m in tar.getmembers():
            assert m.isfile(), m.name
            top, _, rest = m.name.partition("/")
            out[rest] = tar.extractfile(m).read()
    return out


def attachment_of(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = list(msg.iter_attachments())
    return msg, parts


def body_of(msg):
    return msg.get_body(preferencelist=("plain",)).get_content()


def long_lines(raw):
    """Lines of a raw message longer than RFC 5322's 998 characters."""
    return [line for line in raw.split(b"\r\n") if len(line) > 998]
