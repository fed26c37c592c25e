"""`claude-tui import [PATH ...] [--all] [--since DATE] [--project DIR] [--dry-run]`: backfill MLflow.

Turns the sessions Claude Code already wrote (`~/.claude/projects/...`) into the runs a tracked session gives
(tags with `source=import`, params, metrics, transcript artifacts and the trace; no recording). Safe to run
again at any time, from cron too: sessions already in the store are skipped. On a terminal a progress bar
(sessions done, per second, ETA) runs on stderr; otherwise one line per session. A summary ends the output.
Exit status 0 when nothing failed, 1 when some transcripts failed (each is reported), 2 for bad usage.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import click


def _skip_key(reason: str) -> str:
    if reason.startswith("same session as "):
        return "same session as another file"
    if reason.startswith("may still be running"):
        return "may still be running"
    return reason.split(" (")[0]


@click.command("import")
@click.argument("paths", nargs=-1, metavar="[PATH ...]")
@click.option(
    "--all", "all_sessions", is_flag=True, help="Every session under $CLAUDE_CONFIG_DIR (else ~/.claude)."
)
@click.option(
    "--since",
    metavar="DATE",
    help="Only sessions active since DATE: 2026-11-01, 2026-11-01T09:30 (local time) or an age: 7d, 12h.",
)
@click.option(
    "--project",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=str),
    help="Only sessions started in DIR; with no PATH, DIR's sessions in $CLAUDE_CONFIG_DIR (else ~/.claude).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be imported; log nothing.")
@click.option(
    "--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else the embedded store)."
)
@click.option("--experiment", help="MLflow experiment (default: claude-sessions).")
@click.option(
    "--min-age",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Skip transcripts written to in the last SECONDS (they may still be running; default 60).",
)
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Parsing processes (default: CPUs).")
@click.option(
    "--quiet", "-q", is_flag=True, help="No progress or per-session lines; failures and summary only."
)
def import_sessions(
    paths: tuple[str, ...],
    all_sessions: bool,
    since: str | None,
    project: str | None,
    dry_run: bool,
    tracking_uri: str | None,
    experiment: str | None,
    min_age: float | None,
    jobs: int | None,
    quiet: bool,
) -> None:
    """Import the sessions Claude Code already has on disk as MLflow runs.

    PATH is a transcript (<session>.jsonl), a project folder (projects/<dir>) or a Claude config dir; with
    --project DIR alone, the sessions started in DIR. Sessions already in the store (tracked live or
    imported before) are skipped, so this can run again any time.
    """
    from claude_tui.config import ConfigError, load_settings, store_choice
    from claude_tui.tracking import importer

    if not paths and not all_sessions and project is None:
        _usage("give a PATH (transcript, project folder or config dir), --project DIR or --all")
    if experiment is not None and not experiment.strip():
        _usage("--experiment must not be empty")
    try:
        tracking_uri, experiment = store_choice(tracking_uri, experiment)
        if not dry_run:
            load_settings().check_tags({})
    except ConfigError as exc:
        _usage(str(exc))
    since_ts: float | None = None
    if since is not None:
        try:
            since_ts = importer.parse_since(since)
        except importer.ImportInputError as exc:
            _usage(str(exc))
    try:
        files = importer.discover_transcripts(paths, all_sessions=all_sessions, project=project)
    except importer.ImportInputError as exc:
        _usage(str(exc))
    if not files:
        if paths:
            where = "under " + ", ".join(paths)
        elif all_sessions:
            where = "under the Claude config dir"
        else:
            where = f"of {project} in the Claude config dir"
        click.echo(f"nothing to import: no transcripts {where}")
        return

    from claude_tui.tracking.errors import silence_store_logging

    # MLflow logs migrations, SQL and tracebacks on stderr; each failure gets one line here instead.
    silence_store_logging()

    bar_wanted = not quiet and sys.stderr.isatty()
    lines_wanted = not quiet and not bar_wanted
    state: dict[str, Any] = {"bar": None}

    def progress(outcome: importer.SessionOutcome, done: int, total: int) -> None:
        if lines_wanted and outcome.kind != "filtered":
            click.echo(importer.outcome_line(outcome, dry_run))
        bar = state["bar"]
        if bar is None and bar_wanted:
            bar = click.progressbar(
                length=total,
                label="importing" if not dry_run else "checking",
                show_eta=True,
                show_pos=True,
                file=sys.stderr,
                item_show_func=lambda _: state.get("rate"),
            )
            bar.__enter__()
            bar.update(done - 1)
            state["bar"] = bar
        if bar is not None:
            import time

            started = state.setdefault("started", time.monotonic())
            elapsed = time.monotonic() - started
            state["rate"] = f"{done / elapsed:.1f} sessions/s" if elapsed > 0 and done > 1 else None
            bar.update(1)

    try:
        summary = importer.import_sessions(
            files,
            since=since_ts,
            project=project,
            dry_run=dry_run,
            tracking_uri=tracking_uri,
            experiment=experiment,
            min_age=importer.DEFAULT_MIN_AGE if min_age is None else min_age,
            jobs=jobs,
            progress=progress,
        )
    except importer.ImportInputError as exc:
        _usage(str(exc))
    except importer.ImportStoreError as exc:
        click.echo(f"claude-tui import: {exc}", err=True)
        raise SystemExit(1) from None
    finally:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)
    if not dry_run:
        from claude_tui.tracking.expiry import clear_pending

        clear_pending()  # what it named is in the store now, or is named again by the next check
    if not lines_wanted:
        for outcome in summary.failed:
            click.echo(importer.outcome_line(outcome, dry_run))
    skipped = Counter(_skip_key(o.reason) for o in summary.skipped)
    if skipped:
        click.echo("skipped: " + ", ".join(f"{count} {key}" for key, count in skipped.most_common()))
    click.echo(f"{summary.counts_line()} into {summary.experiment} at {summary.tracking_uri}")
    if summary.failed:
        raise SystemExit(1)


def _usage(message: str) -> Any:
    """A one-line message on stderr and exit status 2 (bad usage)."""
    click.echo(f"claude-tui import: {message}", err=True)
    raise SystemExit(2)
