"""`claude-tui replay PATH`: play an asciicast (or raw terminal output) in the pane, or print its screen.

`--print-screen` never imports textual: it runs the pure emulator and prints text.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from claude_tui.terminal.cast import MAX_COLS, MAX_ROWS, Cast, CastError, read_cast, resize_size

SPEED_CHOICES = ("1", "2", "4", "8", "16", "instant")


def render_cast(cast: Cast, cols: int | None = None, rows: int | None = None) -> tuple[list[str], list[str]]:
    """Play every output/resize event into an emulator; return (history lines, screen lines).

    With ``cols``/``rows`` given the screen keeps that size (resize events are ignored).
    """
    from claude_tui.terminal.emulator import TerminalEmulator

    fixed = cols is not None or rows is not None
    emulator = TerminalEmulator(cols or cast.width, rows or cast.height)
    for event in cast.output():
        if event.code == "o":
            emulator.feed(event.data.encode("utf-8", errors="replace"))
        elif not fixed and (size := resize_size(event.data)) is not None:
            emulator.resize(*size)
    return emulator.history_lines(), [line.rstrip() for line in emulator.display]


def _fail(message: str) -> None:
    click.echo(f"claude-tui replay: {message}", err=True)
    sys.exit(2)


@click.command()
@click.argument("path", type=click.Path(path_type=Path, dir_okay=True, exists=False))
@click.option(
    "--cols",
    type=click.IntRange(1, MAX_COLS),
    help=f"Screen width (default: the recording's, at most {MAX_COLS}).",
)
@click.option(
    "--rows",
    type=click.IntRange(1, MAX_ROWS),
    help=f"Screen height (default: the recording's, at most {MAX_ROWS}).",
)
@click.option("--print-screen", is_flag=True, help="Print the final screen as text and exit (no UI).")
@click.option(
    "--scrollback", is_flag=True, help="With --print-screen: print the history above the screen too."
)
@click.option(
    "--speed",
    type=click.Choice(SPEED_CHOICES),
    default="1",
    show_default=True,
    help="Initial playback speed (+/- change it while playing).",
)
def replay(
    path: Path, cols: int | None, rows: int | None, print_screen: bool, scrollback: bool, speed: str
) -> None:
    """Play an asciicast v2 recording (or a raw terminal-output file) in the terminal pane.

    Keys: space play/pause, + faster, - slower, i instant, r restart, q quit.
    """
    try:
        cast = read_cast(path)
    except CastError as exc:
        _fail(str(exc))
        return
    if cast.truncated:
        click.echo(f"claude-tui replay: warning: {path}: last line cut off; playing the rest", err=True)
    if scrollback and not print_screen:
        _fail("--scrollback only goes with --print-screen")
    if (claimed := cast.oversized()) is not None and (cols is None or rows is None):
        click.echo(
            f"claude-tui replay: warning: {path}: the recording claims a {claimed[0]}x{claimed[1]} screen; "
            f"played at most {MAX_COLS}x{MAX_ROWS}",
            err=True,
        )
    if print_screen:
        history, screen = render_cast(cast, cols, rows)
        while screen and not screen[-1]:
            screen.pop()
        lines = [*history, *screen] if scrollback else screen
        click.echo("\n".join(lines))
        return
    import math

    from claude_tui.replay_app import ReplayApp

    ReplayApp(cast, cols=cols, rows=rows, speed=math.inf if speed == "instant" else float(speed)).run()
