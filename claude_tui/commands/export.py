"""`claude-tui export --format csv|json [--filter EXPR] [--output FILE]`: sessions for other tools."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import click

from claude_tui.commands.history import check_store, fail, store_options


@click.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option(
    "--filter", "filter_string", default="", help='MLflow search filter, e.g. "metrics.success = 0".'
)
@click.option(
    "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="File (default: stdout)."
)
@store_options
def export(
    fmt: str, filter_string: str, output: Path | None, tracking_uri: str | None, experiment: str
) -> None:
    """Every logged session with its params, metrics and tags, as CSV or JSON."""
    from claude_tui.history.export import collect_rows, write_rows
    from claude_tui.history.query import HistoryError

    query = check_store("export", tracking_uri, experiment)
    try:
        rows = collect_rows(query, filter_string)
    except HistoryError as exc:
        fail("export", str(exc))
    # Build the text first: a bad filter or store error must not leave a half-written file behind.
    buffer = io.StringIO()
    write_rows(rows, buffer, fmt)
    if output is None:
        sys.stdout.write(buffer.getvalue())
        return
    try:
        output.write_text(buffer.getvalue(), encoding="utf-8")
    except OSError as exc:
        fail("export", f"cannot write {output}: {exc.strerror or exc}")
    click.echo(f"Exported {len(rows)} sessions to {output}", err=True)
