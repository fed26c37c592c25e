"""The parser on what the real CLI wrote (tests/data/): transcripts and an interactive PTY stream."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from claude_tui.parsing import ScreenParser, SessionStats, TranscriptTail, stats_for_transcript
from claude_tui.parsing.events import ToolCall, ToolResult, UserPrompt
from claude_tui.scenarios import load_scenario

DATA = Path(__file__).resolve().parents[2] / "data"
MANIFEST = json.loads((DATA / "manifest.json").read_text())
SCENARIOS = sorted(MANIFEST["transcripts"])


def main_transcript(folder: Path) -> Path:
    return next(p for p in sorted(folder.rglob("*.jsonl")) if p.parent.name != "subagents")


def cost_state_totals(path: Path) -> tuple[int, ...]:
    totals: tuple[int, ...] = (0, 0, 0, 0)
    keys = ("inputTokens", "outputTokens", "cacheReadInputTokens", "cacheCreationInputTokens")
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record.get("type") == "cost-state":
            totals = tuple(sum(int(u.get(k) or 0) for u in record["modelUsage"].values()) for k in keys)
    return totals


@pytest.mark.parametrize("name", SCENARIOS)
def test_recorded_transcript_counts(name: str) -> None:
    info = MANIFEST["transcripts"][name]
    path = main_transcript(DATA / "transcripts" / name)
    scenario = load_scenario(name)
    blocks = [b for turn in scenario["turns"] for step in turn["steps"] for b in step if "tool" in b]
    stats = stats_for_transcript(path)
    assert stats.tool_uses == len(blocks)
    assert stats.commands_executed == sum(1 for b in blocks if b["tool"] == "Bash")
    assert stats.user_prompts == len(info["prompts"])
    assert stats.first_prompt == info["prompts"][0]
    assert stats.meta.session_id == info["session_id"]
    assert stats.meta.cwd == info["work_dir"]
    totals = (stats.input_tokens, stats.output_tokens, stats.cache_read_tokens, stats.cache_creation_tokens)
    assert totals == cost_state_totals(path)
    assert stats.malformed_lines == 0


def _fold_progressively(data: bytes, cuts: list[int], tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "grow.jsonl"
    path.write_bytes(b"")
    tail = TranscriptTail(path, follow_subagents=False)
    stats = SessionStats()
    start = 0
    for cut in [*cuts, len(data)]:
        with path.open("ab") as handle:
            handle.write(data[start:cut])
        start = cut
        for event in tail.poll():
            stats.apply(event)
    for event in tail.poll(final=True):
        stats.apply(event)
    stats.malformed_lines = tail.malformed_lines
    return stats.to_dict()


@pytest.mark.parametrize("name", SCENARIOS)
def test_line_by_line_random_chunks_and_whole_file_agree(name: str, tmp_path: Path) -> None:
    data = main_transcript(DATA / "transcripts" / name).read_bytes()
    whole = stats_for_transcript(_copy(data, tmp_path / "whole.jsonl"), follow_subagents=False).to_dict()
    line_ends = [i + 1 for i, byte in enumerate(data) if byte == 0x0A][:-1]
    rng = random.Random(name)
    random_cuts = sorted(rng.sample(range(1, len(data)), 200))
    assert _fold_progressively(data, line_ends, tmp_path) == whole
    assert _fold_progressively(data, random_cuts, tmp_path) == whole
    assert whole["tool_uses"] > 0


def _copy(data: bytes, path: Path) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("chunk", [64, 512, 4096])
def test_screen_parser_on_the_recorded_interactive_stream(chunk: int) -> None:
    from claude_tui.terminal import TerminalEmulator

    info = MANIFEST["streams"]["claude_interactive"]
    data = (DATA / "streams" / "claude_interactive.bin").read_bytes()
    emulator = TerminalEmulator(cols=info["cols"], rows=info["rows"])
    parser = ScreenParser()
    events = []
    for start in range(0, len(data), chunk):
        emulator.feed(data[start : start + chunk])
        events.extend(parser.feed(emulator.history_lines() + emulator.display))
    events.extend(parser.flush())

    transcript = main_transcript(DATA / "streams" / "claude_interactive")
    stats = stats_for_transcript(transcript)
    real_bash = [
        e.input["command"]
        for e in TranscriptTail(transcript).poll(final=True)
        if isinstance(e, ToolCall) and e.name == "Bash" and not e.sidechain
    ]
    seen_bash = [e.input["command"] for e in events if isinstance(e, ToolCall) and e.name == "Bash"]
    # Every `● Bash(` line is a real call, in order, each once; the read-only `cat CHANGELOG.md` is collapsed
    # into "Read 1 file · 1 failed" and has no line; the sub-agent's calls run in the background, unseen.
    assert seen_bash == [c for c in real_bash if not c.startswith("cat ")]
    assert [e.text for e in events if isinstance(e, UserPrompt)] == info["prompts"]
    errors = [e for e in events if isinstance(e, ToolResult) and e.is_error]
    assert len(errors) == stats.errors_encountered == 1


_ODD_VALUES: list[Any] = [None, True, 0, -1, 2**70, 1.5, "", "x", [], [None], {}, {"type": "text"}, [1, "a"]]


def _mutate(value: Any, rng: random.Random, depth: int = 0) -> Any:
    """Replace random parts of a record with values of the wrong type."""
    if rng.random() < 0.08 or depth > 6:
        return rng.choice(_ODD_VALUES)
    if isinstance(value, dict):
        return {k: _mutate(v, rng, depth + 1) for k, v in value.items() if rng.random() > 0.03}
    if isinstance(value, list):
        return [_mutate(v, rng, depth + 1) for v in value]
    return value


@pytest.mark.parametrize("seed", range(6))
def test_records_of_the_wrong_shape_never_raise(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    lines = main_transcript(DATA / "transcripts" / SCENARIOS[seed % len(SCENARIOS)]).read_text().splitlines()
    mutated = [json.dumps(_mutate(json.loads(line), rng), separators=(",", ":")) for line in lines]
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(mutated) + "\n")
    tail = TranscriptTail(path)
    stats = SessionStats()
    for event in tail.poll(final=True):
        stats.apply(event)
    stats.malformed_lines = tail.malformed_lines
    data = stats.to_dict()
    json.dumps(data)  # still serialisable
    assert data == stats_for_transcript(path).to_dict()
    assert data["tool_uses"] == sum(data["tool_uses_by_name"].values())


@pytest.mark.parametrize(("block_bytes", "max_blocks"), [(13, 10**6), (97, 3), (4096, 1)])
def test_small_read_blocks_give_the_same_stats(
    block_bytes: int, max_blocks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Big files are read in bounded blocks, a bounded number per poll: block edges fall inside lines, lines
    # are longer than a block, and a whole-file read takes many polls.
    path = main_transcript(DATA / "transcripts" / "realistic")
    expected = stats_for_transcript(path).to_dict()
    monkeypatch.setattr("claude_tui.parsing.transcript.BLOCK_BYTES", block_bytes)
    monkeypatch.setattr("claude_tui.parsing.transcript.MAX_BLOCKS_PER_POLL", max_blocks)
    assert stats_for_transcript(path).to_dict() == expected
