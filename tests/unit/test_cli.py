"""The command line: help, argument splitting, and clear errors (run in-process with click's runner)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from claude_tui import cli
from claude_tui.commands import run as run_module
from tests.helpers import wait_until


def run_and_list_loaded(code: str, modules: tuple[str, ...]) -> tuple[str, list[str]]:
    """Run `code` in a fresh interpreter: what it printed, and which of `modules` it had imported."""
    probe = f"\nimport sys; print('LOADED', [m for m in {modules!r} if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", code + probe], capture_output=True, text=True, check=True
    ).stdout
    printed, _, loaded = out.rpartition("LOADED ")
    return printed, ast.literal_eval(loaded.strip())


def test_help_lists_every_command() -> None:
    """Without importing them: the help reads the table (the `cli-lazy` import contract keeps the command line
    free of Textual and pyte; `LazyGroup` imports a command's module only when it runs)."""
    out = CliRunner().invoke(cli.main, ["--help"]).output
    for name, (_, help_text) in cli.SUBCOMMANDS.items():
        assert name in out and help_text[:30] in out


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replace the app launch with a recorder of the SessionConfig it would run."""
    seen: dict[str, Any] = {}

    def fake_run_session(config: Any, **kwargs: Any) -> int:
        seen["config"] = config
        return 0

    monkeypatch.setattr(run_module, "run_session", fake_run_session)
    return seen


@pytest.mark.parametrize(
    ("argv", "prompt", "claude_args"),
    [
        (["fix the bug"], "fix the bug", []),
        (["run", "fix the bug"], "fix the bug", []),
        (["fix it", "--", "--model", "opus"], "fix it", ["--model", "opus"]),
        (["--", "--model", "opus"], None, ["--model", "opus"]),
        ([], None, []),
    ],
)
def test_prompt_and_claude_args(
    captured: dict[str, Any], argv: list[str], prompt: str | None, claude_args: list[str]
) -> None:
    result = CliRunner().invoke(cli.main, argv)
    assert result.exit_code == 0, result.output
    config = captured["config"]
    assert config.prompt == prompt
    assert config.claude_args == claude_args


def test_options_reach_the_session_config(captured: dict[str, Any], tmp_path: Path) -> None:
    argv = [
        "--command", "bash", "-C", str(tmp_path), "--tag", "team=core", "--tag", "kind=a=b",
        "--issue", "123", "--procedure", "close-issue", "--experiment", "exp", "--tracking-uri", "sqlite:///x.db",
        "--alert", "errors>=3", "--no-redact", "hello",
    ]  # fmt: skip
    result = CliRunner().invoke(cli.main, argv)
    assert result.exit_code == 0, result.output
    config = captured["config"]
    assert config.command == "bash" and config.cwd == tmp_path.resolve()
    assert config.tags == {"team": "core", "kind": "a=b"}
    assert (config.issue_number, config.procedure_name) == ("123", "close-issue")
    assert (config.experiment, config.tracking_uri) == ("exp", "sqlite:///x.db")
    assert [str(a) for a in config.alerts] == ["errors>=3"]
    assert config.redact is False and config.track is True and config.prompt == "hello"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tag", "novalue"], "KEY=VALUE"),
        (["--alert", "errors>>3"], "cannot read alert"),
        (["-C", "/no/such/dir"], "Directory '/no/such/dir' does not exist"),  # not "cannot find claude"
    ],
)
def test_bad_options_exit_2(captured: dict[str, Any], argv: list[str], message: str) -> None:
    result = CliRunner().invoke(cli.main, argv)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_program_exits_2_with_install_hint(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.main, ["--command", str(tmp_path / "claude"), "hi"])
    assert result.exit_code == 2
    assert "npm install -g @anthropic-ai/claude-code" in result.output
    assert "--command" in result.output


def test_missing_other_program_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.main, ["--command", "no-such-program-xyz"])
    assert result.exit_code == 2
    assert "no-such-program-xyz" in result.output


@pytest.mark.parametrize(
    ("tag", "line"),
    [
        ("=value", "claude-tui: --tag: '=value' is not KEY=VALUE"),
        ("novalue", "claude-tui: --tag: 'novalue' is not KEY=VALUE"),
        (
            "x" * 251 + "=v",
            f"claude-tui: --tag: the key '{'x' * 37}...' is 251 characters long; MLflow allows 250",
        ),
    ],
)
def test_parse_tags_refuses_in_one_line(tag: str, line: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        run_module.parse_tags((tag,))
    assert exit_.value.code == 2
    assert capsys.readouterr().err == line + "\n"


SPAWN_PATH = (
    "import claude_tui.launch, claude_tui.cli, claude_tui.commands.run, claude_tui.terminal.pty_session"
)
"""What `run_session` has imported when it spawns the program."""
NOT_BY_THE_SPAWN = (
    "textual",
    "pyte",
    "claude_tui.terminal.emulator",
    "claude_tui.tracking.spool",
    "click.testing",
)
NOT_BY_THE_FIRST_FRAME = (
    "mlflow",
    "pyte",  # the emulator loads its two tables alone (`pyte.screens` imports all of wcwidth)
    "wcwidth",  # and wcwidth's C function alone (the package imports every module it has)
    "tomllib",  # no settings file: no parser
    "claude_tui.parsing",  # a session builds its parsers at its first poll, about a second in
    "textual.widgets._sparkline",
    "textual.widgets._tabbed_content",
    "claude_tui.screens.logging",
    "claude_tui.widgets.history",
    "genai_prices",  # the cost, at the first poll that sees usage
    "tree_sitter",  # the git-operation rule, at the first Bash command
    "urllib.request",  # only to ask a tracking server whether it answers (`run` checks a local store)
    "http.client",
    "textual.widgets._tabs",  # the tab bar and the footer come with the counters, and so do their modules
    "textual.widgets._footer",
    "claude_tui.widgets.footer",
    "claude_tui.screens.choice",  # the questions and the new-session dialog, when first asked
    "claude_tui.screens.new_session",
)
"""What the first frame does not show, or needs only later (docs/startup.md)."""


def by_spawn(path: str, not_loaded: tuple[str, ...]) -> str:
    """Code that runs the imports `path`, then notes in `by_spawn` which of `not_loaded` they loaded."""
    return f"import sys\n{path}\nby_spawn = [m for m in {not_loaded!r} if m in sys.modules]\n"


CLAUDE_SESSION = (
    "from pathlib import Path; from claude_tui.session import SessionConfig, TrackedSession\n"
    "c = TrackedSession(SessionConfig(command='claude', cwd=Path('/'), track=False), argv=['claude'])\n"
)
"""Code that builds a tracked Claude session as `c` (it receives its telemetry: `c.telemetry_mode`)."""


def test_first_frame_path_loads_only_what_the_first_frame_needs(tmp_path: Path) -> None:
    """The one run-time import check (the layer contracts in pyproject.toml say the rest statically): in a
    fresh interpreter, the spawn path, then the app and a session as at Claude's first frame: `run`'s check
    of a local store, a tracked Claude session that receives its telemetry, a program's session."""
    settings = str(tmp_path / "none.toml")
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    code = (
        f"{by_spawn(SPAWN_PATH, NOT_BY_THE_SPAWN)}"
        f"import os; os.environ['CLAUDE_TUI_CONFIG'] = {settings!r}\n"
        "from claude_tui.config import load_settings; load_settings()\n"
        f"from claude_tui.tracking.reach import store_problem; assert store_problem({store!r}) is None\n"
        f"{CLAUDE_SESSION}"
        "s = TrackedSession(SessionConfig(command='sh', cwd=Path('/'), track=False), argv=['sh'])\n"
        "import claude_tui.app\n"
        "print(by_spawn, c.telemetry_mode, s.title)"
    )
    out, loaded = run_and_list_loaded(code, (*NOT_BY_THE_FIRST_FRAME, "claude_tui.widgets.sidebar"))
    assert out.strip() == "[] cli sh"
    assert loaded == ["claude_tui.widgets.sidebar"]  # the probe itself works


OWNER_SPAWN_PATH = "import claude_tui.launch, claude_tui.owner.client"
"""What the forked session owner has imported when it spawns the program (`launch.early_in_owner`)."""
NOT_BY_THE_OWNER_SPAWN = (
    *NOT_BY_THE_SPAWN,
    "asyncio",
    "click",
    "claude_tui.session",
    "claude_tui.owner.server",
    "subprocess",  # only to start an owner in a new interpreter (`client._start_owner_process`)
    "uuid",  # imports `platform`; a session id needs only os.urandom (`claude_code.new_session_id`)
)
NOT_BY_THE_OWNER = (
    *NOT_BY_THE_FIRST_FRAME,
    "textual",
    "rich",
    "click",
    "uuid",
    "platform",
    "http.server",  # the hooks endpoint serves from the first poll on, about a second in
)
"""What the owner does not load to serve a window's first frame (the window loads what it shows)."""
NOT_BY_THE_WINDOW = (
    "claude_tui.owner.server",
    "claude_tui.owner.loggers",
    "claude_tui.tracking.recovery",
    "claude_tui.snapshot",  # the owner's counts, from its first poll (~1 s in)
)
"""What only the owner needs, or the window only seconds after Claude's first frame."""


def test_owner_start_path_loads_only_what_spawning_and_serving_need() -> None:
    """Since a window is the session owner's client, the owner spawns Claude and serves the window's claim
    while both processes start on the machine's cores: what one of them loads that it does not need is CPU
    taken from Claude's start (docs/startup.md)."""
    code = (
        f"{by_spawn(OWNER_SPAWN_PATH, NOT_BY_THE_OWNER_SPAWN)}import claude_tui.owner.server\n"
        f"{CLAUDE_SESSION}print(by_spawn, c.telemetry_mode)"
    )
    out, loaded = run_and_list_loaded(code, (*NOT_BY_THE_OWNER, "claude_tui.owner.server"))
    assert out.strip() == "[] cli"
    assert loaded == ["claude_tui.owner.server"]  # the probe itself works


NOT_BEFORE_CLAUDE_S_EXEC = (
    "typing",
    "socket",
    "selectors",
    "threading",
    "shutil",
    "signal",
    "ptyprocess",
    "pty",
)
"""What the chain from `claude-tui`'s start to Claude's exec does without (the entry point, the lock, the
owner's socket, the fork, the hooks' argv and port, the PTY): together ~20 ms of CPU, each one of them a ms
later on Claude's first frame (docs/startup.md)."""


def test_claude_is_exec_d_before_the_modules_its_spawn_does_not_need(tmp_path: Path) -> None:
    """The fork path of `launch` as it runs, up to the moment the forked owner has spawned Claude (a stand-in
    `claude`): the owner's fork replaced by a call in this process that spawns and notes what was loaded."""
    claude = tmp_path / "claude"
    claude.write_text("#!/bin/sh\nsleep 30\n")
    claude.chmod(0o755)
    code = (
        "import sys\n"
        "from claude_tui import launch\n"
        "from claude_tui.owner import client\n"
        "def forked(listener, path, spawn):\n"
        "    session_id, pty, env = spawn()\n"
        f"    print('AT EXEC', [m for m in {NOT_BEFORE_CLAUDE_S_EXEC!r} if m in sys.modules], pty.argv[0])\n"
        "    pty.terminate(grace=0.5)\n"
        "client.start_owner_forked = forked\n"
        f"launch.prespawn(['--command', {str(claude)!r}, 'hello'])\n"
    )
    env = {**os.environ, "CLAUDE_TUI_HOME": str(tmp_path / "home")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path, env=env
    ).stdout
    assert f"AT EXEC [] {claude}" in out


def test_window_path_loads_nothing_only_the_owner_needs() -> None:
    """A window that the owner runs the session for imports up to its app (`commands.run.run_in_owner`)."""
    code = (
        f"{SPAWN_PATH}\nimport claude_tui.owner.attached, claude_tui.app, claude_tui.widgets.attached_view\n"
    )
    _, loaded = run_and_list_loaded(code, (*NOT_BY_THE_WINDOW, "claude_tui.owner.attached"))
    assert loaded == ["claude_tui.owner.attached"]  # the probe itself works


def test_unwritable_spool_ends_the_spawned_program_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, owner_server: Any
) -> None:
    """The program is already running when the spool fails (disk full): it must not be left behind. The
    session owner (here in a thread of the test) runs it and makes the spool; the window says why."""
    from claude_tui.session import TrackedSession
    from claude_tui.terminal.pty_session import PtySession

    spawned: list[PtySession] = []
    real_spawn = PtySession.spawn

    def spawn(*args: Any, **kwargs: Any) -> PtySession:
        spawned.append(real_spawn(*args, **kwargs))
        return spawned[-1]

    def full_disk(self: TrackedSession, cols: int, rows: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(PtySession, "spawn", staticmethod(spawn))
    monkeypatch.setattr(TrackedSession, "start", full_disk)
    result = CliRunner().invoke(cli.main, ["--command", "sleep", "--", "30"])
    assert result.exit_code == 2
    assert "cannot create the session record" in result.output and "no space left" in result.output.lower()
    assert len(spawned) == 1
    wait_until(lambda: spawned[0].poll() is not None, 15, "the program to be ended")  # not orphaned


def test_bare_claude_not_on_path_is_the_pinned_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """`claude-tui` from the venv (PATH without .claude-cli/) runs the CLI `make` installed, early or not."""
    from claude_tui import claude_code, launch
    from claude_tui.session import SessionConfig

    pinned = claude_code.pinned_cli()
    assert pinned is not None, "make setup installs the pinned CLI into .claude-cli/"
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert SessionConfig(command="claude").resolve_program() == pinned
    line = launch.parse_run_line([])
    assert line is not None and launch.fallback_program(line.command) == pinned
    assert claude_code.fallback_program("bash") is None


def test_own_command_is_claude_tui_only_when_path_finds_this_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exit message names a command that works in the user's shell: the full path until `make install`
    has put this claude-tui on PATH."""
    from claude_tui import paths

    script = Path(sys.executable).parent / "claude-tui"
    assert script.exists()
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert paths.own_command() == str(script)
    (tmp_path / "claude-tui").symlink_to(script)  # what `make install` does
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    assert paths.own_command() == "claude-tui"
    other = tmp_path / "other"
    other.mkdir()
    (other / "claude-tui").write_text("#!/bin/sh\n")
    (other / "claude-tui").chmod(0o755)
    monkeypatch.setenv("PATH", f"{other}:/usr/bin:/bin")
    assert paths.own_command() == str(script)  # another claude-tui on PATH is not this one


@pytest.mark.parametrize(("before", "after"), [(None, "true"), ("false", "false")])
def test_mlflow_telemetry_is_off_unless_the_user_turned_it_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, before: str | None, after: str
) -> None:
    """MLflow's telemetry client removes an environment variable while request threads copy the
    environment: loggers failed with '_MLFLOW_TELEMETRY_SESSION_ID' (`background.NO_MLFLOW_TELEMETRY`)."""
    from click.testing import CliRunner

    from claude_tui.cli import main

    if before is None:
        monkeypatch.delenv("MLFLOW_DISABLE_TELEMETRY", raising=False)
    else:
        monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", before)
    CliRunner().invoke(main, ["stats", str(tmp_path / "missing.jsonl")])
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == after
