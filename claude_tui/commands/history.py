"""`claude-tui history`: open the app on the History tab. Also the options every store command shares."""

from __future__ import annotations

import functools
from typing import Any, NoReturn

import click

from claude_tui.paths import DEFAULT_EXPERIMENT


def store_options(func: Any) -> Any:
    """`--tracking-uri` and `--experiment`, shared by `history`, `ui` and `export`; when not given, the
    settings file's, as for every command (`config.store_choice`)."""
    func = click.option(
        "--experiment",
        default=None,
        help=f"MLflow experiment holding the sessions (default: the settings', else {DEFAULT_EXPERIMENT}).",
    )(func)
    func = click.option(
        "--tracking-uri",
        default=None,
        help="MLflow tracking URI (default: the settings', else $MLFLOW_TRACKING_URI, else embedded).",
    )(func)

    @functools.wraps(func)
    def with_settings(*args: Any, tracking_uri: str | None, experiment: str | None, **kwargs: Any) -> Any:
        from claude_tui.config import ConfigError, store_choice

        try:
            tracking_uri, experiment = store_choice(tracking_uri, experiment)
        except ConfigError as exc:
            fail(click.get_current_context().info_name or "claude-tui", str(exc))
        return func(*args, tracking_uri=tracking_uri, experiment=experiment, **kwargs)

    return with_settings


def fail(command: str, message: str) -> NoReturn:
    """Print `claude-tui <command>: <message>` on one line to stderr and exit with status 2."""
    first = " ".join(str(message).split())
    click.echo(f"claude-tui {command}: {first}", err=True)
    raise SystemExit(2)


def quiet_mlflow() -> None:
    """Keep MLflow's log lines (migrations, SQL, tracebacks) off stderr so errors stay one line."""
    import mlflow  # noqa: F401 - loaded first, so its own logging set-up is not left for a child to copy

    from claude_tui.tracking.errors import silence_store_logging

    silence_store_logging()


def check_store(command: str, tracking_uri: str | None, experiment: str) -> Any:
    """A `RunQuery` for the store, after checking it can be opened; exits 2 with one line if not."""
    from claude_tui.history.query import HistoryError, RunQuery, resolve_tracking_uri

    quiet_mlflow()
    query = RunQuery(resolve_tracking_uri(tracking_uri), experiment)
    try:
        query.experiment_id()
    except HistoryError as exc:
        fail(command, str(exc))
    return query


@click.command()
@store_options
def history(tracking_uri: str | None, experiment: str) -> None:
    """Browse past sessions: the app, opened on its History tab."""
    query = check_store("history", tracking_uri, experiment)
    from claude_tui.app import ClaudeTuiApp

    outcome = ClaudeTuiApp(
        None, tracking_uri=query.tracking_uri, experiment=experiment, initial_tab="history"
    ).run()
    if outcome is not None and (outcome.exit_code is not None or outcome.signal is not None):
        from claude_tui.commands.run import print_outcome

        print_outcome(outcome)  # a session resumed from the History tab (`r`) ended
