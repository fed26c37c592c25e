"""Table-driven tests of the small rules: git operations, params from the first prompt, prices, events."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

from claude_tui.parsing import event_from_dict, event_to_dict
from claude_tui.parsing.events import (
    ApiError,
    AssistantText,
    Compaction,
    SessionMeta,
    TokenUsage,
    ToolCall,
    ToolResult,
    TurnEnd,
    UserPrompt,
)
from claude_tui.parsing.gitops import count_git_operations, scan_segments, split_segments
from claude_tui.parsing.params import derive_params
from claude_tui.parsing.prices import PRICES, message_cost, model_family


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("cd repo && git add x && git commit -m y", 2),
        ("echo git", 0),
        ("git status", 1),
        ("git log --oneline | head -5", 1),
        ("git fetch; git rebase origin/main", 2),
        ("git pull || git fetch", 2),
        ("git status\ngit diff", 2),
        ("FOO=1 BAR=2 git push", 1),
        ("sudo git clean -fdx", 1),
        ("sudo -u bob -E git status", 1),
        ("env -i GIT_DIR=.git git log", 1),
        ("command git --version", 1),
        ("time git gc", 1),
        ("/usr/bin/git status", 1),
        ("(cd sub && git status)", 1),
        ("! git diff --quiet", 1),
        ('git commit -m "fix: a && b; git c"', 1),  # operators inside quotes do not split
        ("git commit -m 'it''s fine' && git push", 2),
        ('echo "unbalanced && git status', 0),  # never raises; the open quote runs to the end
        ("git commit -m 'unbalanced && git push", 1),
        ("ls 2>&1 | git hash-object --stdin", 1),  # 2>&1 is a redirection, not a separator
        ("git fetch & git status", 2),  # a background & separates too
        ("gitk --all", 0),
        ("legit status", 0),
        ("echo $(git rev-parse HEAD)", 0),  # the command word is echo
        ("make && make test", 0),
        ("cd repo && \\\n  git status", 1),  # an escaped newline continues the line
        ("", 0),
    ],
)
def test_git_operations(command: str, expected: int) -> None:
    assert count_git_operations(command) == expected


def test_fast_split_equals_the_quote_aware_scanner() -> None:
    rng = random.Random(1)
    alphabet = ["git", " ", "a", "&", "|", ";", "\n", "<", ">", "2", "1", "&&", "||", "x=1", "(", ")"]
    for _ in range(3000):
        command = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert split_segments(command) == scan_segments(command), repr(command)


def test_split_segments() -> None:
    assert split_segments("a && b || c; d | e\nf") == ["a", "b", "c", "d", "e", "f"]
    assert split_segments("echo 'x;y' \"z|w\"") == ["echo 'x;y' \"z|w\""]


@pytest.mark.parametrize(
    ("prompt", "procedure", "issue"),
    [
        ("close-issue 583", "close-issue", "583"),
        ("/close-issue 583", "close-issue", "583"),
        ("close-issue #583", "close-issue", "583"),
        ("extract-best-frame", "extract-best-frame", None),
        ("extract-best-frame video.mp4", "extract-best-frame", None),
        ("please look at #583 today", None, "583"),
        ("fix issue 583 and 584", None, "583"),
        ("Fix Issue #12 please", None, "12"),
        ("close-issue then fix #7", "close-issue", "7"),
        ("fix the bug", None, None),
        ("echo 'Hello MLflow'", None, None),
        ("/review", "review", None),
        ("a&#39;b", None, None),  # an HTML entity is not an issue number
        ("", None, None),
        (None, None, None),
    ],
)
def test_params_from_first_prompt(prompt: str | None, procedure: str | None, issue: str | None) -> None:
    assert derive_params(prompt) == (procedure, issue)


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("claude-opus-4-5-20251101", "claude-opus-4-5"),
        ("claude-opus-4-1-20250805", "claude-opus-4-1"),
        ("claude-opus-4-20250514", "claude-opus-4"),
        ("claude-opus-4-6", "claude-opus-4-6"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-sonnet-4-5[1m]", "claude-sonnet-4-5"),
        ("claude-sonnet-4@20250514", "claude-sonnet-4"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ("claude-opus-4-7", None),  # a newer minor version is not guessed
        ("claude-opus-4-7-20260101", None),
        ("claude-haiku-4-5-fast", "claude-haiku-4-5"),  # a longer id of a known family
        ("claude-sonnet-4-5-20250929-thinking", "claude-sonnet-4-5"),
        ("claude-opus-5-5", None),
        ("<synthetic>", None),
        ("gpt-4o", None),
    ],
)
def test_model_family(model: str, family: str | None) -> None:
    assert model_family(model) == family


def test_message_cost() -> None:
    # Opus 4.5: $5 in, $25 out, $0.50 cache read, $6.25 5-minute cache write, $10 1-hour cache write.
    cost = message_cost("claude-opus-4-5-20251101", 1_000_000, 100_000, 2_000_000, 300_000, 100_000)
    assert cost == pytest.approx(5 + 2.5 + 1.0 + 200_000 * 6.25 / 1e6 + 100_000 * 10 / 1e6)
    assert message_cost("claude-opus-5-5", 10, 10, 0, 0) is None
    assert message_cost(None, 10, 10, 0, 0) is None
    # Sonnet 4.5 above 200k input tokens: long-context rates ($6 / $22.50).
    assert message_cost("claude-sonnet-4-5", 150_000, 1000, 60_000, 0) == pytest.approx(
        (150_000 * 6 + 1000 * 22.5 + 60_000 * 0.6) / 1e6
    )
    assert all(p.cache_read < p.input < p.cache_write < p.output for p in PRICES.values())


EVENTS = [
    UserPrompt(ts=1.5, text="close-issue 583"),
    AssistantText(ts=None, text="hi", sidechain=True),
    ToolCall(ts=2.0, id="t1", name="Bash", input={"command": "git status", "n": [1, 2]}, sidechain=True,
             agent_id="a1"),
    ToolResult(ts=3.0, id="t1", is_error=True, preview="Exit code 1", sidechain=False),
    TokenUsage(ts=4.0, message_id="m", request_id="r", model="x", input_tokens=1, output_tokens=2,
               cache_read_tokens=3, cache_creation_tokens=4, cache_creation_1h_tokens=1, sidechain=False,
               stop_reason="end_turn"),
    TurnEnd(ts=5.0, duration=1.25),
    ApiError(ts=6.0, message="Overloaded", retrying=True),
    Compaction(ts=7.0, trigger="auto", pre_tokens=1000),
    SessionMeta(ts=8.0, model="m", version="2.1.328", cwd="/w", git_branch="main", permission_mode="default",
                session_id="s"),
]  # fmt: skip


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_event_round_trip_through_json(event: object) -> None:
    data = event_to_dict(event)  # type: ignore[arg-type]
    assert list(data)[:2] == ["type", "ts"]
    line = json.dumps(data)
    assert event_from_dict(json.loads(line)) == event


def test_event_from_dict_rejects_bad_input_and_ignores_unknown_fields() -> None:
    assert event_from_dict({"type": "turn_end", "ts": 1, "duration": 2, "future": True}) == TurnEnd(
        ts=1, duration=2
    )
    for bad in ({"type": "nope"}, {"type": "tool_call", "ts": 1}, [1, 2], {"ts": 1}):
        with pytest.raises(ValueError):
            event_from_dict(bad)  # type: ignore[arg-type]


def test_importing_parsing_loads_neither_textual_nor_mlflow() -> None:
    code = (
        "import sys, claude_tui.parsing, claude_tui.parsing.screen, claude_tui.parsing.stats;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'mlflow', 'rich', 'pyte'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "[]"
