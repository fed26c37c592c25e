"""Issue 18 as a new user meets it: a fresh clone, a shell whose PATH has only what the README says, tmux at
80x24. `make demo` (read the hint, type it, see the session logged), then the README's "After the demo"
commands: `make install`, `claude-tui history`, and `claude-tui` finding the pinned CLI with nothing added to
PATH.

The clone gets the shared `.claude-cli/` (a link, as the worktrees have) and a venv whose package is the
clone's own editable install; its dependencies come from this venv through a `.pth` line, so the test costs
seconds of set-up instead of minutes of pip. Make's stamps then say set-up is done, as after a real `make`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from claude_tui.claude_code import pinned_cli
from claude_tui.scenarios import scenario_prompts
from tests.helpers import wait_until
from tests.support.tmux import Tmux

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def fresh_clone(dest: Path) -> Path:
    """The project's files as a clone has them (tracked, plus new files not ignored), set up as by `make`."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            target.chmod(source.stat().st_mode & 0o777)
    cli = pinned_cli()
    assert cli is not None, "make setup installs the pinned CLI"
    (dest / ".claude-cli").symlink_to(Path(cli).parents[2])
    venv = dest / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # What `pip install -e .` leaves (pip itself would need the network for its build backend): the package
    # from the clone's tree, the dependencies from this venv, and the entry point script.
    purelib = Path(sysconfig.get_paths()["purelib"])
    (next(venv.glob("lib/python3*/site-packages")) / "claude_tui_editable.pth").write_text(
        f"{dest}\n{purelib}\n"
    )
    script = venv / "bin" / "claude-tui"
    script.write_text(
        f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom claude_tui.launch import main\n"
        "if __name__ == '__main__':\n    sys.exit(main())\n"
    )
    script.chmod(0o755)
    for stamp in (".sysdeps", ".installed"):
        (venv / stamp).touch()
    return dest


def test_demo_then_the_readme_commands_from_a_fresh_clone_at_80x24(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    after = re.search(r"### After the demo\n\n```sh\n(.*?)```", readme, re.S)
    assert after is not None, "README has an 'After the demo' block"
    commands = [line.split("#")[0].strip() for line in after.group(1).splitlines()]
    assert commands == ["make install", "claude-tui history", "claude-tui"]

    clone = fresh_clone(tmp_path / "claude-tui")
    home = tmp_path / "home"
    home.mkdir()
    # What the README asks of the machine, and ~/.local/bin, which `make install` fills and Debian's .profile
    # puts on PATH. No .claude-cli/, no venv on PATH.
    env = {
        "HOME": str(home),
        "PATH": f"{home}/.local/bin:/usr/bin:/bin",
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
    }
    tmux = Tmux(tmp_path, env, cols=80, rows=24)
    try:
        tmux.type(f"cd {clone}")
        tmux.type("make demo")
        tmux.wait_for(r"Next, type:", 120)
        tmux.wait_for(r"✻ \w+ for \d+s", 120)  # the first turn ended: the prompt box takes input again
        follow_up = scenario_prompts("realistic")[1]
        assert follow_up in tmux.screen().replace("\n", " ") or follow_up[:40] in tmux.screen()
        tmux.type(follow_up)
        tmux.wait_for(r"Now type /exit", 120)  # the hint moved on, still on screen at 80x24
        tmux.type("/exit")
        # The reviewer sub-agent may still run in the background: Claude asks first, and Enter (its default,
        # "Exit and stop tasks") is what a user presses.
        ended = r"Logging session ([0-9a-f]{8}) |Background work is running"
        seen = tmux.wait_for(ended, 120, scrollback=True)
        if seen.group(1) is None:
            tmux.key("Enter")
        # claude-tui is gone at once; a logger process logs the session, then removes its spool.
        logged = tmux.wait_for(r"Logging session ([0-9a-f]{8}) ", 180, scrollback=True)
        spool = home / ".local" / "share" / "claude-tui" / "spool"
        wait_until(lambda: spool.is_dir() and not any(spool.iterdir()), 180, "the logger process")
        # Before `make install` the message names a command that works in this shell: the full path.
        message = re.sub(r"\s+", "", tmux.history())
        assert f"`{clone}/.venv/bin/claude-tui" + "history`" in message
        tmux.type("make install")
        tmux.wait_for(r"claude-tui is on your PATH", 30)
        assert os.path.islink(home / ".local/bin" / "claude-tui")
        tmux.type("clear; claude-tui history")
        tmux.wait_for(r"1 session\b", 90)
        tmux.wait_for(re.escape(scenario_prompts("realistic")[0][:12]), 10)
        tmux.key("C-q")
        tmux.wait_for(r"(?m)^bash-[\d.]+[#$]\s*$", 20)  # back at an empty shell prompt
        # `claude-tui` with PATH as above finds the CLI in .claude-cli/ (it used to say it cannot find it).
        tmux.type("clear; claude-tui --no-track -- --version")
        tmux.wait_for(r"Session ended \(exit status 0\)", 60)
        assert "cannot find the Claude Code CLI" not in tmux.history()
        assert logged.group(1)
    finally:
        tmux.close()
