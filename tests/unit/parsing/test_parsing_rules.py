"""Table-driven tests of the small rules: git operations, params from the first prompt, prices, events."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

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
    UnknownRecord,
    UserPrompt,
)
from claude_tui.parsing.gitops import count_git_operations, scan_segments, split_segments
from claude_tui.parsing.params import derive_params
from claude_tui.parsing.prices import is_priced, message_cost, price_messages, provider_for


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


def _ts(day: str) -> float:
    return datetime.fromisoformat(day + "T12:00:00+00:00").timestamp()


@pytest.mark.parametrize(
    ("model", "provider", "per_million"),
    [
        # (USD for 1M input tokens, USD for 1M output tokens) as genai-prices gives them, or None: no price.
        ("claude-opus-5-5", "anthropic", (4, 20)),  # the stub's model: the CLI's own cost-state agrees
        ("claude-opus-4-7", "anthropic", (5, 25)),  # the old hand table had no price for it
        ("claude-opus-4-5-20251101", "anthropic", (5, 25)),
        ("claude-opus-4-1-20250805", "anthropic", (15, 75)),
        ("claude-opus-4-20250514", "anthropic", (15, 75)),
        ("claude-sonnet-4-5-20250929", "anthropic", (3, 15)),
        ("claude-sonnet-4-5[1m]", "anthropic", (3, 15)),
        ("claude-haiku-4-5-20251001", "anthropic", (1, 5)),
        ("claude-haiku-4-5-fast", "anthropic", (1, 5)),
        ("claude-3-5-haiku-latest", "anthropic", (0.8, 4)),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws", (3.3, 16.5)),  # Bedrock's regional price
        ("anthropic.claude-3-haiku-20240307-v1:0", "aws", (0.25, 1.25)),
        ("claude-opus-4-5@20251101", "google", (5, 25)),  # Vertex
        ("claude-opus-4-9", "anthropic", None),  # not known: never guessed from a family
        ("claude-opus-6", "anthropic", None),
        ("<synthetic>", "anthropic", None),
        ("gpt-4o", "anthropic", None),  # not a model Claude Code bills by Anthropic
    ],
)
def test_prices_come_from_genai_prices(
    model: str, provider: str, per_million: tuple[float, float] | None
) -> None:
    assert provider_for(model) == provider
    assert is_priced(model) is (per_million is not None)
    # 100k tokens: below every long-context tier.
    input_cost = message_cost(model, 100_000, 0, 0, 0, ts=_ts("2026-11-27"))
    output_cost = message_cost(model, 0, 100_000, 0, 0, ts=_ts("2026-11-27"))
    if per_million is None:
        assert input_cost is None and output_cost is None
    else:
        expected = (pytest.approx(per_million[0] / 10), pytest.approx(per_million[1] / 10))
        assert (input_cost, output_cost) == expected


def test_message_cost_counts_cache_reads_writes_and_web_searches() -> None:
    # Opus 4.5: $5 in, $25 out, $0.50 cache read, $6.25 5-minute cache write, $10 1-hour cache write,
    # $10 per 1,000 web searches.
    cost = message_cost(
        "claude-opus-4-5-20251101", 1_000_000, 100_000, 2_000_000, 300_000, 100_000, web_search_requests=3
    )
    assert cost == pytest.approx(5 + 2.5 + 1.0 + 200_000 * 6.25 / 1e6 + 100_000 * 10 / 1e6 + 0.03)
    assert message_cost(None, 10, 10, 0, 0) is None


def test_tiers_apply_per_request_and_prices_by_the_message_date() -> None:
    # Sonnet 4.5 above 200k input tokens in one request (input + cache read + cache write): $6 / $22.50.
    assert message_cost("claude-sonnet-4-5", 150_000, 1000, 60_000, 0) == pytest.approx(
        (150_000 * 6 + 1000 * 22.5 + 60_000 * 0.6) / 1e6
    )
    # Two requests of 150k each are below the tier, although together they are above it.
    small = [
        TokenUsage(message_id=f"m{i}", model="claude-sonnet-4-5", input_tokens=150_000) for i in range(2)
    ]
    assert price_messages(small).cost_usd == pytest.approx(2 * 150_000 * 3 / 1e6)
    # Opus 4.6 had a long-context tier until 2026-03-13 and a flat price after it.
    before = message_cost("claude-opus-4-6", 300_000, 0, 0, 0, ts=_ts("2026-02-01"))
    after = message_cost("claude-opus-4-6", 300_000, 0, 0, 0, ts=_ts("2026-06-01"))
    assert (before, after) == (pytest.approx(300_000 * 10 / 1e6), pytest.approx(300_000 * 5 / 1e6))


def test_unpriced_models_are_named_and_make_the_cost_unknown() -> None:
    usages = [
        TokenUsage(message_id="a", model="claude-opus-5-5", input_tokens=1_000_000),
        TokenUsage(message_id="b", model="claude-opus-9", input_tokens=5),
        TokenUsage(message_id="c", model="mystery"),  # no tokens: no price needed
    ]
    costing = price_messages(usages)
    assert costing.cost_usd is None
    assert costing.priced_usd == pytest.approx(4.0)
    assert costing.unpriced_models == ("claude-opus-9",)


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
    UnknownRecord(ts=9.0, record_type="agent-handoff"),
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


def test_genai_prices_loads_only_when_a_cost_is_asked_for(tmp_path: Path) -> None:
    # Its import takes 0.15-0.3 s: folding events (what the live tail does before Claude answers) must not
    # pay it; the first cost does.
    transcript = tmp_path / "s.jsonl"
    usage = {"input_tokens": 10, "output_tokens": 1}
    record = {"type": "assistant", "message": {"id": "m", "model": "claude-opus-5-5", "usage": usage}}
    transcript.write_text(json.dumps(record) + "\n")
    code = (
        "import sys; from claude_tui.parsing import stats_for_transcript;"
        f"stats = stats_for_transcript({str(transcript)!r});"
        "print(stats.input_tokens, 'genai_prices' in sys.modules, 'pydantic' in sys.modules);"
        "print(stats.cost_usd, 'genai_prices' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["10 False False", f"{(10 * 4 + 1 * 20) / 1e6} True"]


@pytest.mark.parametrize(
    "model", ["claude-opus-5-5", "claude-sonnet-4-5", "claude-3-haiku", "claude-haiku-5-5"]
)
def test_summed_pricing_equals_genai_prices_message_by_message(model: str) -> None:
    # price_messages sums the messages of one price and tier region and prices the sums; genai-prices'
    # own calc_price on each message must give the same total.
    from genai_prices import Usage, calc_price

    rng = random.Random(model)
    usages = []
    expected = 0.0
    for index in range(40):
        inp, read, write = rng.randrange(0, 150_000), rng.randrange(0, 150_000), rng.randrange(0, 20_000)
        one_hour, out, searches = rng.randrange(0, write + 1), rng.randrange(0, 8000), rng.randrange(0, 3)
        ts = _ts("2026-11-27") + index
        usages.append(
            TokenUsage(
                ts=ts, message_id=f"m{index}", model=model, input_tokens=inp, output_tokens=out,
                cache_read_tokens=read, cache_creation_tokens=write, cache_creation_1h_tokens=one_hour,
                web_search_requests=searches,
            )
        )  # fmt: skip
        usage = Usage(
            input_tokens=inp + read + write, output_tokens=out, cache_read_tokens=read,
            cache_write_tokens=write, cache_write_1h_tokens=one_hour, web_searches=searches,
        )  # fmt: skip
        when = datetime.fromtimestamp(ts, tz=UTC)
        expected += float(
            calc_price(usage, model, provider_id="anthropic", genai_request_timestamp=when).total_price
        )
    assert price_messages(usages).cost_usd == pytest.approx(expected, abs=1e-6)  # rounded to 6 places
