"""`claude-tui attach [ID]`: open the window on the sessions the owner process runs (`--detach` started them).

Each pane shows its session's screen and scrollback as they are, then its live output; keys and resizes go
to the program through the owner; the counters are the owner's. Quitting the window (`ctrl+q`, a closed
terminal) detaches: the programs run on. A program that ends is logged by the owner, once.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from claude_tui.paths import own_command


class NothingToAttach(Exception):
    """What the user asked for cannot be shown; the message says why in one line."""


ENDED = frozenset({"ended", "logging", "logged", "not logged"})
"""Owner states of a session whose program is gone (nothing left to attach to)."""


def pick(sessions: list[dict[str, Any]], wanted: str | None) -> list[dict[str, Any]]:
    """The sessions to attach to: `wanted` (an id or a unique prefix of one), else every running one.

    Raises:
        NothingToAttach: no such session, an ambiguous prefix, or a session that has ended.
    """
    running = [s for s in sessions if s.get("state") not in ENDED]
    if wanted is None:
        if not running:
            raise NothingToAttach(
                f"no session runs. `{own_command()} --detach` starts one without a window; "
                f"`{own_command()} ls` lists them."
            )
        return running
    found = [s for s in sessions if str(s.get("id", "")).startswith(wanted)]
    if not found:
        raise NothingToAttach(f"no session {wanted} (`{own_command()} ls` lists them)")
    if len(found) > 1:
        raise NothingToAttach(f"session id {wanted} is ambiguous: give more of it")
    if found[0].get("state") in ENDED:
        raise NothingToAttach(f"session {wanted} has ended ({found[0].get('state')})")
    return found


def fail(message: str) -> NoReturn:
    """`claude-tui: <message>` on one line to stderr, exit status 1."""
    click.echo(f"claude-tui: {message}", err=True)
    sys.exit(1)


@click.command(name="attach")
@click.argument("session_id", required=False, metavar="[ID]")
def attach(session_id: str | None) -> None:
    """Show the sessions the owner runs (all of them, or session ID); quitting leaves them running."""
    from claude_tui.owner.attached import OwnerPump
    from claude_tui.owner.client import OwnerClient, OwnerError, OwnerNotRunning

    try:
        with OwnerClient.connect() as client:
            if not client.same_version:
                raise OwnerError(f"the session owner runs claude-tui {client.version}: attach with that one")
            chosen = pick(client.list_sessions(), session_id)
        # Every screen is asked for at once: the owner serialises them while Textual loads here. The shown
        # session's is restored before the first frame, the others' after it (`SessionTab.add_later`).
        asked = [OwnerPump.ask_attach(str(s["id"]), client.path) for s in chosen]
    except OwnerNotRunning:
        fail(f"no session runs. `{own_command()} --detach` starts one without a window.")
    except (NothingToAttach, OwnerError, OSError) as exc:
        fail(str(exc))

    from claude_tui.app import ClaudeTuiApp
    from claude_tui.widgets.attached_view import AttachedSessionView, take_later

    try:
        first = OwnerPump.take(asked[0], None)
    except (OwnerError, OSError) as exc:
        fail(str(exc))
    app = ClaudeTuiApp(
        attached=[AttachedSessionView(first, later=[take_later(client) for client in asked[1:]])],
        tracking_uri=first.info.get("tracking_uri"),
        experiment=str(first.info.get("experiment") or "claude-sessions"),
        handle_signals=True,
    )
    app.run()
    from claude_tui.commands.run import print_results

    print_results(app.results, app.notes)
    sys.exit(0)
