"""`claude-tui ui start|stop|status`: the MLflow UI server for the sessions store."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import click

from claude_tui.commands.history import fail, quiet_mlflow, store_options

if TYPE_CHECKING:
    from claude_tui.history.ui_server import UiServer


def _server(tracking_uri: str | None) -> tuple[str, UiServer]:
    from claude_tui.history.query import resolve_tracking_uri
    from claude_tui.history.ui_server import UiServer

    uri = resolve_tracking_uri(tracking_uri)
    return uri, UiServer(uri)


def _port_free(host: str, port: int) -> bool:
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.bind((host, port))
    except OSError:
        return False
    return True


@click.group()
def ui() -> None:
    """Start, stop or query the MLflow UI server for the sessions store."""


@ui.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default: a free one).")
@click.option("--timeout", type=float, default=120.0, show_default=True, help="Seconds to wait for it.")
@store_options
def start(host: str, port: int | None, timeout: float, tracking_uri: str | None, experiment: str) -> None:
    """Start the UI server (or report the one already running) and print its URL."""
    from claude_tui.history.query import HistoryError, RunQuery
    from claude_tui.history.ui_server import UiServerError, is_remote

    uri, server = _server(tracking_uri)
    if is_remote(uri):
        click.echo(f"The tracking store is a server with its own UI: {uri.rstrip('/')}")
        return
    running = server.status()
    if running is not None:
        click.echo(f"MLflow UI already running at {running.url} (pid {running.pid})")
        return
    if port is not None and not _port_free(host, port):
        fail("ui", f"port {port} on {host} is in use")
    quiet_mlflow()
    try:
        experiment_id = RunQuery(uri, experiment).experiment_id()
    except HistoryError as exc:
        fail("ui", str(exc))
    try:
        state = server.start(
            host=host, port=port, timeout=timeout, progress=lambda t: click.echo(t, err=True)
        )
    except (UiServerError, OSError) as exc:
        fail("ui", str(exc))
    click.echo(f"MLflow UI running at {state.url} (pid {state.pid}, log {state.log_path})")
    if experiment_id is not None:
        click.echo(f"Sessions: {state.url}/#/experiments/{experiment_id}")


@ui.command()
@store_options
def stop(tracking_uri: str | None, experiment: str) -> None:
    """Stop the UI server and every process of its group."""
    _, server = _server(tracking_uri)
    state = server.remembered()
    if server.stop():
        click.echo(f"Stopped MLflow UI (process group {state.pgid if state else '?'})")
    else:
        click.echo("MLflow UI is not running")


@ui.command()
@store_options
def status(tracking_uri: str | None, experiment: str) -> None:
    """Print the UI server's URL, or say it is not running (exit status 1)."""
    from claude_tui.history.ui_server import is_remote

    uri, server = _server(tracking_uri)
    if is_remote(uri):
        click.echo(uri.rstrip("/"))
        return
    state = server.status()
    if state is None:
        click.echo("MLflow UI is not running")
        raise SystemExit(1)
    click.echo(state.url)
