"""`make install` into a staging directory, as a packager runs it: the
binary (built without test hooks), man pages, themes, the systemd unit
pointing at the installed binary and config, and the example configuration,
which the installed binary accepts. Built in a build directory of its own at
-O0 (the objects of the other tests are not touched)."""
import os
import subprocess

from conftest import ROOT


def test_make_install_stages_everything(tmp_path):
    stage, build = tmp_path / "stage", tmp_path / "build"
    r = subprocess.run(["make", "-C", ROOT, "-j2", "--no-print-directory", "install", f"BUILD={build}", "OPT=-O0",
                        f"DESTDIR={stage}", "PREFIX=/usr", "SYSCONFDIR=/etc"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    binary = stage / "usr/bin/stacktop"
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
    assert "test build" not in version
    assert (stage / "usr/share/man/man1/stacktop.1").exists()
    assert (stage / "usr/share/man/man5/stacktop.conf.5").exists()
    assert sorted(os.listdir(stage / "usr/share/stacktop/themes")) == sorted(os.listdir(os.path.join(ROOT, "themes")))
    unit = (stage / "usr/lib/systemd/system/stacktop-watch.service").read_text()
    assert "ExecStart=/usr/bin/stacktop watch -c /etc/stacktop/stacktop.conf\n" in unit
    assert "/usr/local" not in unit
    example = stage / "etc/stacktop/stacktop.conf.example"
    assert oct(example.stat().st_mode & 0o777) == "0o600"
    assert oct((stage / "etc/stacktop").stat().st_mode & 0o777) == "0o700"
    check = subprocess.run([binary, "watch", "-c", example, "--check-config"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_missing_library_is_named_before_compiling():
    env = dict(os.environ, PKG_CONFIG_LIBDIR="/nonexistent", PKG_CONFIG_PATH="")
    r = subprocess.run(["make", "-C", ROOT, "--no-print-directory", "pkgcheck"], capture_output=True, text=True,
                       env=env, timeout=60)
    assert r.returncode != 0
    assert "Package libproc2 was not found" in r.stderr
    assert "make deps" in r.stderr and "libproc2-dev" in r.stderr
