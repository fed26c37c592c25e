"""Claude Code's on-disk layout and command line (`claude_tui.claude_code`), table-driven."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from claude_tui import claude_code
from claude_tui.claude_code import (
    ENV_CLAUDE_BIN,
    config_dir,
    find_claude_binary,
    find_transcript,
    is_claude,
    is_subagent_file,
    program_argv,
    project_dir_name,
    session_files,
    subagent_dir,
    which,
)


@pytest.mark.parametrize(
    ("command", "expected"),
    [("claude", True), ("/opt/bin/claude", True), ("claude.exe", True), ("bash", False), ("claude2", False)],
)
def test_is_claude(command: str, expected: bool) -> None:
    assert is_claude(command) is expected


def test_program_argv_gives_claude_a_session_id_and_ends_its_options() -> None:
    argv = program_argv(
        "/bin/claude", command="claude", session_id="S", args=["--allowedTools", "Bash"], prompt="go"
    )
    assert argv == ["/bin/claude", "--session-id", "S", "--allowedTools", "Bash", "--", "go"]
    assert program_argv("/bin/sh", command="sh", session_id="S", args=[], prompt="x") == ["/bin/sh", "x"]
    # The caller's own `--` already ends the options.
    assert program_argv("/c", command="claude", session_id="S", args=["--", "a"], prompt="b") == [
        "/c", "--session-id", "S", "--", "a", "b",
    ]  # fmt: skip


def test_find_claude_binary_prefers_the_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "claude"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv(ENV_CLAUDE_BIN, str(fake))
    assert find_claude_binary() == fake
    monkeypatch.setenv(ENV_CLAUDE_BIN, str(tmp_path / "missing"))
    assert find_claude_binary() is None


@pytest.mark.parametrize(
    "path",
    [
        "run:plain",  # the executable in the first folder
        "plain:run",  # only in the second: the first holds a file of that name that cannot run
        "folder:run",  # the first holds a folder of that name
        "plain:plain:folder",  # nowhere
        "run:run",  # a folder twice
        "",  # an empty PATH: nothing
        None,  # $PATH
    ],
)
def test_which_finds_what_shutil_which_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str | None
) -> None:
    """`which` stands for `shutil.which` without importing shutil (loaded before Claude's spawn)."""
    folders = {name: tmp_path / name for name in ("run", "plain", "folder")}
    for folder in folders.values():
        folder.mkdir()
    (folders["run"] / "tool").write_text("#!/bin/sh\n")
    (folders["run"] / "tool").chmod(0o755)
    (folders["plain"] / "tool").write_text("not a program\n")
    (folders["folder"] / "tool").mkdir()
    monkeypatch.setenv("PATH", os.pathsep.join([str(folders["plain"]), str(folders["run"])]))
    searched = (
        None if path is None else os.pathsep.join(str(folders[name]) for name in path.split(":") if name)
    )
    assert which("tool", searched) == shutil.which("tool", path=searched)
    assert which("missing", searched) is None


def test_config_dir_is_the_env_variable_else_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path))
    assert config_dir() == tmp_path
    assert config_dir({"CLAUDE_CONFIG_DIR": "/elsewhere"}) == Path("/elsewhere")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config_dir({}) == tmp_path / "home" / ".claude"


def test_transcript_lookup_by_id_and_subagent_files(tmp_path: Path) -> None:
    folder = tmp_path / claude_code.PROJECTS / "-srv-app"
    agents = folder / "s[1]" / claude_code.SUBAGENTS
    agents.mkdir(parents=True)
    transcript = folder / "s[1].jsonl"
    transcript.write_text("{}\n")
    (agents / "agent-a1.jsonl").write_text("{}\n")
    (agents / "agent-a1.meta.json").write_text("{}\n")
    # Glob characters in an id are taken literally.
    assert find_transcript(tmp_path, "s[1]") == transcript
    assert find_transcript(tmp_path, "s?1?") is None
    assert find_transcript(tmp_path / "none", "s[1]") is None
    assert subagent_dir(transcript) == agents
    assert is_subagent_file(agents / "agent-a1.jsonl") and not is_subagent_file(transcript)
    assert session_files(transcript) == [
        transcript, agents / "agent-a1.jsonl", agents / "agent-a1.meta.json",
    ]  # fmt: skip


# Folder names the pinned CLI 2.1.328 wrote for these work dirs (run in each with `-p`; the long one is
# `/tmp/ch-exp/env/w/` + 120 x + `/` + 120 y). tests/functional/test_claude_code_layout.py checks the same
# against the real CLI in every test run.
CLI_FOLDERS = [
    ("/tmp/w/café", "-tmp-w-caf-"),
    ("/tmp/w/with space", "-tmp-w-with-space"),
    ("/tmp/w/dots.and_under", "-tmp-w-dots-and-under"),
    ("/tmp/w/emoji😀x", "-tmp-w-emoji--x"),
    ("/tmp/w/Ünïcödé-日本語", "-tmp-w--n-c-d-----"),
    ("/tmp/w/a+b=c@d~e#f%g", "-tmp-w-a-b-c-d-e-f-g"),
    ("/tmp/w/tab\tname", "-tmp-w-tab-name"),
    ("/tmp/w/cafe\u0301", "-tmp-w-cafe-"),  # decomposed: not normalised, the accent is one more '-'
    (
        "/tmp/ch-exp/env/w/" + "x" * 120 + "/" + "y" * 120,
        "-tmp-ch-exp-env-w-" + "x" * 120 + "-" + "y" * 61 + "-ecuwhu",
    ),
]


@pytest.mark.parametrize(("work_dir", "folder"), CLI_FOLDERS)
def test_project_dir_name_as_the_cli_names_it(work_dir: str, folder: str) -> None:
    assert project_dir_name(work_dir) == folder
    assert len(folder) <= claude_code.MAX_FOLDER_CHARS + 1 + 7


def test_project_dirs_resolve_symlinks_and_accept_another_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(claude_code.PROJECT_DIR_NAME_ENV, raising=False)
    real = tmp_path / "wörk"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    long_dir = "/srv/" + "x" * 300
    projects = tmp_path / "config" / claude_code.PROJECTS
    mine = projects / project_dir_name(str(real))
    cut = project_dir_name(long_dir)[: claude_code.MAX_FOLDER_CHARS]
    for folder in (mine, projects / f"{cut}-otherhash", projects / project_dir_name("/srv/else")):
        folder.mkdir(parents=True)
    assert claude_code.project_dirs(tmp_path / "config", tmp_path / "link") == [mine]
    assert claude_code.project_dirs(tmp_path / "config", long_dir) == [projects / f"{cut}-otherhash"]
    assert claude_code.project_dirs(tmp_path / "nowhere", real) == []


@pytest.mark.parametrize(
    ("env", "found"),
    [
        ({"CLAUDE_CONFIG_DIR": "c", "CLAUDE_CODE_PROJECT_DIR_NAME": "shared_1"}, True),
        ({"CLAUDE_CODE_PROJECT_DIR_NAME": "shared_1"}, False),  # only together with a config dir
        ({"CLAUDE_CONFIG_DIR": "c", "CLAUDE_CODE_PROJECT_DIR_NAME": "no/slash"}, False),
        ({"CLAUDE_CONFIG_DIR": "c", "CLAUDE_CODE_PROJECT_DIR_NAME": "NUL"}, False),
    ],
)
def test_project_dir_name_override(tmp_path: Path, env: dict[str, str], found: bool) -> None:
    shared = tmp_path / claude_code.PROJECTS / "shared_1"
    shared.mkdir(parents=True)
    assert claude_code.project_dirs(tmp_path, "/anywhere", env) == ([shared] if found else [])


def test_session_transcripts_of_a_config_dir_or_any_folder(tmp_path: Path) -> None:
    config = tmp_path / "config"
    projects = config / claude_code.PROJECTS
    for rel in ("-b/s2.jsonl", "-a/s1.jsonl", "-a/s1/subagents/agent-x.jsonl", "-a/notes.txt"):
        (projects / rel).parent.mkdir(parents=True, exist_ok=True)
        (projects / rel).write_text("{}\n")
    (config / "history.jsonl").write_text("{}\n")  # the CLI's prompt history: no session
    sessions = [projects / "-a" / "s1.jsonl", projects / "-b" / "s2.jsonl"]
    assert claude_code.session_transcripts(config) == sessions
    assert claude_code.session_transcripts(projects / "-a") == sessions[:1]
    assert claude_code.config_dir_of(sessions[0]) == config
    assert claude_code.config_dir_of(tmp_path / "loose.jsonl") is None


@pytest.mark.parametrize(
    ("path", "session"),
    [
        ("/c/projects/-w/s1/subagents/agent-a.jsonl", "/c/projects/-w/s1.jsonl"),
        ("/c/projects/-w/s1/subagents/workflows/run-7/agent-b.jsonl", "/c/projects/-w/s1.jsonl"),
        ("/c/projects/-w/s1.jsonl", None),
        ("/home/me/subagents/a/b/c/d/e/projects/-w/s1.jsonl", None),  # a folder of that name far above
    ],
)
def test_subagent_files_belong_to_their_session(path: str, session: str | None) -> None:
    assert claude_code.subagent_session(path) == (Path(session) if session else None)
    assert claude_code.is_subagent_file(path) is (session is not None)


# -- the CLI's own telemetry ------------------------------------------------------------------------------


def test_telemetry_env_points_every_signal_at_one_endpoint() -> None:
    env = claude_code.telemetry_env("http://127.0.0.1:9/s/S/otlp")
    assert env["CLAUDE_CODE_ENABLE_TELEMETRY"] == "1"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:9/s/S/otlp"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/json"
    assert (env["OTEL_LOGS_EXPORTER"], env["OTEL_METRICS_EXPORTER"], env["OTEL_TRACES_EXPORTER"]) == (
        "otlp",
        "otlp",
        "none",
    )
    assert (env["OTEL_LOGS_EXPORT_INTERVAL"], env["OTEL_METRIC_EXPORT_INTERVAL"]) == ("1000", "5000")
    # What would win over the generic endpoint, or send someone's credentials to it, is removed.
    for name in (
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
        "OTEL_EXPORTER_OTLP_HEADERS",
    ):
        assert name in env and env[name] is None
    assert "OTEL_LOG_USER_PROMPTS" not in env  # prompts stay redacted in what the CLI exports


@pytest.mark.parametrize(
    ("args", "values"),
    [
        ([], []),
        (["--settings", "{}"], ["{}"]),
        (["--model", "x", "--settings=a.json", "--settings", "b.json"], ["a.json", "b.json"]),
        (["--settings"], []),
        (["--", "--settings", "x"], []),
    ],
)
def test_settings_flag_values(args: list[str], values: list[str]) -> None:
    assert claude_code.settings_flag_values(args) == values


USER_TELEMETRY_CASES = [
    # (environment, {file: JSON}, claude args, the reason or None)
    ({}, {}, [], None),
    ({"CLAUDE_CODE_ENABLE_TELEMETRY": "0"}, {}, [], None),
    ({"CLAUDE_CODE_ENABLE_TELEMETRY": "1"}, {}, [], "is set in the environment"),
    ({"CLAUDE_CODE_ENABLE_TELEMETRY": " TRUE "}, {}, [], "is set in the environment"),
    # OTEL_* in the environment without the switch exports nothing: ours replaces it.
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example"}, {}, [], None),
    ({}, {"user": {"env": {"CLAUDE_CODE_ENABLE_TELEMETRY": "1"}}}, [], "settings.json"),
    ({}, {"managed": {"env": {"CLAUDE_CODE_ENABLE_TELEMETRY": "yes"}}}, [], "managed-settings.json"),
    ({}, {"project": {"env": {"CLAUDE_CODE_ENABLE_TELEMETRY": "on"}}}, [], ".claude/settings.json"),
    ({}, {"local": {"env": {"CLAUDE_CODE_ENABLE_TELEMETRY": 1}}}, [], "settings.local.json"),
    # A settings file's OTEL_* would override ours (a settings file's env wins over the process's).
    ({}, {"user": {"env": {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example"}}}, [], "sets OTEL_"),
    ({}, {"user": {"env": {"CLAUDE_CODE_ENABLE_TELEMETRY": "false"}}}, [], None),
    ({}, {"user": {"telemetry": "CLAUDE_CODE_ENABLE_TELEMETRY"}}, [], None),
    ({}, {"user": "not json CLAUDE_CODE_ENABLE_TELEMETRY"}, [], None),
    ({}, {"user": ["CLAUDE_CODE_ENABLE_TELEMETRY"]}, [], None),
    ({}, {}, ["--settings", '{"env": {"CLAUDE_CODE_ENABLE_TELEMETRY": "1"}}'], "is set in --settings"),
    ({}, {"flag": {"env": {"OTEL_METRICS_EXPORTER": "otlp"}}}, ["--settings", "flag.json"], "flag.json sets"),
    ({}, {}, ["--settings", "missing.json"], None),
]


@pytest.mark.parametrize(("env", "files", "args", "reason"), USER_TELEMETRY_CASES)
def test_user_telemetry_is_found_where_the_cli_reads_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    files: dict[str, object],
    args: list[str],
    reason: str | None,
) -> None:
    config, cwd = tmp_path / "config", tmp_path / "work"
    paths = {
        "managed": tmp_path / "etc" / "managed-settings.json",
        "user": config / "settings.json",
        "project": cwd / ".claude" / "settings.json",
        "local": cwd / ".claude" / "settings.local.json",
        "flag": cwd / "flag.json",
    }
    monkeypatch.setattr(claude_code, "MANAGED_SETTINGS", str(paths["managed"]))
    for name, content in files.items():
        paths[name].parent.mkdir(parents=True, exist_ok=True)
        paths[name].write_text(content if isinstance(content, str) else json.dumps(content))
    found = claude_code.user_telemetry(env, config, cwd, args)
    if reason is None:
        assert found is None
    else:
        assert (
            found is not None and reason in found and found.startswith(("CLAUDE_CODE_ENABLE_TELEMETRY", "/"))
        )


def test_a_tracked_claude_exports_to_claude_tui_unless_the_user_exports_it_themselves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The decision on a user's own telemetry: left exactly as it is (claude-tui adds none), never sent to
    both; claude-tui's export otherwise, also over the session's own `CLAUDE_CODE_ENABLE_TELEMETRY=0`."""
    config, cwd, url = tmp_path / "config", tmp_path / "work", "http://127.0.0.1:9/s/S/otlp"
    monkeypatch.setattr(claude_code, "MANAGED_SETTINGS", str(tmp_path / "managed.json"))
    monkeypatch.delenv("CLAUDE_CODE_ENABLE_TELEMETRY", raising=False)
    session = {"CLAUDE_CONFIG_DIR": str(config), "CLAUDE_CODE_ENABLE_TELEMETRY": "0"}

    env, mode = claude_code.tracked_env(session, url, config=config, cwd=cwd)
    assert mode == "cli" and env == {**session, **claude_code.telemetry_env(url)}

    assert claude_code.tracked_env(session, None, config=config, cwd=cwd) == (session, None)

    users = {"CLAUDE_CODE_ENABLE_TELEMETRY": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example"}
    assert claude_code.tracked_env(users, url, config=config, cwd=cwd) == (users, "user")
    monkeypatch.setenv("CLAUDE_CODE_ENABLE_TELEMETRY", "1")  # claude-tui's own environment, inherited
    assert claude_code.tracked_env({}, url, config=config, cwd=cwd) == ({}, "user")
    monkeypatch.delenv("CLAUDE_CODE_ENABLE_TELEMETRY")
    flag = ["--settings", '{"env": {"CLAUDE_CODE_ENABLE_TELEMETRY": "1"}}']
    assert claude_code.tracked_env({}, url, config=config, cwd=cwd, args=flag) == ({}, "user")


@pytest.mark.parametrize(
    ("args", "kept"),
    [
        (["--resume", "abc", "--model", "opus"], ["--model", "opus"]),
        (["-r", "--model", "opus"], ["--model", "opus"]),  # --resume without an id: the picker
        (["--continue", "--allowedTools", "Bash"], ["--allowedTools", "Bash"]),
        (["--session-id=1234", "--fork-session", "-c"], []),
        (["--permission-mode", "acceptEdits"], ["--permission-mode", "acceptEdits"]),
    ],
)
def test_without_conversation_args(args: list[str], kept: list[str]) -> None:
    assert claude_code.without_conversation_args(args) == kept


ID = "8a3b6050-81d9-5788-bfbd-9ddfda71be5f"


@pytest.mark.parametrize(
    ("args", "start"),
    [
        ([], ("new", None)),
        (["--model", "sonnet"], ("new", None)),
        (["--resume", ID], ("resume", ID)),
        ([f"--resume={ID}"], ("resume", ID)),
        (["-r", ID, "--verbose"], ("resume", ID)),
        (["--resume"], ("resume", None)),  # the picker
        (["--resume", "login bug"], ("resume", None)),  # the picker, searching
        (["--continue"], ("resume", None)),
        (["-c", "--model", "opus"], ("resume", None)),
        (["--resume", ID, "--fork-session"], ("fork", ID)),
        (["-c", "--fork-session"], ("fork", None)),
        (["--", "--resume", ID], ("new", None)),  # after `--` it is the prompt
    ],
)
def test_how_the_first_conversation_begins(args: list[str], start: tuple[str, str | None]) -> None:
    assert claude_code.conversation_start(args) == start


@pytest.mark.parametrize(
    ("args", "gets_our_id"),
    [
        ([], True),
        (["--resume", ID], False),  # the CLI refuses --session-id with --resume unless it forks
        (["-c"], False),
        (["--resume", ID, "--fork-session"], True),  # the fork is a new conversation: ours
        (["--session-id", "theirs"], False),
        (["--", "--continue"], True),
    ],
)
def test_our_session_id_only_where_the_cli_takes_it(args: list[str], gets_our_id: bool) -> None:
    argv = claude_code.program_argv(
        "/bin/claude", command="claude", session_id="ours", args=args, prompt=None
    )
    assert (argv[1:3] == ["--session-id", "ours"]) == gets_our_id
    assert argv.count("--session-id") <= 1
    assert claude_code.given_session_id(args) == ("theirs" if "theirs" in args else None)
