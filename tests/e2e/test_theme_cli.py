"""Themes from the command line and the rc file: a missing or malformed
--theme is a usage error (one clear stderr line, exit 2, before curses
starts); a malformed theme named in the rc file only warns and falls back to
the default; NO_COLOR gives a monochrome screen."""
import os
import re
import shutil
import tempfile

import pytest

from conftest import STACKTOP_BIN, run_stacktop
from tui_session import TuiSession


@pytest.fixture
def xdg(tmp_path):
    path = tmp_path / "config"
    (path / "stacktop" / "themes").mkdir(parents=True)
    return path


def run_with_theme(xdg, *args):
    env = {"XDG_CONFIG_HOME": str(xdg), "PATH": "/usr/bin:/bin", "TERM": "xterm"}
    return run_stacktop(*args, env=env, timeout=30)


def assert_usage_error(result, *fragments):
    assert result.returncode == 2, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("stacktop: ")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    # Curses never started: no escape sequences reached the terminal.
    assert "\x1b" not in result.stderr + result.stdout


def test_missing_theme(xdg):
    r = run_with_theme(xdg, "--theme", "nosuch")
    assert_usage_error(r, "theme 'nosuch' not found", "nosuch.theme", str(xdg / "stacktop" / "themes"))


BAD_THEMES = [
    ("theme[main_fg]=\"#zz0000\"\n", 1, "bad colour '#zz0000' for main_fg"),
    ("# fine\n\ntheme[no_such_role]=\"#000000\"\n", 3, "unknown key 'no_such_role'"),
    ("theme[main_fg]\n", 1, "expected theme[key]=\"#RRGGBB\""),
    ("theme[main_fg]=\"#000000\n", 1, "unterminated string"),
    ("theme[main_fg]=\"#000000\" trailing\n", 1, "unexpected text after the value"),
    ("theme[main_fg]=\"#12345\"\n", 1, "bad colour '#12345'"),
    ("main_fg = #000000\n", 1, "expected theme[key]"),
]


@pytest.mark.parametrize("text,line,problem", BAD_THEMES)
def test_malformed_theme_by_name(xdg, text, line, problem):
    path = xdg / "stacktop" / "themes" / "broken.theme"
    path.write_text(text)
    r = run_with_theme(xdg, "--theme", "broken")
    assert_usage_error(r, f"{path}:{line}: {problem}")


def test_malformed_theme_by_path(xdg):
    # --theme takes at most 63 characters: a short directory under /tmp.
    directory = tempfile.mkdtemp(prefix="st-", dir="/tmp")
    path = os.path.join(directory, "mine.theme")
    try:
        with open(path, "w") as f:
            f.write("theme[title]=\"#0000ff\"\ntheme[title]=blue\n")
        r = run_with_theme(xdg, "--theme", path)
        assert_usage_error(r, f"{path}:2: bad colour 'blue' for title")
    finally:
        shutil.rmtree(directory)


def test_theme_that_is_a_directory(xdg):
    (xdg / "stacktop" / "themes" / "dir.theme").mkdir()
    r = run_with_theme(xdg, "--theme", "dir")
    assert_usage_error(r, "cannot read theme file", "dir.theme")


@pytest.mark.parametrize("name", ["a b", "-x", "x;rm"])
def test_bad_theme_name(xdg, name):
    r = run_with_theme(xdg, f"--theme={name}")
    assert r.returncode == 2
    assert len(r.stderr.splitlines()) == 1
    assert "theme" in r.stderr


@pytest.fixture
def shell(xdg, tmp_path):
    """An interactive bash in tmux, to see what stacktop leaves on the terminal."""
    sessions = []

    def start(env=None):
        environment = {"XDG_CONFIG_HOME": str(xdg), "PS1": "$ ", "LANG": "C.UTF-8"}
        environment.update(env or {})
        s = TuiSession(["bash", "--norc", "--noprofile", "-i"], env=environment, cwd=tmp_path)
        sessions.append(s)
        s.wait_for("$")
        return s

    yield start
    for s in sessions:
        s.close()


def wait_exit(s):
    """The screen once the shell printed 'exit=N' (not just echoed the command)."""
    return s.wait_for(lambda text: re.search(r"^exit=\d+", text, re.M), what="exit=N")


def run_in_shell(s, command):
    s.type(command)
    s.keys("Enter")


def test_bad_theme_in_rc_file_falls_back(shell, xdg):
    theme = xdg / "stacktop" / "themes" / "ugly.theme"
    theme.write_text("theme[main_fg]=\"#ffffff\"\ntheme[header_bg]=\"pink\"\n")
    (xdg / "stacktop" / "stacktoprc").write_text("theme=ugly\n")
    s = shell()
    run_in_shell(s, f"{STACKTOP_BIN} -d 0.5; echo exit=$?")
    screen = s.wait_for("PID USER")
    assert f"{theme}:2: bad colour 'pink' for header_bg" in screen or "using the default theme" in screen
    s.keys("q")
    screen = wait_exit(s)
    assert "exit=0" in screen
    # After curses ended, the warning is on the terminal as one line.
    assert re.search(rf"stacktop: .*{re.escape(str(theme))}:2: bad colour 'pink'.*using the default theme", screen)


@pytest.mark.parametrize("name", ["default", "light", "high-contrast"])
def test_shipped_themes_start(shell, name):
    s = shell()
    run_in_shell(s, f"{STACKTOP_BIN} -d 0.5 --theme {name}; echo exit=$?")
    s.wait_for("PID USER")
    attributes = s.screen_with_attributes()
    assert re.search(r"\x1b\[[0-9;]*(3[0-7]|38;)", attributes), "no colours on screen"
    s.keys("q")
    assert "exit=0" in wait_exit(s)


def test_no_color_is_monochrome(shell):
    s = shell({"NO_COLOR": "1"})
    run_in_shell(s, f"{STACKTOP_BIN} -d 0.5")
    s.wait_for("PID USER")
    attributes = s.screen_with_attributes()
    assert not re.search(r"\x1b\[[0-9;]*(3[0-7]|38;|4[0-7]|48;)[0-9;]*m", attributes), "colours despite NO_COLOR"
    assert re.search(r"\x1b\[[0-9;]*7[0-9;]*m", attributes), "the header/selection should be reverse video"
    s.keys("q")
