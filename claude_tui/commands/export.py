"""`claude-tui export --format csv|json [--filter EXPR] [--group-by KEY[,KEY]] [--output FILE]`: sessions, or
their roll-ups, for other tools."""

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
@click.option(
    "--group-by",
    metavar="KEY[,KEY]",
    help="Roll-ups instead of sessions: sessions, failures, errors, tokens, cost and time per group of "
    "user, repository, branch, issue, day or week.",
)
@store_options
def export(
    fmt: str,
    filter_string: str,
    group_by: str | None,
    output: Path | None,
    tracking_uri: str | None,
    experiment: str,
) -> None:
    """Every logged session with its params, metrics and tags, or their roll-ups, as CSV or JSON."""
    from claude_tui.history.export import collect_rows, write_rows
    from claude_tui.history.query import HistoryError
    from claude_tui.history.rollup import COLUMNS, RollupError, parse_keys, rollup

    keys: list[str] | None = None
    if group_by is not None:
        try:
            keys = parse_keys(group_by)
        except RollupError as exc:
            fail("export", f"--group-by: {exc}")
    query = check_store("export", tracking_uri, experiment)
    columns: list[str] | None = None
    try:
        if keys is None:
            rows = collect_rows(query, filter_string)
        else:
            rows = [row.as_dict(keys) for row in rollup(query.iter_runs(filter_string), keys)]
            columns = [*keys, *COLUMNS]
    except HistoryError as exc:
        fail("export", str(exc))
    # Build the text first: a bad filter or store error must not leave a half-written file behind.
    buffer = io.StringIO()
    write_rows(rows, buffer, fmt, columns)
    if output is None:
        sys.stdout.write(buffer.getvalue())
        return
    try:
        output.write_text(buffer.getvalue(), encoding="utf-8")
    except OSError as exc:
        fail("export", f"cannot write {output}: {exc.strerror or exc}")
    what = "sessions" if keys is None else f"groups by {', '.join(keys)}"
    click.echo(f"Exported {len(rows)} {what} to {output}", err=True)
