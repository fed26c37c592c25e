"""The fast start: the early parser reads a `run` command line as click does, and an early program is
adopted once or ended, never left behind."""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import click
import pexpect
import pytest
from click.testing import CliRunner

from claude_tui import cli, launch
from claude_tui.claude_code import config_dir, tracked_env
from claude_tui.commands import run as run_module
from claude_tui.lifecycle import endpoint
from claude_tui.lifecycle.hooks import tracked_argv
from claude_tui.shell_integration import shell_env
from claude_tui.terminal.pty_session import find_program


def test_option_tables_match_the_run_command() -> None:
    """A new option on `run` must be taught to the early parser (else it refuses such lines: safe, slow)."""
    flags: set[str] = set()
    values: set[str] = set()
    for param in run_module.run.params:
        if isinstance(param, click.Option) and "--help" not in param.opts:
            if set(param.opts) <= launch.LATE_OPTIONS:
                continue
            (flags if param.is_flag else values).update(param.opts)
    assert (flags, values) == (set(launch.FLAG_OPTIONS), set(launch.VALUE_OPTIONS))
    assert launch.parse_run_line(["--worktree", "x", "hi"]) is None  # left to click: nothing spawned early


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], ("claude", None, None, [])),
        (["fix the bug"], ("claude", None, "fix the bug", [])),
        (["run", "hi"], ("claude", None, "hi", [])),
        (["--tag", "a=b", "hi", "--no-track"], ("claude", None, "hi", [])),
        (["--command=bash", "-C", "/tmp"], ("bash", "/tmp", None, [])),
        (
            ["--cwd", "/srv", "p", "--", "--model", "x", "--", "y"],
            ("claude", "/srv", "p", ["--model", "x", "--", "y"]),
        ),
        (["--", "p"], ("claude", None, None, ["p"])),
    ],
)
def test_parse_run_line_reads_the_common_forms(args: list[str], expected: tuple[Any, ...]) -> None:
    line = launch.parse_run_line(args)
    assert line is not None
    assert (line.command, line.cwd, line.prompt, line.claude_args) == expected


@pytest.mark.parametrize(
    "args",
    [
        ["history"],
        ["demo"],
        ["--help"],
        ["-h"],
        ["--version"],
        ["--unknown"],
        ["-C"],
        ["--tag"],
        ["one", "two"],
        ["--command", ""],
        ["run", "--help"],
    ],
)
def test_parse_run_line_leaves_everything_else_to_click(args: list[str]) -> None:
    assert launch.parse_run_line(args) is None


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["fix the bug", "--tag", "team=core"],
        ["--command", "sh", "--", "-c", "echo hi"],
        ["--command", "bash"],  # shell integration: --rcfile in the argv
        ["--command", "zsh"],  # shell integration: ZDOTDIR in the environment
        ["--issue", "123", "close issue #123", "--", "--allowedTools", "Bash", "Read"],
        ["run", "--no-redact", "--experiment", "e", "--", "--", "literal"],
        ["--", "--resume", "8a3b6050-81d9-5788-bfbd-9ddfda71be5f"],
        ["go on", "--", "-c", "--model", "sonnet"],
        ["--", "--resume", "8a3b6050-81d9-5788-bfbd-9ddfda71be5f", "--fork-session"],
        ["--", "--settings", '{"model": "opus", "hooks": {"Stop": []}}', "--session-id", "x-given"],
    ],
)
def test_early_argv_is_the_argv_click_builds(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The owner keeps the early program (`OwnerServer._claim`) only when both argvs (and the environments
    claude-tui adds) agree: they must, for every form."""
    claude = tmp_path / "bin" / "claude"
    claude.parent.mkdir()
    claude.write_text("#!/bin/sh\n")
    claude.chmod(0o755)
    monkeypatch.setenv("PATH", f"{claude.parent}{os.pathsep}{os.environ['PATH']}")
    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        run_module, "run_session", lambda config, **_: seen.setdefault("config", config) and 0
    )
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 0, result.output
    config = seen["config"]
    line = launch.parse_run_line(args)
    assert line is not None
    program = find_program(line.command)
    assert program is not None
    # What `launch.prespawn` builds, with the session id and the hook secret it would hand over.
    routes = endpoint.shared().session(config.hook_secret)
    early = tracked_argv(
        program,
        command=line.command,
        session_id=config.session_id,
        args=line.claude_args,
        prompt=line.prompt,
        cwd=os.path.realpath(line.cwd or os.getcwd()),
        config_dir=str(config_dir()),
        hook_url=routes.url() if line.command == "claude" else None,
    )
    assert early == config.argv()
    args_and_prompt = [*line.claude_args, *([line.prompt] if line.prompt else [])]
    assert shell_env(line.command, args_and_prompt) == config.env
    assert os.path.realpath(line.cwd or os.getcwd()) == str(config.cwd)
    # And its environment (Claude's telemetry export to the session's route; a shell's OSC 133 rc), which
    # the owner compares.
    early_env = (
        tracked_env(
            {},
            routes.url(endpoint.OTLP_ROUTE),
            config=config_dir(),
            cwd=str(config.cwd),
            args=line.claude_args,
        )[0]
        if line.command == "claude"
        else shell_env(line.command, args_and_prompt)
    )
    assert early_env == config.program_env()[0]


def test_new_session_id_is_a_random_uuid4() -> None:
    ids = {launch.new_session_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(uuid.UUID(i).version == 4 and str(uuid.UUID(i)) == i for i in ids)


def pid_script(tmp_path: Path) -> tuple[Path, Path]:
    """A program that notes its pid in a file each time it starts, then waits, deaf to the terminal's hangup
    (as a program may be), so only an explicit end stops it."""
    pids = tmp_path / "pids"
    script = tmp_path / "note-pid.sh"
    script.write_text(f'#!/bin/sh\ntrap "" HUP\necho $$ >> "{pids}"\necho ready\nexec sleep 60\n')
    script.chmod(0o755)
    return script, pids


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return (
        Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split(")")[1][:3]
    )


def wait_for_file(path: Path, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"{path} was not written")


def window(tmp_path: Path, script: Path, *args: str) -> pexpect.spawn:
    """A window: `claude-tui --no-track --command SCRIPT [ARGS...]` in a 120x30 terminal."""
    return pexpect.spawn(
        sys.executable, ["-m", "claude_tui", "--no-track", "--command", str(script), *args],
        cwd=str(tmp_path), dimensions=(30, 120), timeout=30,
    )  # fmt: skip


def test_the_early_program_is_the_one_in_the_pane(tmp_path: Path, owner_processes: Any) -> None:
    """The program the session owner started for `launch` is the one the window shows and ctrl+q ends (the
    window asks: End all)."""
    script, pids = pid_script(tmp_path)
    child = window(tmp_path, script)
    try:
        child.expect("ready")  # drawn by the pane: the app adopted the program
        [pid] = pids.read_text().split()
        child.sendcontrol("q")
        child.expect("End all")  # the question: detach (the default) or end them all
        child.send("e")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert pids.read_text().split() == [pid]  # spawned once, not again by `commands.run`
    assert not alive(int(pid))


def test_a_second_window_has_the_running_owner_start_its_program_once(
    tmp_path: Path, owner_processes: Any
) -> None:
    """With this version's owner running, `launch` sends it the spawn request (no second owner); the window
    claims that program with its whole config, so it is spawned once."""
    script, pids = pid_script(tmp_path)
    first = window(tmp_path, script)
    second = None
    try:
        first.expect("ready")
        [owner] = owner_processes()
        second = window(tmp_path, script, "--", "two")
        second.expect("ready")
        assert owner_processes() == [owner]
        assert len(pids.read_text().split()) == 2  # one program per window, none spawned twice
    finally:
        first.close(force=True)
        if second is not None:
            second.close(force=True)


def test_a_refused_command_line_ends_the_early_program(tmp_path: Path, owner_processes: Any) -> None:
    script, pids = pid_script(tmp_path)
    child = pexpect.spawn(
        sys.executable, ["-m", "claude_tui", "--command", str(script), "--tag", "novalue"],
        cwd=str(tmp_path), dimensions=(30, 120), timeout=30,
    )  # fmt: skip
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "KEY=VALUE" in (child.before or b"").decode()
    pid = int(wait_for_file(pids).split()[0])  # it did start early ...
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid)  # ... and did not outlive claude-tui


def test_a_window_killed_while_the_owner_relays_its_start_leaves_the_session_running(
    tmp_path: Path, owner_processes: Any
) -> None:
    """The forked owner serves the window with its early relay until the program has drawn a first frame
    (`owner.relay`); this program draws 6 bytes, so the window is killed while the relay serves it. The
    owner's server takes over, configures the session the window sent, and runs it on."""
    import signal

    from claude_tui.owner.client import OwnerClient

    script, pids = pid_script(tmp_path)
    child = window(tmp_path, script)
    try:
        child.expect("ready")
        [pid] = pids.read_text().split()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.close(force=True)

    def listed() -> list[dict[str, Any]]:
        with OwnerClient.connect() as client:
            return client.list_sessions()

    [session] = listed()
    assert session["pid"] == int(pid) and session["exit_code"] is None and session["clients"] == 0
    time.sleep(1)
    assert alive(int(pid)) and [s["id"] for s in listed()] == [session["id"]]
