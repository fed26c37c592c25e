"""One tracked session: the program's argv, its on-disk spool, and the live stats the sidebar shows.

`TrackedSession` is the pure core of the Session tab. The terminal pane hands it nothing but the recorder it
writes to and, for programs without a transcript, the screen text; the session tails Claude Code's transcript,
folds events into `SessionStats`, appends them to the spool, and at the end writes the summary that
`tracking.logger.log_spool` turns into an MLflow run. No textual, no mlflow.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_tui import __version__, claude_code
from claude_tui.claude_code import NPM_INSTALL_HINT
from claude_tui.config import Alert, AlertMonitor
from claude_tui.paths import DEFAULT_EXPERIMENT
from claude_tui.terminal.pty_session import find_program

if TYPE_CHECKING:
    from claude_tui.parsing import Event, ScreenParser, SessionStats, TranscriptTail
    from claude_tui.parsing.shell import ShellMarks
    from claude_tui.snapshot import SessionSnapshot, StatsSource
    from claude_tui.terminal.emulator import TerminalEmulator
    from claude_tui.terminal.recorder import CastRecorder
    from claude_tui.tracking.spool import RunSpool
    from claude_tui.worktree import Worktree


class ProgramNotFound(Exception):
    """The program to run is neither on PATH nor an executable path; the message tells the user what to do."""


@dataclass
class SessionConfig:
    """What to run and how to record it; built from the command line by `commands.run`."""

    command: str = "claude"
    """The program: `claude` (default) or any other program or path."""
    claude_args: list[str] = field(default_factory=list)
    prompt: str | None = None
    cwd: Path = field(default_factory=Path.cwd)
    env: dict[str, str] = field(default_factory=dict)
    """Environment overrides for the program (the rest is inherited)."""
    session_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    tags: dict[str, str] = field(default_factory=dict)
    issue_number: str | None = None
    procedure_name: str | None = None
    tracking_uri: str | None = None
    experiment: str = DEFAULT_EXPERIMENT
    track: bool = True
    redact: bool = True
    alerts: list[Alert] = field(default_factory=list)
    config_dir: Path | None = None
    """Claude Code's config dir (where its transcripts go); default `$CLAUDE_CONFIG_DIR` or `~/.claude`."""
    worktree: Worktree | None = None
    """The git worktree made for the session (`--worktree`); `cwd` is inside it."""

    @property
    def is_claude(self) -> bool:
        """Whether the program is Claude Code (it then gets `--session-id` and is tracked by transcript)."""
        return claude_code.is_claude(self.command)

    @property
    def claude_config_dir(self) -> Path:
        """Where Claude Code writes this session's transcript."""
        if self.config_dir is not None:
            return self.config_dir
        return claude_code.config_dir({**os.environ, **self.env})

    def resolve_program(self) -> str:
        """The program's absolute path, or `ProgramNotFound` with a message that says how to fix it."""
        path = find_program(self.command) or claude_code.fallback_program(self.command)
        if path is not None:
            return path
        if self.is_claude:
            raise ProgramNotFound(
                f"cannot find the Claude Code CLI ({self.command!r}). Install it with `{NPM_INSTALL_HINT}`, "
                "or run another program with --command."
            )
        raise ProgramNotFound(
            f"cannot find program {self.command!r} (not on PATH and not an executable file)"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (what a client sends the session owner); `from_dict` reads it back."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["cwd"] = str(self.cwd)
        values["config_dir"] = None if self.config_dir is None else str(self.config_dir)
        values["alerts"] = [str(alert) for alert in self.alerts]
        values["worktree"] = None if self.worktree is None else self.worktree.to_dict()
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SessionConfig:
        """The config `to_dict` gave (unknown keys are ignored, so an older client's config still reads)."""
        known = {f.name for f in fields(cls)}
        config = {key: value for key, value in values.items() if key in known}
        config["cwd"] = Path(config.get("cwd") or ".")
        if config.get("config_dir") is not None:
            config["config_dir"] = Path(config["config_dir"])
        config["alerts"] = [Alert.parse(text) for text in config.get("alerts") or []]
        if config.get("worktree") is not None:
            from claude_tui.worktree import Worktree

            config["worktree"] = Worktree.from_dict(config["worktree"])
        return cls(**config)

    def for_another_session(self, *, cwd: Path, prompt: str | None, command: str) -> SessionConfig:
        """The config of another session opened in the same window (`n`): the same store, tags, alerts,
        environment and Claude config dir; its own id, work dir, program and first prompt. Claude's arguments
        carry over, except those that name a conversation (`--resume`, `--continue`, ...); another program
        gets none of them. No worktree: one is made for the new session when asked for."""
        same_program = command == self.command
        return replace(
            self,
            command=command,
            claude_args=claude_code.without_conversation_args(self.claude_args) if same_program else [],
            prompt=prompt,
            cwd=cwd,
            session_id=str(uuid.uuid4()),
            env=dict(self.env),
            tags=dict(self.tags),
            alerts=list(self.alerts),
            issue_number=None,
            procedure_name=None,
            worktree=None,
        )

    def argv(self) -> list[str]:
        """The program's argv: Claude gets a fixed `--session-id` so its transcript can be found."""
        return claude_code.program_argv(
            self.resolve_program(),
            command=self.command,
            session_id=self.session_id,
            args=self.claude_args,
            prompt=self.prompt,
        )


@dataclass(frozen=True)
class SessionResult:
    """How a session ended and where it went: what the app returns for the command line to print."""

    exit_code: int | None = None
    signal: int | None = None
    run_id: str | None = None
    experiment_id: str | None = None
    tracking_uri: str | None = None
    spool: Path | None = None
    """The spool kept for `claude-tui sync` when logging failed, or the one a logger process is logging."""
    error: str | None = None
    """Why logging failed, in one line."""
    session_id: str | None = None
    """The session's id (what `claude-tui history` and the run's `session_id` tag show)."""
    handed_off: bool = False
    """A logger process logs the session (`spool`) to `tracking_uri`: the run is there a moment later."""

    @property
    def exit_status(self) -> int:
        """claude-tui's exit status: the program's, as a shell reports it (128 + N when signal N ended it),
        whether or not the session could be logged (a session not logged is kept and says so)."""
        if self.signal:
            return 128 + self.signal
        return self.exit_code or 0


class TrackedSession:
    """Live state of one session: spool on disk, transcript tail, stats, alerts.

    Call `start()` once the pane knows its size, `poll()` a few times a second, `finish()` when the program
    has ended. Every method is safe to call when tracking is off (`config.track = False`): then nothing is
    written, but the stats still update.
    """

    POLL_SCREEN_EVERY = 1.0
    """Seconds between screen-parser passes (only used while no transcript exists)."""

    def __init__(
        self,
        config: SessionConfig,
        *,
        argv: Sequence[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.argv = list(argv) if argv is not None else config.argv()
        self._clock = clock
        """Wall clock; injected so snapshot tests show a fixed elapsed time."""
        self.started_at = clock()
        self.ended_at: float | None = None
        self.spool: RunSpool | None = None
        """The session's folder on disk (None when tracking is off, or before `start`)."""
        self.recorder: CastRecorder | None = None
        """The live recording into the spool (None when tracking is off, or before `start`)."""
        self.monitor = AlertMonitor(config.alerts)
        self._transcript: TranscriptTail | None = None
        self._last_screen_poll = 0.0
        self._screen_events = 0
        self._tool_minutes: list[int] = [0]
        self.git_start: dict[str, Any] = {"commit": None, "branch": None, "dirty": None}

    # The parsers are built on first use (the first poll, about a second in), not with the session: until
    # Claude has drawn its first frame, every millisecond of CPU here slows it down (docs/startup.md).

    @cached_property
    def transcript_stats(self) -> SessionStats:
        """Counts from Claude Code's transcript."""
        from claude_tui.parsing import SessionStats

        return SessionStats()

    @cached_property
    def screen_stats(self) -> SessionStats:
        """Counts from the screen parser (programs without a transcript)."""
        from claude_tui.parsing import SessionStats

        return SessionStats()

    @cached_property
    def shell_stats(self) -> SessionStats:
        """Counts from the shell's OSC 133 marks (`--command bash`/`zsh`: commands and failed commands)."""
        from claude_tui.parsing import SessionStats

        return SessionStats()

    @cached_property
    def _shell(self) -> ShellMarks:
        from claude_tui.parsing.shell import ShellMarks

        return ShellMarks()

    @property
    def _shell_spoke(self) -> bool:
        """Whether the program sent OSC 133 marks (without creating the parser to find out)."""
        return "_shell" in self.__dict__ and self._shell.seen

    @cached_property
    def _screen(self) -> ScreenParser:
        from claude_tui.parsing import ScreenParser

        return ScreenParser()

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self, cols: int, rows: int) -> None:
        """Create the spool (meta.json, live recording) before the program draws its first byte."""
        from claude_tui.tracking.gitinfo import git_state

        self.git_start = git_state(self.config.cwd)
        if not self.config.track:
            return
        from claude_tui.terminal.recorder import CastRecorder
        from claude_tui.tracking.spool import RunSpool

        self.spool = RunSpool.create(self._meta(cols, rows))
        self.recorder = CastRecorder(
            self.spool.recording_path,
            cols,
            rows,
            command=" ".join(self.argv),
            title=self.title,
        )

    def _meta(self, cols: int, rows: int) -> dict[str, Any]:
        config = self.config
        return {
            "session_id": config.session_id,
            "argv": self.argv,
            "command": config.command,
            "args": [*config.claude_args, *([config.prompt] if config.prompt else [])],
            "cwd": str(config.cwd),
            "start_time": self.started_at,
            "git": self._git_meta(),
            "worktree": self.config.worktree.to_dict() if self.config.worktree is not None else None,
            "tracking_uri": config.tracking_uri,
            "experiment": config.experiment,
            "tags": config.tags,
            "procedure_name": config.procedure_name,
            "issue_number": config.issue_number,
            "redact": config.redact,
            "claude_config_dir": str(config.claude_config_dir) if config.is_claude else None,
            "transcript_path": None,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "claude_version": None,
            "tui_version": __version__,
            "terminal": {"cols": cols, "rows": rows},
        }

    def _git_meta(self) -> dict[str, Any]:
        """The repository at the start, and the session's worktree when it has one."""
        worktree = self.config.worktree
        if worktree is None:
            return self.git_start
        return {**self.git_start, "worktree": str(worktree.path)}

    @property
    def title(self) -> str:
        """A short name for the header: the first prompt, else the program."""
        polled = "screen_stats" in self.__dict__ or "transcript_stats" in self.__dict__
        first = (self._active_stats().first_prompt if polled else None) or self.config.prompt
        return first[:60] if first else Path(self.config.command).name

    # -- live updates ------------------------------------------------------------------------------------

    def poll(
        self,
        screen_lines: Sequence[str] | None = None,
        *,
        first_index: int = 0,
        final: bool = False,
        shell_marks: Sequence[str] = (),
    ) -> bool:
        """Read what is new (transcript, shell marks, or screen text as a fallback); True when stats changed.

        `screen_lines` is the scrollback plus the screen, `screen_lines[i]` at absolute position
        `first_index + i` (`TerminalEmulator.history_dropped`). `final` (at the session's end) also takes a
        transcript line without its newline and the screen lines still waiting to be seen complete.
        `shell_marks` are the OSC 133 marks the program wrote since the last poll
        (`TerminalEmulator.take_shell_marks`): a shell's commands and their exit status.
        """
        from claude_tui.parsing import TranscriptTail, event_to_dict
        from claude_tui.parsing.events import ToolCall

        events: list[Event] = []
        if self.config.is_claude and self._transcript is None:
            path = claude_code.find_transcript(self.config.claude_config_dir, self.config.session_id)
            if path is not None:
                self._transcript = TranscriptTail(path)
                # The sidebar's cost needs genai-prices (0.15-0.3 s to import): load it beside the UI now,
                # before Claude's first answer, rather than stall the first poll that has tokens.
                from claude_tui.parsing import prices

                prices.preload_in_background()
        if shell_marks and self._transcript is None:
            events = self._shell.feed(list(shell_marks), self._clock())
            for event in events:
                self.shell_stats.apply(event)
        elif self._transcript is not None:
            events = self._transcript.poll(final=final)
            for event in events:
                self.transcript_stats.apply(event)
            self.transcript_stats.malformed_lines = self._transcript.malformed_lines
        elif screen_lines is not None and not self._shell_spoke and (final or self.screen_due()):
            # A shell that sends marks is counted by them alone: the screen parser would add whatever its
            # commands print that looks like a `● Tool(...)` line.
            self._last_screen_poll = time.monotonic()
            events = self._screen.feed(list(screen_lines), first_index)
            if final:
                events += self._screen.flush()
            for event in events:
                self.screen_stats.apply(event)
            self._screen_events += len(events)
        if not events:
            return False
        minute = int(max(0.0, self._clock() - self.started_at) // 60)
        tools = sum(1 for e in events if isinstance(e, ToolCall))
        while len(self._tool_minutes) <= minute:
            self._tool_minutes.append(0)
        self._tool_minutes[minute] += tools
        if self.spool is not None:
            self.spool.append_events([event_to_dict(e) for e in events])
        return True

    def poll_terminal(self, emulator: TerminalEmulator) -> bool:
        """`poll` with what the program drew on `emulator`: its shell marks, and its scrollback and screen
        when a screen pass is due. The pane (in the UI) and the owner (for a detached session) both call it.
        """
        screen_lines = None
        first = 0
        if self.screen_due():
            # Positions count from the first line the terminal ever kept, so they stay put when the full
            # scrollback drops its oldest lines.
            first = emulator.history_dropped
            screen_lines = [*emulator.history_lines(), *emulator.display]
        return self.poll(screen_lines, first_index=first, shell_marks=emulator.take_shell_marks())

    def screen_due(self) -> bool:
        """Whether the next `poll` would read screen text (no transcript, no shell marks, and a screen pass
        is due)."""
        due = time.monotonic() - self._last_screen_poll >= self.POLL_SCREEN_EVERY
        return self._transcript is None and not self._shell_spoke and due

    @property
    def source(self) -> StatsSource:
        """Where the counts come from: `transcript` once Claude Code's transcript exists, `shell` once a shell
        sent OSC 133 marks, else `screen`; `none` for a program that has given nothing to count (no
        transcript, no marks, no tool line on screen) and is not Claude (whose transcript is on its way)."""
        if self._transcript is not None:
            return "transcript"
        if self._shell_spoke:
            return "shell"
        if self.config.is_claude or self._screen_events:
            return "screen"
        return "none"

    @property
    def stats(self) -> dict[str, Any]:
        """The current stats by name, as the summary holds them (transcript wins whenever it exists)."""
        return dict(self._active_stats().to_dict())

    def elapsed(self) -> float:
        """Wall-clock seconds since the session started (frozen once it ended)."""
        end = self.ended_at if self.ended_at is not None else self._clock()
        return max(0.0, end - self.started_at)

    def _active_stats(self) -> SessionStats:
        if self._transcript is not None:
            return self.transcript_stats
        return self.shell_stats if self.source == "shell" else self.screen_stats

    def snapshot(self) -> SessionSnapshot:
        """What the sidebar draws now; `new_alerts` holds the alerts that fired since the last snapshot."""
        from claude_tui.snapshot import SessionSnapshot

        stats = self._active_stats()
        elapsed = self.elapsed()
        cost = stats.cost_usd
        values: dict[str, float | None] = {
            "errors_encountered": stats.errors_encountered,
            "cost_usd": cost,
            "duration_seconds": elapsed,
            "tool_uses": stats.tool_uses,
            "commands_executed": stats.commands_executed,
            "total_tokens": stats.input_tokens + stats.output_tokens,
        }
        fired = self.monitor.check(values)
        by_name = sorted(stats.tool_uses_by_name.items(), key=lambda item: (-item[1], item[0]))
        model = stats.meta.model
        return SessionSnapshot(
            commands_executed=stats.commands_executed,
            tool_uses=stats.tool_uses,
            errors_encountered=stats.errors_encountered,
            user_prompts=stats.user_prompts,
            git_operations=stats.git_operations,
            subagent_tool_uses=stats.subagent_tool_uses,
            files_read=stats.files_read,
            files_modified=stats.files_modified,
            tool_uses_by_name=tuple(by_name),
            last_error=stats.last_error,
            input_tokens=stats.input_tokens,
            output_tokens=stats.output_tokens,
            cost_usd=cost,
            models=(model,) if model else tuple(stats.models),
            active_seconds=round(stats.active_seconds, 3),
            elapsed_seconds=elapsed,
            activity_per_minute=tuple(self._tool_minutes),
            source=self.source,
            title=self.title,
            alerted_metrics=tuple(sorted(self.monitor.fired_metrics())),
            new_alerts=tuple(f"Alert: {alert} (now {_shown(values[alert.metric])})" for alert in fired),
        )

    # -- the end -------------------------------------------------------------------------------------------

    def finish(
        self,
        exit_code: int | None,
        signal: int | None,
        screen_lines: Sequence[str],
        *,
        first_index: int = 0,
        killed: bool = False,
        shell_marks: Sequence[str] = (),
    ) -> None:
        """Final poll, close the recording, and write everything the logger needs into the spool.

        `screen_lines` is the pane's scrollback and screen (from absolute position `first_index`, as in
        `poll`): the cleaned transcript, and the screen parser's last look.
        """
        self.poll(screen_lines, first_index=first_index, final=True, shell_marks=shell_marks)
        self.ended_at = self._clock()
        if self.recorder is not None:
            self.recorder.close()
        if self.spool is None:
            return
        from claude_tui.tracking.gitinfo import capture_changes

        self.spool.write_file(
            "clean.txt", "\n".join(line.rstrip() for line in screen_lines).strip("\n") + "\n"
        )
        if self.git_start.get("commit"):
            diff, commits = capture_changes(self.config.cwd, self.git_start["commit"])
            self.spool.write_file("git/changes.diff", diff)
            self.spool.write_file("git/commits.txt", commits)
        self.spool.finish(
            {
                "end_time": self.ended_at,
                "exit_code": exit_code,
                "signal": signal,
                "killed": killed,
                "stats": self.stats,
                "stats_source": self.source,
            }
        )


def _shown(value: float | None) -> str:
    """A stat's value in an alert line: whole numbers without a fraction, others with two decimals."""
    if value is None:
        return "?"
    return f"{value:g}" if float(value).is_integer() else f"{value:.2f}"
