"""`claude-tui stats PATH... [--json]`: exact stats of Claude Code transcripts.

PATH is a transcript file (`<session-id>.jsonl`); a folder (every `*.jsonl` under it, or under its
`projects/` when it is a Claude config dir; sub-agent files are folded into their session); or a session id
(looked up as `projects/*/<id>.jsonl` under `$CLAUDE_CONFIG_DIR`, else `~/.claude`). The default output is a
table; `--json` prints one JSON list with one object per session (the keys of `SessionStats.to_dict()` plus
`path`; schema in docs/parsing.md). A missing or unreadable path is a one-line error and exit status 2;
malformed lines are counted (`malformed_lines`), not fatal.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

import click

PARALLEL_MIN_BYTES = 8 << 20
"""Below this many bytes of transcripts, one process is faster than starting a pool."""


class StatsInputError(Exception):
    """A PATH argument that names no readable transcript."""


def resolve_transcripts(args: Iterable[str]) -> list[Path]:
    """The transcript files the PATH arguments name, in order, each once.

    Raises:
        StatsInputError: an argument is neither a readable file, a folder holding transcripts, nor a known
            session id.
    """
    from claude_tui import claude_code

    found: list[Path] = []
    for arg in args:
        path = Path(arg).expanduser()
        if path.is_dir():
            files = claude_code.session_transcripts(path)
            if not files:
                raise StatsInputError(f"no transcripts (*.jsonl) under {arg}")
            found.extend(files)
        elif path.exists():
            if not os.access(path, os.R_OK) or not path.is_file():
                raise StatsInputError(f"cannot read {arg}")
            found.append(path)
        elif "/" not in arg and not arg.endswith(".jsonl") and arg.strip():
            config = claude_code.config_dir()
            transcript = claude_code.find_transcript(config, arg)
            if transcript is None:
                raise StatsInputError(
                    f"no such file, and no session {arg!r} under {config / claude_code.PROJECTS}"
                )
            found.append(transcript)
        else:
            raise StatsInputError(f"no such file: {arg}")
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path.resolve(), None)
    return list(unique)


MESSAGES_KEY = "_messages"
"""Where `session_stats(..., messages=True)` puts the per-message usage (never printed)."""

USAGES_KEY = "_usages"
"""Where `session_stats(..., price=False)` puts the messages to price (never printed)."""


def session_stats(path: Path, messages: bool = False, price: bool = True) -> dict[str, Any]:
    """`to_dict()` of one transcript, with its `path` first (and its per-message usage when asked).

    `price=False` (in the pool's workers) prices from the price cache only, and leaves the sessions of a
    model it does not hold to `add_costs` in the parent, so that only one process loads genai-prices.
    """
    from claude_tui.parsing import stats_for_transcript

    stats = stats_for_transcript(path)
    result = {"path": str(path), **stats.to_dict(price=price)}
    if messages:
        result[MESSAGES_KEY] = stats.usage_by_message()
    if not price:
        from claude_tui.parsing.prices import price_rows, usage_row

        rows = [usage_row(usage) for usage in stats.message_usages()]
        costing = price_rows(rows, library=False)
        if costing is None:
            result[USAGES_KEY] = rows
        else:
            result["cost_usd"] = costing.cost_usd
            result["unpriced_models"] = list(costing.unpriced_models)
    return result


def add_costs(results: list[dict[str, Any]]) -> None:
    """Price the sessions `session_stats(..., price=False)` left unpriced (in place)."""
    from claude_tui.parsing.prices import price_rows

    for result in results:
        rows = result.pop(USAGES_KEY, None)
        if rows is not None:
            costing = price_rows(rows)
            result["cost_usd"] = costing.cost_usd
            result["unpriced_models"] = list(costing.unpriced_models)


def billed_tokens(all_stats: list[dict[str, Any]]) -> tuple[int, ...]:
    """Token totals over sessions counting each API message once (a fork repeats its parent's messages)."""
    merged: dict[Any, tuple[int, ...]] = {}
    for stats in all_stats:
        for key, usage in stats.get(MESSAGES_KEY, {}).items():
            old = merged.get(key)
            merged[key] = usage if old is None else tuple(max(a, b) for a, b in zip(old, usage, strict=True))
    return tuple(sum(u[i] for u in merged.values()) for i in range(4))


def collect(paths: list[Path], jobs: int | None = None, messages: bool = False) -> list[dict[str, Any]]:
    """Stats of every transcript, in order; a process pool when there is enough to parse."""
    import claude_tui.parsing  # noqa: F401 - imported once here, so forked workers start with it loaded
    from claude_tui.parsing import prices

    if jobs is None:
        jobs = os.cpu_count() or 1
    total = 0
    for path in paths:
        try:
            total += path.stat().st_size
        except OSError:
            pass
    if jobs <= 1 or len(paths) < 2 or total < PARALLEL_MIN_BYTES:
        return [session_stats(path, messages) for path in paths]
    from concurrent.futures import ProcessPoolExecutor  # only here: its import costs more than a small file

    prices.read_cache()  # before the workers fork: they price from it; what it lacks, the parent prices below
    chunksize = max(1, len(paths) // (jobs * 8))
    with ProcessPoolExecutor(max_workers=min(jobs, len(paths))) as pool:
        results = list(
            pool.map(partial(session_stats, messages=messages, price=False), paths, chunksize=chunksize)
        )
    add_costs(results)
    return results


def _fmt_int(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _cost(value: Any) -> str:
    return "unknown" if value is None else f"${value:.4f}"


def _cost_cell(stats: dict[str, Any]) -> str:
    """The cost, or why it is unknown: the models genai-prices has no price for."""
    unpriced = stats.get("unpriced_models") or []
    if stats.get("cost_usd") is None and unpriced:
        return f"unknown: no price for {', '.join(unpriced)}"
    return _cost(stats.get("cost_usd"))


def _unknown_cell(stats: dict[str, Any]) -> str:
    by_type = stats.get("unknown_records_by_type") or {}
    if not by_type:
        return "0"
    return f"{_fmt_int(stats['unknown_records'])} ({_by_type(by_type)})"


def _by_type(counts: dict[str, int]) -> str:
    return ", ".join(
        f"{name} {count:,}" for name, count in sorted(counts.items(), key=lambda x: (-x[1], x[0]))
    )


def unknown_records_note(all_stats: list[dict[str, Any]]) -> str | None:
    """One line naming the record types no stat counts (a newer transcript format), with counts, or None."""
    counts: dict[str, int] = {}
    for stats in all_stats:
        for name, count in (stats.get("unknown_records_by_type") or {}).items():
            counts[name] = counts.get(name, 0) + count
    if not counts:
        return None
    total = sum(counts.values())
    return f"note: {total:,} record(s) of a type or shape this version does not read: {_by_type(counts)}"


def unpriced_note(all_stats: list[dict[str, Any]]) -> str | None:
    """One line naming the models without a price and how many sessions used them, or None."""
    sessions: dict[str, int] = {}
    for stats in all_stats:
        for model in stats.get("unpriced_models") or []:
            sessions[model] = sessions.get(model, 0) + 1
    if not sessions:
        return None
    named = ", ".join(
        f"{model} ({count} session{'s' if count > 1 else ''})" for model, count in sorted(sessions.items())
    )
    return f"no price for: {named}; their sessions' cost is unknown"


def format_one(stats: dict[str, Any]) -> str:
    """A two-column table of one session."""
    by_name = ", ".join(f"{name} {count}" for name, count in stats["tool_uses_by_name"].items()) or "-"
    rows = [
        ("session", stats["session_id"] or "-"),
        ("path", stats["path"]),
        ("model", stats["model"] or "-"),
        ("claude version", stats["claude_version"] or "-"),
        ("cwd", stats["cwd"] or "-"),
        ("git branch", stats["git_branch"] or "-"),
        ("permission mode", stats["permission_mode"] or "-"),
        (
            "first prompt",
            (stats["first_prompt"] or "-").splitlines()[0][:80] if stats["first_prompt"] else "-",
        ),
        ("procedure / issue", f"{stats['procedure_name'] or '-'} / {stats['issue_number'] or '-'}"),
        ("user prompts", _fmt_int(stats["user_prompts"])),
        ("turns", _fmt_int(stats["turns"])),
        ("active seconds", f"{stats['active_seconds']:.1f}"),
        ("tool uses", f"{_fmt_int(stats['tool_uses'])} ({by_name})"),
        ("sub-agent tool uses", _fmt_int(stats["subagent_tool_uses"])),
        ("commands executed", _fmt_int(stats["commands_executed"])),
        ("git operations", _fmt_int(stats["git_operations"])),
        ("errors encountered", _fmt_int(stats["errors_encountered"])),
        ("last error", stats["last_error"] or "-"),
        ("files read / modified", f"{stats['files_read']} / {stats['files_modified']}"),
        ("input tokens", _fmt_int(stats["input_tokens"])),
        ("output tokens", _fmt_int(stats["output_tokens"])),
        ("cache read tokens", _fmt_int(stats["cache_read_tokens"])),
        ("cache creation tokens", _fmt_int(stats["cache_creation_tokens"])),
        ("models", ", ".join(stats["models"]) or "-"),
        ("cost", _cost_cell(stats)),
        ("malformed lines", _fmt_int(stats["malformed_lines"])),
        ("unknown records", _unknown_cell(stats)),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


_COLUMNS = (
    ("session", "session_id"),
    ("prompts", "user_prompts"),
    ("tools", "tool_uses"),
    ("cmds", "commands_executed"),
    ("git", "git_operations"),
    ("errors", "errors_encountered"),
    ("in tok", "input_tokens"),
    ("out tok", "output_tokens"),
    ("cache rd", "cache_read_tokens"),
    ("cache wr", "cache_creation_tokens"),
    ("cost", "cost_usd"),
    ("bad", "malformed_lines"),
)


_TOKEN_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens")


def format_many(all_stats: list[dict[str, Any]]) -> str:
    """One row per session and a total row."""

    def cell(stats: dict[str, Any], key: str) -> str:
        value = stats.get(key)
        if key == "session_id":
            return (value or Path(stats["path"]).stem)[:36]
        if key == "cost_usd":
            return _cost(value)
        return _fmt_int(value)

    rows = [[cell(stats, key) for _, key in _COLUMNS] for stats in all_stats]
    totals: list[str] = [f"total ({len(all_stats)} sessions)"]
    for _, key in _COLUMNS[1:]:
        values = [stats.get(key) for stats in all_stats]
        if key == "cost_usd":
            totals.append(_cost(None if any(v is None for v in values) else sum(values)))
        else:
            totals.append(_fmt_int(sum(v for v in values if isinstance(v, int))))
    rows.append(totals)
    billed = billed_tokens(all_stats)
    footer = [""] * len(_COLUMNS)
    footer[0] = "each API message once"
    for index, (_, key) in enumerate(_COLUMNS):
        if key in _TOKEN_KEYS:
            footer[index] = _fmt_int(billed[_TOKEN_KEYS.index(key)])
    header = [name for name, _ in _COLUMNS]
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [line(header), line(["-" * w for w in widths])]
    out.extend(line(row) for row in rows[:-1])
    out.append(line(["-" * w for w in widths]))
    out.append(line(rows[-1]))
    summed = tuple(sum(stats[key] for stats in all_stats) for key in _TOKEN_KEYS)
    if any(MESSAGES_KEY in stats for stats in all_stats) and billed != summed:
        out.append(line(footer))  # differs when forked sessions repeat their parent's messages
    note = unpriced_note(all_stats)
    if note:
        out.append(note)
    return "\n".join(out)


@click.command("stats")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one object per session.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for many transcripts (default: CPU count).",
)
def stats(paths: tuple[str, ...], as_json: bool, jobs: int | None) -> None:
    """Exact stats of Claude Code transcripts.

    PATH is a transcript file, a folder of transcripts, or a session id (looked up under $CLAUDE_CONFIG_DIR or
    ~/.claude). Malformed lines are counted and reported, not fatal.
    """
    try:
        files = resolve_transcripts(paths)
    except StatsInputError as exc:
        click.echo(f"claude-tui stats: {exc}", err=True)
        sys.exit(2)
    results = collect(files, jobs, messages=not as_json and len(files) > 1)
    if as_json:
        import orjson

        sys.stdout.buffer.write(orjson.dumps(results) + b"\n")
        sys.stdout.flush()
        return
    if len(results) == 1:
        click.echo(format_one(results[0]))
    else:
        click.echo(format_many(results))
    malformed = sum(r["malformed_lines"] for r in results)
    if malformed:
        click.echo(f"note: {malformed} malformed line(s) skipped", err=True)
    unknown = unknown_records_note(results)
    if unknown:
        click.echo(unknown, err=True)
