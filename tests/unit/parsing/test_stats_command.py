"""`claude-tui stats`: files, folders and session ids; table and JSON; bad input exits 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import parsing_records as r
import pytest
from click.testing import CliRunner

from claude_tui.commands.stats import collect, stats
from claude_tui.parsing import META_KEYS, STAT_KEYS


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "claude-config"
    folder = config / "projects" / "-work-repo"
    folder.mkdir(parents=True)
    (folder / f"{r.SESSION}.jsonl").write_text(
        "".join(r.line(x) for x in r.realistic_session()) + "garbage\n"
    )
    other = "22222222-2222-4333-8444-555555555555"
    (folder / f"{other}.jsonl").write_text(r.line(r.prompt("fix #9")))
    (config / "history.jsonl").write_text('{"display":"not a transcript"}\n')
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    return config


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(stats, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_json_by_session_id(config_dir: Path) -> None:
    code, out, _ = run(r.SESSION, "--json")
    assert code == 0
    data = json.loads(out)
    assert isinstance(data, list) and len(data) == 1
    assert list(data[0]) == ["path", *STAT_KEYS, *META_KEYS, "last_error"]
    assert data[0]["session_id"] == r.SESSION
    assert (data[0]["tool_uses"], data[0]["git_operations"], data[0]["malformed_lines"]) == (4, 2, 1)


def test_folder_is_every_session_and_not_history(config_dir: Path) -> None:
    code, out, _ = run(str(config_dir), "--json")
    assert code == 0
    data = json.loads(out)
    assert sorted(d["first_prompt"] for d in data) == ["close-issue 583", "fix #9"]


def test_table_for_one_and_for_many(config_dir: Path) -> None:
    path = next((config_dir / "projects").glob(f"*/{r.SESSION}.jsonl"))
    code, out, err = run(str(path))
    assert code == 0
    assert "git operations         2" in out
    assert "malformed lines        1" in out
    assert "malformed" in err
    code, out, _ = run(str(config_dir / "projects"))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["session", "prompts", "tools"]
    assert lines[-1].split()[:5] == ["total", "(2", "sessions)", "3", "4"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-session"], "no session 'no-such-session'"),
        (["/nonexistent/file.jsonl"], "no such file: /nonexistent/file.jsonl"),
        (["missing.jsonl"], "no such file: missing.jsonl"),
    ],
)
def test_bad_paths_exit_2_with_one_line(config_dir: Path, args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_empty_folder_exits_2(tmp_path: Path) -> None:
    code, _, err = run(str(tmp_path))
    assert code == 2 and "no transcripts" in err


def test_pool_and_serial_agree(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("claude_tui.commands.stats.PARALLEL_MIN_BYTES", 0)
    paths = sorted((config_dir / "projects").glob("*/*.jsonl"))
    assert collect(paths, jobs=2) == collect(paths, jobs=1)


def test_through_the_real_entry_point(config_dir: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "claude_tui", "stats", "nope-nope"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("claude-tui stats: ") and proc.stderr.count("\n") == 1
    proc = subprocess.run(
        [sys.executable, "-m", "claude_tui", "stats", "--json", r.SESSION],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["user_prompts"] == 2


def test_forked_sessions_table_shows_each_message_once(tmp_path: Path) -> None:
    # A fork repeats its parent's conversation (same message and request ids) before its own turn.
    parent = [r.prompt("one"), r.assistant("msg_shared", r.text("a"), use=r.usage(100, 10), stop="end_turn")]
    fork = [
        *parent,
        r.prompt("two"),
        r.assistant("msg_new", r.text("b"), use=r.usage(300, 30), stop="end_turn"),
    ]
    (tmp_path / "parent.jsonl").write_text("".join(r.line(x) for x in parent))
    (tmp_path / "fork.jsonl").write_text("".join(r.line(x) for x in fork))
    code, out, _ = run(str(tmp_path))
    assert code == 0
    lines = out.splitlines()
    assert lines[-2].split()[-6:-4] == [
        "500",
        "50",
    ]  # sum of sessions: 100 + 100 + 300 input, 10 + 10 + 30 out
    assert lines[-1].split()[:6] == ["each", "API", "message", "once", "400", "40"]
    code, out, _ = run(str(tmp_path), "--json")
    assert [d["input_tokens"] for d in json.loads(out)] == [400, 100]  # fork.jsonl, parent.jsonl: per session
    assert "_messages" not in out


def test_a_model_without_a_price_is_named_and_its_cost_is_unknown(tmp_path: Path) -> None:
    priced = [r.prompt("a"), r.assistant("m1", r.text("x"), use=r.usage(1000, 10), model="claude-opus-5-5")]
    unpriced = [r.prompt("b"), r.assistant("m2", r.text("y"), use=r.usage(1000, 10), model="claude-opus-9-9")]
    (tmp_path / "priced.jsonl").write_text("".join(r.line(x) for x in priced))
    (tmp_path / "unpriced.jsonl").write_text("".join(r.line(x) for x in unpriced))
    code, out, _ = run(str(tmp_path / "unpriced.jsonl"))
    assert code == 0
    assert "cost                   unknown: no price for claude-opus-9-9" in out
    code, out, _ = run(str(tmp_path / "priced.jsonl"), "--json")
    (data,) = json.loads(out)
    # genai-prices' Opus 5.5 price ($4 / $20 per million tokens) is the CLI's own.
    assert data["cost_usd"] == pytest.approx((1000 * 4 + 10 * 20) / 1e6)
    assert data["unpriced_models"] == []
    code, out, _ = run(str(tmp_path))
    assert code == 0
    assert (
        out.splitlines()[-1] == "no price for: claude-opus-9-9 (1 session); their sessions' cost is unknown"
    )
    total = next(line for line in out.splitlines() if line.startswith("total"))
    assert "unknown" in total


def test_records_of_a_new_type_are_counted_and_named_in_one_line(tmp_path: Path) -> None:
    # Issue 15 item 3: a transcript with record types this version does not know (as a newer CLI writes).
    records = [
        r.prompt("go"),
        {"type": "agent-handoff", "sessionId": r.SESSION, "to": "reviewer"},
        {"type": "agent-handoff", "sessionId": r.SESSION, "to": "writer"},
        {"parentUuid": None, "isSidechain": False, "vote": {"type": "text"}, "type": "ballot", **r.BASE},
        {"type": "user", "message": ["not", "an", "object"]},  # a known type in a shape it cannot read
        {"type": "cost-state", "totalCostUSD": 0.1},  # known, says nothing new: not counted
    ]
    path = tmp_path / "new.jsonl"
    path.write_text("".join(r.line(x) for x in records))
    code, out, err = run(str(path), "--json")
    (data,) = json.loads(out)
    assert data["unknown_records"] == 4
    assert data["unknown_records_by_type"] == {"agent-handoff": 2, "ballot": 1, "user (unexpected shape)": 1}
    assert (data["user_prompts"], data["malformed_lines"]) == (1, 0)
    code, out, err = run(str(path))
    assert code == 0
    assert "unknown records        4 (agent-handoff 2, ballot 1, user (unexpected shape) 1)" in out
    notes = [line for line in err.splitlines() if "does not read" in line]
    assert notes == [
        "note: 4 record(s) of a type or shape this version does not read:"
        " agent-handoff 2, ballot 1, user (unexpected shape) 1"
    ]


def test_the_pool_prices_from_the_cache_and_the_parent_prices_the_rest(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claude_tui.parsing import prices

    monkeypatch.setattr("claude_tui.commands.stats.PARALLEL_MIN_BYTES", 0)
    paths = sorted((config_dir / "projects").glob("*/*.jsonl"))
    prices._book.forget()  # a cold cache (this test's data dir has none): the workers leave it to the parent
    cold = collect(paths, jobs=2)
    cache = prices.cache_path()
    assert cache is not None and "claude-sonnet-4-5-20250929" in json.loads(cache.read_text())["models"]
    prices._book.forget()  # a warm one: the workers price from it
    assert collect(paths, jobs=2) == cold == collect(paths, jobs=1)
    assert cold[0]["cost_usd"] is not None and cold[0]["cost_usd"] > 0
