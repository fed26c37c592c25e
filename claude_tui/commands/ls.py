"""`claude-tui ls [--json]`: the sessions the owner runs (and those that ended within the hour)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import click


def owned_sessions() -> list[dict[str, Any]]:
    """Every session of every owner of this data dir (this version's first); none when no owner runs.

    An owner of another claude-tui version (after an upgrade) is listed too: `list` is one of the requests
    every version answers. Each session gets `owner_version` and `owner_pid`.
    """
    from claude_tui.owner.client import OwnerClient, OwnerError, OwnerNotRunning
    from claude_tui.owner.protocol import owner_sockets

    found: list[dict[str, Any]] = []
    for path in owner_sockets():
        try:
            with OwnerClient.connect(path, timeout=5.0) as client:
                sessions = client.list_sessions()
                version, pid = client.version, client.pid
        except (OwnerNotRunning, OwnerError, OSError):
            continue  # a stale socket file, or an owner that is stopping
        for session in sessions:
            found.append({**session, "owner_version": version, "owner_pid": pid})
    return found


def _when(epoch: Any) -> str | None:
    if not isinstance(epoch, (int, float)):
        return None
    return datetime.fromtimestamp(epoch, UTC).astimezone().isoformat(timespec="seconds")


def as_json(session: dict[str, Any]) -> dict[str, Any]:
    """One session as `ls --json` prints it."""
    counts = session.get("counts") or {}
    return {
        "id": session.get("id"),
        "state": session.get("state"),
        "cwd": session.get("cwd"),
        "command": session.get("command"),
        "title": session.get("title"),
        "branch": session.get("branch"),
        "started": _when(session.get("started_at")),
        "ended": _when(session.get("ended_at")),
        "pid": session.get("pid"),
        "exit_code": session.get("exit_code"),
        "signal": session.get("signal"),
        "clients": session.get("clients"),
        "tool_uses": counts.get("tool_uses"),
        "errors_encountered": counts.get("errors_encountered"),
        "commands_executed": counts.get("commands_executed"),
        "cost_usd": counts.get("cost_usd"),
        "run_id": session.get("run_id"),
        "error": session.get("error"),
        "owner_version": session.get("owner_version"),
        "owner_pid": session.get("owner_pid"),
    }


def _row(session: dict[str, Any]) -> list[str]:
    counts = session.get("counts") or {}
    started = session.get("started_at")
    when = time.strftime("%H:%M:%S", time.localtime(started)) if isinstance(started, (int, float)) else "?"
    cost = counts.get("cost_usd")
    return [
        str(session.get("id", ""))[:8],
        str(session.get("state", "")),
        when,
        str(counts.get("tool_uses") or 0),
        str(counts.get("errors_encountered") or 0),
        f"${cost:.2f}" if isinstance(cost, (int, float)) else "-",
        str(session.get("cwd") or ""),
        str(session.get("title") or ""),
    ]


@click.command(name="ls")
@click.option("--json", "as_json_output", is_flag=True, help="One JSON array of sessions.")
def ls(as_json_output: bool) -> None:
    """List the sessions the owner runs (and those ended within the hour): id, state, start, counts, dir."""
    sessions = owned_sessions()
    if as_json_output:
        click.echo(json.dumps([as_json(s) for s in sessions], indent=2))
        return
    if not sessions:
        click.echo("No sessions. `claude-tui` starts one; `claude-tui --detach` starts one without a window.")
        return
    header = ["ID", "STATE", "STARTED", "TOOLS", "ERRORS", "COST", "WORK DIR", "TITLE"]
    rows = [header, *(_row(s) for s in sessions)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    from claude_tui import __version__

    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]).rstrip())
    older = sorted({str(s["owner_version"]) for s in sessions if s.get("owner_version") != __version__})
    if older:
        click.echo(
            f"Sessions of claude-tui {', '.join(older)} run under that version's owner until they end."
        )
