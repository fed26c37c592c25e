"""`claude-tui sync`: log every finished or orphaned session spool to MLflow.

One line per spool (logged, completed, or why not), then the run's UI address when there is one. Exit status
0 when every spool was logged (or there was nothing to do), 1 when some failed (their spools stay for the
next sync), 2 for bad input.
"""

from __future__ import annotations

from pathlib import Path

import click


def _ui_base(tracking_uri: str) -> str | None:
    """The UI serving this store: the server itself, or a running `claude-tui ui` for a local store."""
    from claude_tui.tracking.store import ui_base_url

    base = ui_base_url(tracking_uri)
    if base is not None:
        return base
    try:
        from claude_tui.history.ui_server import UiServer

        state = UiServer(tracking_uri).remembered()
    except Exception:  # the UI manager is optional here; no URL is fine
        return None
    return state.url if state is not None else None


def _check_expiring(tracking_uri: str | None, experiment: str, *, quiet: bool) -> None:
    """Look for sessions Claude Code deletes soon that are not in the store (`tracking.expiry`); say so now
    unless quiet (the background sync leaves the notice for the next command to print)."""
    from claude_tui.tracking import expiry
    from claude_tui.tracking.store import resolve_tracking_uri

    try:
        expiry.check(resolve_tracking_uri(tracking_uri), experiment)
    except Exception:  # a store that cannot answer this now is asked again by the next sync
        return
    notice = None if quiet else expiry.take_notice()
    if notice:
        click.echo(notice, err=True)


@click.command()
@click.option(
    "--tracking-uri", help="MLflow tracking URI (default: each spool's own, else the embedded store)."
)
@click.option("--experiment", help="MLflow experiment (default: each spool's own, else claude-sessions).")
@click.option("--orphans-only", is_flag=True, help="Only log sessions whose app was killed or crashed.")
@click.option("--quiet", "-q", is_flag=True, help="Print only failures.")
@click.option(
    "--spool-root",
    type=click.Path(file_okay=False, path_type=Path),
    hidden=True,
    help="Spool folder (default: the data dir's spool/); for tests and the background recovery.",
)
def sync(
    tracking_uri: str | None, experiment: str | None, orphans_only: bool, quiet: bool, spool_root: Path | None
) -> None:
    """Log finished or orphaned session spools to MLflow (one run per session, never two)."""
    if experiment is not None and not experiment.strip():
        raise click.UsageError("--experiment must not be empty")
    from claude_tui.config import ConfigError, store_choice

    try:
        store = store_choice(tracking_uri, experiment)  # an option may not move sessions off a locked store
    except ConfigError as exc:
        click.echo(f"claude-tui sync: {exc}", err=True)
        raise SystemExit(2) from None
    if spool_root is not None and not spool_root.is_dir():
        click.echo(f"error: no spool folder at {spool_root}", err=True)
        raise SystemExit(2)
    from claude_tui.tracking.errors import silence_store_logging
    from claude_tui.tracking.store import run_ui_url
    from claude_tui.tracking.sync import sync_spools

    # MLflow logs migrations, SQL and tracebacks on stderr; our one line per spool says what matters.
    silence_store_logging()

    results = sync_spools(spool_root, tracking_uri, experiment, orphans_only=orphans_only)
    _check_expiring(*store, quiet=quiet or spool_root is not None)
    if not results:
        if not quiet:
            click.echo("nothing to sync")
        return
    failed = recovered = 0
    for result in results:
        if result.ok:
            if quiet and not result.warnings:
                continue
            click.echo(f"ok   {result.session_id}: {result.message}")
        else:
            failed += not result.recovered
            recovered += result.recovered
            click.echo(f"FAIL {result.session_id}: {result.message}")
        for warning in result.warnings:
            click.echo(f"warn {result.session_id}: {warning}")
        base = _ui_base(result.tracking_uri or "") if result.run_id else None
        if base and result.experiment_id and result.run_id:
            click.echo(f"     {run_ui_url(base, result.experiment_id, result.run_id)}")
    if recovered:
        click.echo(
            f"{recovered} spool(s) had an unreadable meta.json: logged from what was left, as KILLED runs"
        )
    if failed:
        click.echo(
            f"{failed} of {len(results)} spool(s) not logged; they are kept: run `claude-tui sync` again"
        )
    if failed or recovered:
        raise SystemExit(1)
