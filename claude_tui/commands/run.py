"""`claude-tui [OPTIONS] [PROMPT] [-- CLAUDE_ARGS...]`: a tracked session in the terminal pane."""

from __future__ import annotations

import gc
import os
import sys
import threading
from pathlib import Path
from typing import Any, NoReturn

import click

from claude_tui.config import Alert, ConfigError, load_settings
from claude_tui.paths import own_command
from claude_tui.prespawn import claim, pane_size
from claude_tui.session import ProgramNotFound, SessionConfig, SessionResult


def parse_tags(values: tuple[str, ...]) -> dict[str, str]:
    """`("team=core", "kind=fix")` -> `{"team": "core", "kind": "fix"}`; a value without `=` is an error,
    and so is a key or value MLflow would refuse (`tracking.limits`): checked now, not when logging fails."""
    from claude_tui.tracking.limits import TAG_VALUE_MAX, key_problem

    tags: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            usage_error(f"--tag: {item!r} is not KEY=VALUE")
        key = key.strip()
        problem = key_problem(key)
        if problem is not None:
            usage_error(f"--tag: {problem}")
        if len(value) > TAG_VALUE_MAX:
            usage_error(
                f"--tag {key}: the value is {len(value)} characters long; MLflow allows {TAG_VALUE_MAX}"
            )
        tags[key] = value
    return tags


def usage_error(message: str) -> NoReturn:
    """`claude-tui: <message>` on one line to stderr, exit status 2 (a program spawned early is ended)."""
    click.echo(f"claude-tui: {message}", err=True)
    sys.exit(2)


def session_options(func: Any) -> Any:
    """The options shared by `run` and `demo`."""
    options = [
        click.option(
            "--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else embedded)."
        ),
        click.option("--experiment", help="MLflow experiment (default: claude-sessions)."),
        click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Tag the run (repeatable)."),
        click.option("--alert", "alerts", multiple=True, metavar="EXPR", help="Notify when e.g. errors>=3."),
        click.option("--no-track", is_flag=True, help="Run without recording or logging anything."),
        click.option("--no-redact", is_flag=True, help="Log secrets as they are (default: masked)."),
        click.option(
            "--notify-command",
            metavar="CMD",
            help="Run CMD (sh -c) when Claude waits for you; $CLAUDE_TUI_REASON says why.",
        ),
        click.option(
            "--no-notify", is_flag=True, help="No bell or desktop notification when Claude waits for you."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def build_config(
    *,
    command: str,
    prompt: str | None,
    claude_args: list[str],
    cwd: Path,
    tracking_uri: str | None,
    experiment: str | None,
    tags: tuple[str, ...],
    alerts: tuple[str, ...],
    no_track: bool,
    no_redact: bool,
    issue: str | None = None,
    procedure: str | None = None,
    env: dict[str, str] | None = None,
    config_dir: Path | None = None,
    worktree: str | None = None,
    notify_command: str | None = None,
    no_notify: bool = False,
) -> SessionConfig:
    """Merge the settings file and the command line into a `SessionConfig` (errors as `click` errors).

    `worktree` (`--worktree [BRANCH]`: the branch, or "" for a new one named after the prompt) makes the
    session's git worktree now; when that fails the reason is printed in one line and the exit status is 2.
    """
    try:
        settings = load_settings()
        alert_list = [*settings.alerts, *(Alert.parse(a) for a in alerts)]
        settings.check_option("tracking_uri", tracking_uri, "--tracking-uri")
        settings.check_option("experiment", experiment, "--experiment")
        settings.check_option("redact", False if no_redact else None, "--no-redact")
        tag_values = parse_tags(tags)
        if not no_track:
            settings.check_tags(tag_values)
    except ConfigError as exc:
        usage_error(str(exc))
    from claude_tui.tracking.limits import PARAM_VALUE_MAX, experiment_problem

    if experiment is not None and experiment_problem(experiment):
        usage_error(f"--experiment: {experiment_problem(experiment)}")
    for option, value in (("--issue", issue), ("--procedure", procedure)):
        if value is not None and len(value) > PARAM_VALUE_MAX:
            usage_error(f"{option}: {len(value)} characters long; MLflow allows {PARAM_VALUE_MAX}")
    if not no_track:
        # A store that can never take the session refuses it now, not after the whole session has run.
        from claude_tui.tracking.reach import store_problem

        problem = store_problem(tracking_uri or settings.tracking_uri)
        if problem is not None:
            usage_error(f"cannot log to this tracking store: {problem}")
    from claude_tui.shell_integration import shell_env

    config = SessionConfig(
        command=command,
        claude_args=claude_args,
        prompt=prompt,
        cwd=cwd,
        env={**shell_env(command, [*claude_args, *([prompt] if prompt else [])]), **(env or {})},
        tags={**settings.tags, **tag_values},
        issue_number=issue,
        procedure_name=procedure,
        tracking_uri=tracking_uri or settings.tracking_uri,
        experiment=experiment or settings.experiment,
        track=not no_track,
        redact=settings.redact and not no_redact,
        content=settings.content,
        alerts=alert_list,
        config_dir=config_dir,
        hooks=settings.hooks,
        notify_terminal=settings.notify and not no_notify,
        notify_command=notify_command or settings.notify_command,
    )
    if worktree is not None:
        from claude_tui.worktree import WorktreeError, create

        try:
            config.worktree = create(
                cwd,
                worktree or None,
                session_id=config.session_id,
                prompt=prompt,
                folder=settings.worktree_dir,
            )
        except WorktreeError as exc:
            usage_error(str(exc))
        config.cwd = config.worktree.cwd
    return config


def run_session(
    config: SessionConfig, *, hint: str | list[str] | None = None, demo: dict[str, Any] | None = None
) -> int:
    """Start the app on `config`, then print where the session went. Returns the exit status for the shell.

    The session owner runs the program (`run_in_owner`: it outlives the window). `demo`: the owner serves
    a demo's stub and removes its folders (`owner.demo`).

    The program is spawned first, before the session's parsers, its spool and Textual load: its start-up
    (about 0.4 s for claude) then overlaps ours, and its first frame is barely later than in a bare terminal.
    The pane adopts the running program and reads what it wrote meanwhile (the PTY holds it).
    """
    # Start-up allocates a lot and frees little (imports, widgets, CSS): the collector's passes over it cost
    # ~65 ms before the first frame. The app freezes the survivors and turns collection back on after it.
    gc.disable()
    try:
        return run_in_owner(config, hint=hint, demo=demo)
    finally:
        gc.enable()


def run_in_owner(
    config: SessionConfig, *, hint: str | list[str] | None = None, demo: dict[str, Any] | None = None
) -> int:
    """The window as a client of the session owner (tmux's model): the owner runs the program (the one
    `launch` had it start early, claimed with the whole config, or a new one), the window shows it. A
    closed terminal, SIGTERM or SIGKILL of the window leaves the session running (`claude-tui attach`
    shows it again, with `hint`); the owner logs it once when its program ends. `demo`: the `spawn`
    request's entry for a demo's stub server and folders (`owner.demo`)."""
    from claude_tui.owner.attached import OwnerPump
    from claude_tui.owner.client import OwnerClient, OwnerError, connect_or_start
    from claude_tui.owner.protocol import socket_path

    early = claim()
    cols, rows = pane_size()
    pump: OwnerPump | None = None
    claiming: OwnerClient | None = None
    if early is not None and early.owner is not None:
        config.session_id = early.session_id
        if early.hook_secret is not None:
            config.hook_secret = early.hook_secret
        claiming = OwnerClient(early.owner, socket_path())
        try:
            claiming.sock.settimeout(EARLY_REPLY_TIMEOUT)  # a forked owner imports its modules first
            program = config.for_the_owner()
            request = {"op": "configure", "config": config.to_dict(), "program": program}
            claiming.send({**request, "environ": dict(os.environ)})
        except (OwnerError, ProgramNotFound):
            claiming.close()  # the early program is not wanted: the normal way below says why
            claiming = None
    elif early is not None:
        early.end()

    # Textual loads while the owner makes the session's spool (its answers are read after).
    from claude_tui.app import ClaudeTuiApp

    if claiming is not None:
        try:
            claiming.server_hello = claiming.receive()
            pump = OwnerPump.take(claiming, None)
        except OwnerError:
            pass  # the early program did not start: start the session the normal way
    if pump is None:
        try:
            client = connect_or_start()  # the pump keeps its connection: the session's stream
            client.sock.settimeout(EARLY_REPLY_TIMEOUT)
            extra = {"hint": hint, **({"demo": demo} if demo is not None else {})}
            pump = OwnerPump.start_session(config, cols=cols, rows=rows, client=client, extra=extra)
        except (ProgramNotFound, OwnerError, OSError) as exc:
            click.echo(f"claude-tui: {exc}", err=True)
            discard_worktree(config)
            return 2

    from claude_tui.widgets.attached_view import AttachedSessionView

    # Sessions not logged yet (a killed owner's, those a store did not take) are logged by a detached sync,
    # once Claude has drawn (as `widgets.store_check` does for a window's own session).
    if config.track:
        later = threading.Timer(ClaudeTuiApp.AFTER_START, log_pending)
        later.daemon = True
        later.start()
    app = ClaudeTuiApp(
        attached=[AttachedSessionView(pump, hint=hint)],
        tracking_uri=config.tracking_uri,
        experiment=config.experiment,
        hint=hint,
        handle_signals=True,
    )
    app.run()
    try:
        print_results(app.results, app.notes)
    except OSError:  # the terminal is gone (SIGHUP): the sessions run on in the owner
        pass
    ended = [result for result in app.results if not result.detached]
    return ended[-1].exit_status if ended else 0


def log_pending() -> None:
    """`recovery.log_pending_in_background`, imported when it runs (after Claude's first frame: the spool
    code it loads is not needed before)."""
    from claude_tui.tracking.recovery import log_pending_in_background

    log_pending_in_background()


EARLY_REPLY_TIMEOUT = 60.0
"""Seconds the window waits for the owner's first answers (a just-forked owner imports its modules first,
and a loaded machine takes its time)."""


def print_results(results: list[SessionResult], notes: list[str] | None = None) -> None:
    """What became of each session of a window on the owner's sessions: detached (it runs on), or ended;
    then of their worktrees (`notes`, one line each)."""
    for result in results:
        short = (result.session_id or "")[:8]
        if result.detached:
            click.echo(f"Session {short} runs on: `{own_command()} attach {short}` shows it again.")
        else:
            print_outcome(result)
    for note in notes or ():
        click.echo(note[:1].upper() + note[1:] + ".")


def discard_worktree(config: SessionConfig) -> None:
    """Remove the worktree made for a session whose program could not start (nothing can be in it)."""
    if config.worktree is not None:
        from claude_tui.worktree import discard_unused

        discard_unused(config.worktree)


def print_outcome(outcome: SessionResult) -> None:
    """Tell the user how the program ended and where the run is."""
    status = f"signal {outcome.signal}" if outcome.signal else f"exit status {outcome.exit_code}"
    click.echo(f"Session ended ({status}).")
    if outcome.error:
        click.echo(
            f"Not logged to MLflow: {outcome.error}. The session is kept; run "
            f"`{retry_command(outcome.tracking_uri)}` to retry (each claude-tui start also tries)."
        )
    elif outcome.handed_off:
        from claude_tui.tracking.errors import store_label

        session = f" {outcome.session_id[:8]}" if outcome.session_id else ""
        click.echo(
            f"Logging session{session} to {store_label(outcome.tracking_uri)} in the background: "
            f"`{own_command()} history` shows it in a moment."
        )
    elif outcome.run_id:
        click.echo(f"MLflow run {outcome.run_id}: {run_location(outcome)}")


def retry_command(tracking_uri: str | None) -> str:
    """`claude-tui sync` (as `paths.own_command` spells it), with `--tracking-uri` when the store is not the
    default one."""
    import shlex

    from claude_tui.tracking.store import resolve_tracking_uri

    if not tracking_uri or resolve_tracking_uri(tracking_uri) == resolve_tracking_uri(None):
        return f"{own_command()} sync"
    return f"{own_command()} sync --tracking-uri {shlex.quote(tracking_uri)}"


def run_location(outcome: SessionResult) -> str:
    """The run's URL in the MLflow UI, or how to get there when no UI server runs for this store."""
    from claude_tui.tracking.store import run_ui_url, ui_base_url

    uri = outcome.tracking_uri or ""
    base = ui_base_url(uri)
    if base is None:
        try:
            from claude_tui.history.ui_server import UiServer

            state = UiServer(uri).status()
            base = state.url if state else None
        except Exception:  # an unreadable UI state file only costs the shortcut below
            base = None
    if base and outcome.experiment_id and outcome.run_id:
        return run_ui_url(base, outcome.experiment_id, outcome.run_id)
    me = own_command()
    return f"browse it with `{me} history` (key o opens the MLflow UI) or `{me} ui start`"


@click.command(
    context_settings={"ignore_unknown_options": False, "help_option_names": ["-h", "--help"]},
)
@click.argument("prompt", required=False)
@click.option("--command", default="claude", show_default=True, help="The program to run in the pane.")
@click.option(
    "-C", "--cwd", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Work directory."
)
@click.option("--issue", help="Issue number for the run (overrides what the prompt says).")
@click.option("--procedure", help="Procedure name for the run (overrides what the prompt says).")
@click.option(
    "--worktree",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[BRANCH]",
    help="Run in a new git worktree on BRANCH (default: claude/<the prompt>); write --worktree=BRANCH "
    "before a prompt.",
)
@click.option("--detach", is_flag=True, help="Start the session without a window (`claude-tui ls` lists it).")
@session_options
def run(
    prompt: str | None,
    command: str,
    cwd: Path | None,
    issue: str | None,
    procedure: str | None,
    worktree: str | None,
    tracking_uri: str | None,
    experiment: str | None,
    tags: tuple[str, ...],
    alerts: tuple[str, ...],
    no_track: bool,
    no_redact: bool,
    notify_command: str | None,
    no_notify: bool,
    detach: bool = False,
) -> None:
    """Start a tracked session: claude-tui [OPTIONS] [PROMPT] [-- CLAUDE_ARGS...].

    Runs `claude --session-id <uuid> [CLAUDE_ARGS] [PROMPT]` in the pane; when it ends, the session is logged
    to MLflow. Inside the pane every key goes to the program; ctrl+] gives the keys back to claude-tui, and
    ctrl+q ends the session.
    """
    claude_args = list(click.get_current_context().meta.get("claude_args", []))
    config = build_config(
        command=command,
        prompt=prompt,
        claude_args=claude_args,
        cwd=(cwd or Path.cwd()).resolve(),
        tracking_uri=tracking_uri,
        experiment=experiment,
        tags=tags,
        alerts=alerts,
        no_track=no_track,
        no_redact=no_redact,
        issue=issue,
        procedure=procedure,
        worktree=worktree,
        notify_command=notify_command,
        no_notify=no_notify,
    )
    if detach:
        sys.exit(start_detached(config))
    # A worktree session is the owner's too: closing it in a window offers to remove its worktree; one that
    # ends with no window attached keeps it (docs/sessions.md).
    sys.exit(run_session(config))


def start_detached(config: SessionConfig) -> int:
    """`--detach`: the owner starts the session; print its id and how to see it. Exit status 2 when the
    program or the owner cannot start."""
    from claude_tui.owner.client import OwnerError, connect_or_start

    early = claim()
    if early is not None:
        early.end()
    cols, rows = pane_size()
    try:
        program = config.for_the_owner()  # the owner builds the argv, with its own endpoint
        with connect_or_start() as client:
            session_id = client.spawn(config.to_dict(), cols=cols, rows=rows, program=program)
    except (ProgramNotFound, OwnerError, OSError) as exc:
        click.echo(f"claude-tui: {exc}", err=True)
        discard_worktree(config)
        return 2
    click.echo(f"Session {session_id} started in {config.cwd}.")
    click.echo(f"`{own_command()} ls` lists the sessions; it is logged to MLflow when it ends.")
    return 0
