"""Command-line handling of the monitor/batch entry point: every kind of bad
input gives exactly one clear line on stderr and exit status 2; --help and
--version exit 0."""
import pytest

BAD = [
    # (arguments, text the one stderr line must contain)
    (["-x"], "unknown option '-x'"),
    (["--no-such-option"], "unknown option '--no-such-option'"),
    (["stray-argument"], "unexpected argument 'stray-argument'"),
    (["-p", "12,abc"], "invalid pid 'abc'"),
    (["-p", "1,,2"], "invalid pid ''"),
    (["-p", "0"], "invalid pid '0'"),
    (["-p", "-4"], "invalid pid '-4'"),
    (["-p"], "'-p' needs a value"),
    (["-s", "bogus"], "unknown column 'bogus' for -s: expected one of pid, ppid, user, state, nice, threads, cpu, "
                      "processor, mem, virt, res, shr, data, rgrow, goroutines, ggrow, ioread, iowrite, fds, start, "
                      "time, wchan, command"),
    (["--sort=nope"], "unknown column 'nope'"),
    (["-d", "0"], "invalid delay '0'"),
    (["-d", "-1"], "invalid delay '-1'"),
    (["-d", "fast"], "invalid delay 'fast'"),
    (["--delay", "1e9"], "invalid delay '1e9'"),
    (["-d"], "'-d' needs a value"),
    (["-b", "-n", "0"], "invalid count '0' for -n"),
    (["-b", "-n", "many"], "invalid count 'many'"),
    (["-b", "--iterations", "-3"], "invalid count '-3'"),
    (["-b", "--format", "xml"], "unknown format 'xml' for --format: expected text or json"),
    (["-b", "--format"], "'--format' needs a value"),
    (["-u", "no_such_user_xyz"], "unknown user 'no_such_user_xyz'"),
    (["--user", ""], "unknown user ''"),
    (["--theme", ""], "invalid theme name ''"),
    (["--threads=1"], "option '--threads' takes no value"),
    (["--t"], "ambiguous option '--t'"),
    (["-b", "-n", "2", "-d", "0.1", "--format", "json", "extra"], "unexpected argument 'extra'"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_one_line_exit_2(stacktop, args, message):
    res = stacktop(*args)
    assert res.returncode == 2
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("stacktop: ")
    assert message in lines[0]


def test_help(stacktop):
    for flag in ("--help", "-h"):
        res = stacktop(flag)
        assert res.returncode == 0
        assert res.stderr == ""
        assert res.stdout.startswith("Usage: stacktop")
        for option in ("--delay", "--sort", "--pid", "--user", "--theme", "--batch", "--iterations",
                       "--threads", "--format", "--version"):
            assert option in res.stdout


def test_version(stacktop):
    res = stacktop("--version")
    assert res.returncode == 0
    assert res.stderr == ""
    assert res.stdout.startswith("stacktop ")
    assert res.stdout.split()[1][0].isdigit()


def test_good_options_accepted(stacktop):
    res = stacktop("-b", "-n", "1", "-d", "0.1", "-s", "CPU%", "-u", "0", "--theme", "light",
                   "--pid=1", "--format=text")
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert "PID USER" in res.stdout
