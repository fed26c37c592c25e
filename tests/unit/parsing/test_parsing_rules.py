"""Table-driven tests of the small rules: git operations, params from the first prompt, prices, events."""

from __future__ import annotations

import json
import os
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
from claude_tui.parsing.gitops import count_git_operations
from claude_tui.parsing.params import derive_params
from claude_tui.parsing.prices import is_priced, message_cost, price_messages, provider_for

GIT_CASES = [
    # (command line, git commands bash runs, why)
    ("cd repo && git add x && git commit -m y", 2, "a list: each command runs"),
    ("echo git", 0, "git is an argument"),
    ("git status", 1, "the plain case"),
    ("git log --oneline | head -5", 1, "a pipeline"),
    ("git fetch; git rebase origin/main", 2, "a list"),
    ("git pull || git fetch", 2, "both sides of || may run"),
    ("git status\ngit diff", 2, "two lines"),
    ("git fetch & git status", 2, "a background job and the next command"),
    ("ls 2>&1 | git hash-object --stdin", 1, "2>&1 is a redirection, not a separator"),
    ("cd repo && \\\n  git status", 1, "an escaped newline continues the line"),
    ("FOO=1 BAR=2 git push", 1, "assignments before the command"),
    ("2>/dev/null git status", 1, "a redirection before the command"),
    ("/usr/bin/git status", 1, "a path to git"),
    ('"git" status', 1, "quotes are removed before the command runs"),
    ("\\git status", 1, "so is a backslash"),
    ("$GIT status", 0, "an expansion: unknown without running it"),
    ("gitk --all", 0, "another program"),
    ("legit status", 0, "another program"),
    ("", 0, "nothing"),
    # comments and quotes
    ("# don't panic\ngit status", 1, "the apostrophe is inside a comment, which ends at the newline"),
    ("git status # && git push", 1, "a comment"),
    ("echo 'git status' \"git log\"", 0, "quoted text"),
    ('git commit -m "fix: a && b; git c"', 1, "operators inside quotes do not separate"),
    ("git commit -m 'it''s fine' && git push", 2, "adjacent quoted strings"),
    ("echo '$(git rev-parse HEAD)'", 0, "no substitution inside single quotes"),
    ('echo "unbalanced && git status', 0, "bash refuses the line: nothing runs"),
    ("git commit -m 'unbalanced && git push", 0, "bash refuses the line: nothing runs"),
    ("git status\necho 'unbalanced", 1, "lines before the syntax error run"),
    ("cat <<EOF\ngit status\nEOF", 0, "a here-document body is data"),
    ("git commit -F - <<'EOF'\nfix\ngit is great\nEOF", 1, "only the command, not its here-document"),
    ("git commit -m \"$(cat <<'EOF'\nfix: it's done\ngit rocks\nEOF\n)\"", 1, "a heredoc inside $()"),
    # wrappers
    ("sudo git clean -fdx", 1, "sudo runs its command"),
    ("sudo -Eu bob git push", 1, "-E, then -u with its value bob"),
    ("sudo --user bob git push", 1, "a long option with its value"),
    ("sudo --user=bob git push", 1, "a long option with an attached value"),
    ("sudo -u bob -- git push", 1, "-- ends the options"),
    ("sudo -u bob VAR=1 git push", 1, "sudo takes assignments"),
    ("env -i GIT_DIR=.git git log", 1, "env with assignments"),
    ("command git --version", 1, "command runs its command"),
    ("command -v git", 0, "command -v only looks git up"),
    ("command -V git", 0, "command -V only describes git"),
    ("type git && which git", 0, "looking git up does not run it"),
    ("time git gc", 1, "time"),
    ("time -p git gc", 1, "time with an option"),
    ("timeout 10 git fetch", 1, "timeout: a duration, then the command"),
    ("timeout -s KILL -k 5 10s git fetch", 1, "timeout with options and values"),
    ("nice git gc", 1, "nice"),
    ("nice -n 5 git gc", 1, "nice with a value"),
    ("nice -10 git gc", 1, "nice's obsolete -N"),
    ("nohup git fetch &", 1, "nohup"),
    ("exec git status", 1, "exec replaces the shell with git"),
    ("exec -a mygit git status", 1, "exec -a NAME"),
    ("stdbuf -oL git log", 1, "stdbuf with an attached mode"),
    ("ionice -c 3 git gc", 1, "ionice with a class"),
    ("sudo -u bob timeout 10 nice git fetch", 1, "wrappers nest"),
    ("ls | xargs git add", 1, "xargs runs its command"),
    ("ls | xargs -0 -n 1 git add", 1, "xargs with options and values"),
    ("ls | xargs -I{} git add {}", 1, "xargs -I with an attached value"),
    ("ls | xargs", 0, "xargs alone runs echo"),
    ("find . -name '*.py' -exec git add {} \\;", 1, "find -exec runs its command"),
    # compound commands
    ("if git diff --quiet; then echo clean; fi", 1, "an if condition"),
    ("if true; then git pull; elif false; then git fetch; else git status; fi", 3, "each branch"),
    ("while git fetch; do git pull; done", 2, "a while condition and its body"),
    ("until git push; do sleep 1; done", 1, "until"),
    ("for r in a b; do git -C $r pull; done", 1, "a for body (counted once, as written)"),
    ("case $x in a) git status;; *) git log;; esac", 2, "case items"),
    ("(cd sub && git status)", 1, "a subshell"),
    ("{ git add x; git commit -m y; }", 2, "a group"),
    ("! git diff --quiet", 1, "negation"),
    ("f() { git status; }", 1, "a function body (counted once, as written)"),
    ("[[ -n $(git status --porcelain) ]] && echo dirty", 1, "a substitution in a test"),
    # substitutions
    ("echo $(git rev-parse HEAD)", 1, "a command substitution runs"),
    ("echo `git rev-parse HEAD`", 1, "backticks too"),
    ('echo "$(git log -1)"', 1, "also within double quotes"),
    ("x=$(git rev-parse HEAD) && echo $x", 1, "in an assignment"),
    ("diff <(git show HEAD:a) a", 1, "a process substitution"),
    ("echo $((1 + $(git log | wc -l)))", 1, "inside arithmetic"),
    ("cat <<EOF\n$(git log -1)\nEOF", 1, "a substitution in an unquoted here-document runs"),
    ("cat <<'EOF'\n$(git log -1)\nEOF", 0, "not in a quoted one"),
    ("bash -c 'git status && git diff'", 2, "bash -c runs its string"),
    ('sh -ec "git fetch"', 1, "sh with -c among other flags"),
    ("eval git status", 1, "eval runs its words"),
]


@pytest.mark.parametrize(("command", "expected", "why"), GIT_CASES, ids=[c[0][:40] for c in GIT_CASES])
def test_git_operations_as_bash_runs_them(command: str, expected: int, why: str) -> None:
    assert count_git_operations(command) == expected, why


def test_git_operations_never_raise_on_random_input() -> None:
    rng = random.Random(1)
    alphabet = ["git", " ", "a", "&", "|", ";", "\n", "<", ">", "'", '"', "$(", "`", "(", ")", "{", "}", "#"]
    alphabet += ["if", "then", "fi", "do", "done", "sudo", "-u", "xargs", "\\", "<<", "EOF", "bash", "-c"]
    for _ in range(3000):
        command = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))
        assert 0 <= count_git_operations(command) <= command.count("git"), repr(command)


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


def test_genai_prices_loads_only_when_a_price_is_not_cached(tmp_path: Path) -> None:
    # Its import takes 0.15-0.3 s and ~28 MiB: folding events (what the live tail does before Claude answers)
    # must not pay it; the first cost of a model does, once; later processes read the price cache.
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
    env = {**os.environ, "CLAUDE_TUI_HOME": str(tmp_path / "home")}
    cache = tmp_path / "home" / "cache" / "genai-prices.json"
    expected_cost = (10 * 4 + 1 * 20) / 1e6  # genai-prices' Opus 5.5 price

    def run() -> list[str]:
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.split("\n")[:2]

    assert run() == ["10 False False", f"{expected_cost} True"]  # a cold cache: genai-prices is imported
    assert "claude-opus-5-5" in json.loads(cache.read_text())["models"]
    assert run() == ["10 False False", f"{expected_cost} False"]  # from the cache: not imported
    cache.write_text("{not json")
    assert run() == ["10 False False", f"{expected_cost} True"]  # a corrupt cache is priced afresh
    data = json.loads(cache.read_text())
    data["key"] = "another genai-prices"
    data["models"]["claude-opus-5-5"] = [[None, {"starts": [], "coefficients": [[1, 1, 1, 1, 1, 1]]}]]
    cache.write_text(json.dumps(data))
    assert run() == ["10 False False", f"{expected_cost} True"]  # another genai-prices' cache is ignored


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


def test_plain_lines_are_counted_without_the_parser_exactly_as_with_it() -> None:
    # Lines of plain words, quotes and list operators skip tree-sitter (all of the benchmark's git
    # commands); on random such lines the shortcut must give the parser's count, or step aside.
    from claude_tui.parsing.gitops import _count, _count_plain

    rng = random.Random(7)
    words = [
        "git",
        "status",
        "sudo",
        "-u",
        "bob",
        "-E",
        "xargs",
        "-n",
        "1",
        "time",
        "nice",
        "env",
        "A=1",
        "echo",
        "command",
        "-v",
        "timeout",
        "10",
        "if",
        "then",
        "fi",
    ]
    words += ["/usr/bin/git", "exec", "nohup", "cd", "x", "-m"]
    quoted = ["'a b'", '"x;y"', "'git'", '"git"', "'it''s'", '"A=1"', "A='1 2'", "'&&'", "'", '"', "g'it'"]
    quoted += ["'fix() $x `y`'", '"(a) {b} <c>"', '"$HOME"', "'a\nb'", '"#x"', "'#'"]
    operators = [" && ", " || ", "; ", " | ", " & ", "\n", " "]
    shortcut = {False: 0, True: 0}
    for _ in range(6000):
        with_quotes = rng.random() < 0.5
        choices = words + quoted if with_quotes else words
        line = "".join(rng.choice(choices) + rng.choice(operators) for _ in range(rng.randint(1, 8)))
        plain = _count_plain(line)
        if plain is not None:
            shortcut[with_quotes] += 1
            assert plain == _count(line.encode(), 0), repr(line)
    assert shortcut[False] > 1000 and shortcut[True] > 200
