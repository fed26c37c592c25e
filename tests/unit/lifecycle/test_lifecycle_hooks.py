"""The hooks claude-tui registers: the `--settings` JSON, merged with a user's, and what policy blocks."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from claude_tui.lifecycle.endpoint import HOOK_ROUTE, Endpoint
from claude_tui.lifecycle.hooks import (
    COMMAND_EVENTS,
    HTTP_EVENTS,
    hook_settings,
    hooks_blocked,
    merge_hooks,
    post_command,
    settings_args,
)

URL = "http://127.0.0.1:4711/s/abc/hook"


def test_every_lifecycle_hook_is_registered() -> None:
    hooks = hook_settings(URL, "/usr/bin/python3")["hooks"]
    assert set(hooks) == {*HTTP_EVENTS, *COMMAND_EVENTS}
    for name in HTTP_EVENTS:
        [group] = hooks[name]
        assert "matcher" not in group  # every tool
        assert group["hooks"] == [{"type": "http", "url": URL, "timeout": 10}]
    [group] = hooks["SessionStart"]
    assert group["hooks"][0]["type"] == "command" and URL in group["hooks"][0]["command"]


def test_the_session_start_command_posts_its_input_and_never_fails(tmp_path: Path) -> None:
    endpoint = Endpoint()
    try:
        endpoint.serve()
        routes = endpoint.session()
        got: list[bytes] = []
        routes.handle(HOOK_ROUTE, lambda body, headers: got.append(body) or None)
        payload = json.dumps({"hook_event_name": "SessionStart", "session_id": "s", "source": "startup"})
        done = subprocess.run(
            ["sh", "-c", post_command(routes.url(), sys.executable)],
            input=payload.encode(),
            capture_output=True,
        )
        assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
        assert got == [payload.encode()]
    finally:
        endpoint.close()
    # Nobody listening any more: the hook still succeeds, silently (the CLI would show a hook error).
    done = subprocess.run(
        ["sh", "-c", post_command(routes.url(), sys.executable)], input=b"{}", capture_output=True
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")


OURS = {"hooks": {"Stop": [{"hooks": [{"type": "http", "url": URL}]}]}}


def test_settings_join_the_arguments_before_the_prompt() -> None:
    args = settings_args(["--model", "sonnet", "--", "a prompt"], OURS, "/")
    assert args is not None
    assert args[:3] == ["--model", "sonnet", "--settings"]
    assert json.loads(args[3]) == OURS
    assert args[4:] == ["--", "a prompt"]
    # `--settings` after `--` is the prompt's business.
    after = settings_args(["--", "--settings"], OURS, "/")
    assert after is not None and after[-2:] == ["--", "--settings"]


@pytest.mark.parametrize("form", ["split", "equals", "file", "relative file"])
def test_a_users_settings_are_kept_and_their_hooks_run_first(form: str, tmp_path: Path) -> None:
    theirs = {
        "model": "opus",
        "hooks": {
            "Stop": [{"hooks": [{"type": "command", "command": "echo theirs"}]}],
            "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "lint"}]}],
        },
    }
    text = json.dumps(theirs)
    (tmp_path / "mine.json").write_text(text)
    given = {
        "split": ["--settings", text],
        "equals": [f"--settings={text}"],
        "file": ["--settings", str(tmp_path / "mine.json")],
        "relative file": ["--settings", "mine.json"],
    }[form]
    args = settings_args(["-c", *given, "--verbose"], OURS, str(tmp_path))
    assert args is not None
    assert args.count("--settings") == 1
    at = args.index("--settings")
    assert args[:at] + args[at + 2 :] == ["-c", "--verbose"]
    merged = json.loads(args[at + 1])
    assert merged["model"] == "opus"
    assert merged["hooks"]["Stop"] == [*theirs["hooks"]["Stop"], *OURS["hooks"]["Stop"]]
    assert merged["hooks"]["PreToolUse"] == theirs["hooks"]["PreToolUse"]


@pytest.mark.parametrize(
    "given", [["--settings", "missing.json"], ["--settings", "{bad json"], ["--settings"]]
)
def test_settings_we_cannot_read_are_left_to_the_cli(given: list[str], tmp_path: Path) -> None:
    assert settings_args(given, OURS, str(tmp_path)) is None


def test_merge_keeps_odd_shapes() -> None:
    merged = merge_hooks({"hooks": "not a dict"}, OURS)
    assert merged["hooks"] == OURS["hooks"]
    merged = merge_hooks({"hooks": {"Stop": "odd"}}, OURS)
    assert merged["hooks"]["Stop"] == OURS["hooks"]["Stop"]


def write_settings(folder: Path, data: Mapping[str, object]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.json").write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("where", "settings", "blocked"),
    [
        ("user", {"disableAllHooks": True}, "disableAllHooks"),
        ("user", {"disableAllHooks": False}, None),
        ("project", {"disableAllHooks": True}, "disableAllHooks"),
        ("user", {"allowedHttpHookUrls": ["https://hooks.example.com/*"]}, "allowedHttpHookUrls"),
        ("user", {"allowedHttpHookUrls": ["http://127.0.0.1:*"]}, None),
        ("user", {"allowedHttpHookUrls": ["http://127.0.0.1:*/*"]}, None),
        ("user", {"allowedHttpHookUrls": []}, "allowedHttpHookUrls"),
        ("extra", {"disableAllHooks": True}, "disableAllHooks"),
        ("user", {"hooks": {}}, None),
    ],
)
def test_policy_that_blocks_our_hooks(
    where: str, settings: dict[str, object], blocked: str | None, tmp_path: Path
) -> None:
    config, work = tmp_path / "config", tmp_path / "work"
    work.mkdir()
    extra: list[str] = []
    if where == "user":
        write_settings(config, settings)
    elif where == "project":
        write_settings(work / ".claude", settings)
    else:
        extra.append(json.dumps(settings))
    reason = hooks_blocked(str(config), str(work), URL, extra)
    assert (reason is None) == (blocked is None)
    if blocked:
        assert reason is not None and blocked in reason


def test_broken_settings_files_block_nothing(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text('{"disableAllHooks": tru')
    assert hooks_blocked(str(tmp_path), str(tmp_path), URL) is None
