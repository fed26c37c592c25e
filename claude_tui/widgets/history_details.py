"""The details of one logged session: overview, clean transcript, replay of its recording, metric chart."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer, Vertical, VerticalScroll
from textual.widgets import Label, Static, TabbedContent, TabPane

from claude_tui.formatting import format_cost, format_count, format_duration
from claude_tui.history.compare import format_metric
from claude_tui.history.query import RunDetails
from claude_tui.history.replay import CastPlayer, CastRecording
from claude_tui.tracking.schema import SERIES_KEYS, TAG_RESUMED_FROM, TAG_RESUMED_FROM_RUN
from claude_tui.widgets.terminal import ReplayPane

REPLAY_FPS = 30
"""Replay timer rate; output due within a frame is fed in one call."""


def format_time(ms: int | None, tz: dt.tzinfo | None) -> str:
    """Epoch ms -> `2026-11-27 06:20` in `tz` (None = local time)."""
    if ms is None:
        return "–"
    return dt.datetime.fromtimestamp(ms / 1000, tz=tz or dt.UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def shown_run_id(run_id: str) -> str:
    """The run id as the details show it (whole: it is what `mlflow` commands and URLs take)."""
    return run_id


def _key_value_table(title: str, values: dict[str, Any]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, box=None, pad_edge=False, expand=True)
    table.title_style = "bold underline"
    # The key column takes what its longest key needs (up to 24); values wrap in the rest.
    longest = max((len(key) for key in values), default=4)
    table.add_column("key", style="bold", no_wrap=True, width=min(longest, 24))
    table.add_column("value", overflow="fold")
    for key, value in values.items():
        shown = format_metric(value) if isinstance(value, float) else str(value)
        table.add_row(key, shown if shown != "" else Text("(empty)", style="dim"))
    return table


class ReplayView(Vertical):
    """Plays `transcript/raw.cast` into a terminal viewer with play/pause and speed keys."""

    DEFAULT_CSS = """
    ReplayView { height: 1fr; }
    ReplayView #replay-status { height: 1; color: $text-muted; }
    ReplayView #replay-box { height: 1fr; }
    """

    BINDINGS = [
        Binding("p", "play_pause", "Play/pause"),
        Binding("plus,equals_sign", "faster", "Faster"),
        Binding("minus", "slower", "Slower"),
    ]
    """Replay keys; the History pane forwards `p`, `+`, `-` here as well."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.player: CastPlayer | None = None

    def compose(self) -> ComposeResult:
        yield Label("No recording loaded.", id="replay-status")
        # The pane `claude-tui replay` plays into: at the recording's own size, whatever the room here (the
        # box scrolls, and `z` gives it the whole screen). A screen of another width would wrap every line.
        with ScrollableContainer(id="replay-box"):
            viewer = ReplayPane(None, id="replay-screen")
            # A viewer has no program to type into; focused, it would swallow the History keys (p, o, ...).
            viewer.can_focus = False
            yield viewer

    @property
    def screen_pane(self) -> ReplayPane:
        """The terminal pane the recording plays into."""
        return self.query_one("#replay-screen", ReplayPane)

    def on_mount(self) -> None:
        self.set_interval(1 / REPLAY_FPS, self._tick)

    def load(self, recording: CastRecording | None) -> None:
        """Load a recording (None when the run has no usable `transcript/raw.cast`), paused at its start."""
        self._clear()
        if recording is None:
            self.player = None
            self._status("This run has no transcript/raw.cast recording.")
            return
        self.player = CastPlayer(recording.events)
        self.screen_pane.set_screen_size(recording.width, recording.height)
        self._status_line()

    def _clear(self) -> None:
        # RIS: blank screen, default modes (the scrollback of an earlier replay stays reachable).
        self.screen_pane.feed(b"\x1bc")

    def _feed(self, data: bytes) -> None:
        if data:
            self.screen_pane.feed(data)

    def _status(self, text: str) -> None:
        self.query_one("#replay-status", Label).update(text)

    def _status_line(self) -> None:
        player = self.player
        if player is None:
            return
        state = "playing" if player.playing else ("finished" if player.finished else "paused")
        cols, rows = self.screen_pane.emulator.cols, self.screen_pane.emulator.rows
        self._status(
            f"{state} · {player.position:.1f}/{player.duration:.1f} s · {player.speed:g}x · {cols}x{rows}"
            "  (p play/pause, +/- speed, z zoom)"
        )

    def _tick(self) -> None:
        player = self.player
        if player is None or not player.playing:
            return
        due = player.advance(1 / REPLAY_FPS)
        if due:
            self._feed(due)
        self._status_line()

    def action_play_pause(self) -> None:
        """Play or pause (a finished recording starts over)."""
        if self.player is None:
            return
        if self.player.finished and not self.player.playing:
            self._clear()
        self.player.toggle()
        self._feed(self.player.advance(0))
        self._status_line()

    def action_faster(self) -> None:
        """Play faster."""
        if self.player is not None:
            self.player.faster()
            self._status_line()

    def action_slower(self) -> None:
        """Play slower."""
        if self.player is not None:
            self.player.slower()
            self._status_line()

    def play_to_end(self) -> None:
        """Feed the whole recording at once (tests and a quick look at the final screen)."""
        if self.player is None:
            return
        self.player.playing = True
        self.player.position = self.player.duration
        self._feed(self.player.advance(0))
        self._status_line()


class MetricChart(Vertical):
    """A plot with axes and labels (textual-plotext) of tool uses, commands and errors over the session's
    time, from the run's logged series (cumulative; step = seconds since the start)."""

    DEFAULT_CSS = """
    MetricChart { height: 1fr; min-height: 14; padding: 0 1; }
    MetricChart #chart-empty { color: $text-muted; height: auto; }
    MetricChart #chart-plot { height: 1fr; }
    """

    LABELS: ClassVar[dict[str, str]] = {
        "tool_uses": "tool uses",
        "commands_executed": "commands",
        "errors_encountered": "errors",
    }
    COLORS: ClassVar[dict[str, str]] = {
        "tool_uses": "cyan",
        "commands_executed": "green",
        "errors_encountered": "red",
    }

    def compose(self) -> ComposeResult:
        # Plotext loads with the History pane (itself built on first view), never before Claude's first frame.
        from textual_plotext import PlotextPlot

        yield Label("No metric series logged.", id="chart-empty")
        yield PlotextPlot(id="chart-plot")

    def show(self, series: dict[str, list[tuple[int, float]]]) -> None:
        """Plot each series as a step line over minutes since the start; the legend has the final values."""
        from textual_plotext import PlotextPlot

        shown = {key: sorted(series[key]) for key in SERIES_KEYS if series.get(key)}
        self.query_one("#chart-empty").display = not shown
        plot = self.query_one("#chart-plot", PlotextPlot)
        plot.display = bool(shown)
        plt = plot.plt
        plt.clear_figure()
        if not shown:
            plot.refresh()
            return
        end = max(points[-1][0] for points in shown.values())
        unit, scale = ("minutes", 60.0) if end >= 180 else ("seconds", 1.0)
        for key, points in shown.items():
            xs = [0.0] + [step / scale for step, _ in points]
            ys = [0.0] + [value for _, value in points]
            last = format_metric(points[-1][1])
            plt.plot(xs, ys, label=f"{self.LABELS.get(key, key)} {last}", color=self.COLORS.get(key))
        plt.title(f"over {format_duration(end)}")
        plt.xlabel(unit)
        plt.ylabel("count")
        top = max(value for points in shown.values() for _, value in points)
        step = max(1, math.ceil(top / 5))  # counts: whole-number ticks, about five of them
        plt.yticks(list(range(0, int(top) + step, step)))
        plot.refresh()


class RunDetailsView(Vertical):
    """Tabs for one run: Overview (params, metrics, tags, artifacts), Transcript, Replay, Chart."""

    DEFAULT_CSS = """
    RunDetailsView { height: 1fr; }
    RunDetailsView #details-title { height: 1; text-style: bold; padding: 0 1; }
    RunDetailsView TabbedContent { height: 1fr; }
    RunDetailsView TabPane { padding: 0; }
    RunDetailsView VerticalScroll { height: 1fr; }
    RunDetailsView #details-summary { height: auto; padding: 0 1; }
    """

    def __init__(self, *, tz: dt.tzinfo | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tz = tz
        self.details: RunDetails | None = None

    def compose(self) -> ComposeResult:
        yield Label("Select a session", id="details-title")
        with TabbedContent(id="details-tabs"):
            with TabPane("Overview", id="tab-overview"), VerticalScroll():
                yield Static("", id="details-summary")
                yield Static("", id="details-overview")
            with TabPane("Transcript", id="tab-transcript"), VerticalScroll():
                yield Static("", id="details-transcript")
            with TabPane("Replay", id="tab-replay"):
                yield ReplayView(id="replay")
            with TabPane("Chart", id="tab-chart"):
                yield MetricChart(id="chart")

    def show(self, details: RunDetails) -> None:
        """Fill every tab from `details` (the replay loads its recording separately, on demand)."""
        self.details = details
        row = details.row
        self.query_one("#details-title", Label).update(Text(row.name or "(no prompt)", no_wrap=True))
        ok = {1.0: Text("yes", style="green"), 0.0: Text("no", style="red")}.get(
            row.success if row.success is not None else -1.0, Text("–")
        )
        summary = Text.assemble(
            ("run ", "dim"), (shown_run_id(row.run_id), "bold"), (" (y copies it)\n", "dim"),
            ("started ", "dim"), format_time(row.start_time, self.tz),
            ("  duration ", "dim"), format_duration(row.duration_seconds),
            ("  success ", "dim"), ok,
            ("  tokens ", "dim"), format_count(row.tokens),
            ("  cost ", "dim"), format_cost(row.cost_usd),
        )  # fmt: skip
        resumed = details.tags.get(TAG_RESUMED_FROM)
        if resumed:
            earlier = details.tags.get(TAG_RESUMED_FROM_RUN)
            summary.append("\nresumed from ", "dim").append(resumed)
            summary.append(
                f" · run {earlier.split(',')[-1]} (b: go there)" if earlier else " (not logged)", "dim"
            )
        self.query_one("#details-summary", Static).update(summary)
        artifacts = Table(title="artifacts", title_justify="left", show_header=False, box=None, expand=True)
        artifacts.add_column("path", overflow="fold")
        for path in details.artifacts:
            artifacts.add_row(path)
        if not details.artifacts:
            artifacts.add_row(Text("(none)", style="dim"))
        grid = Table.grid(expand=True)
        grid.add_column()
        for part in (
            _key_value_table("params", details.params),
            _key_value_table("metrics", details.metrics),
            _key_value_table("tags", details.tags),
            artifacts,
        ):
            grid.add_row(part)
            grid.add_row("")
        self.query_one("#details-overview", Static).update(grid)
        transcript = details.transcript
        self.query_one("#details-transcript", Static).update(
            Text(transcript) if transcript else Text("This run has no transcript/clean.txt.", style="dim")
        )
        self.query_one(MetricChart).show(details.series)

    def clear(self, title: str = "No session matches") -> None:
        """Show nothing (an empty result): no details of a run that is no longer in the table."""
        self.details = None
        self.query_one("#details-title", Label).update(Text(title, style="dim"))
        for name in ("summary", "overview", "transcript"):
            self.query_one(f"#details-{name}", Static).update("")
        self.query_one(MetricChart).show({})
        self.replay.load(None)

    @property
    def replay(self) -> ReplayView:
        """The replay tab's player."""
        return self.query_one(ReplayView)
