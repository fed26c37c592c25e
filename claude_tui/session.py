"""One tracked session: the program's argv, its on-disk spool, and the live stats the sidebar shows.

`TrackedSession` is the pure core of the Session tab. The terminal pane hands it nothing but the recorder it
writes to and, for programs without a transcript, the screen text; the session tails Claude Code's transcript,
folds events into `SessionStats`, appends them to the spool, and at the end writes the summary that
`tracking.logger.log_spool` turns into an MLflow run. No textual, no mlflow.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from claude_tui import __version__, claude_code
from claude_tui.claude_code import NPM_INSTALL_HINT
from claude_tui.config import Alert, AlertMonitor
from claude_tui.lifecycle.endpoint import OTLP_LOGS_ROUTE, OTLP_METRICS_ROUTE
from claude_tui.paths import DEFAULT_EXPERIMENT
from claude_tui.terminal.pty_session import find_program

if TYPE_CHECKING:
    from claude_tui.lifecycle.discovery import TranscriptWatch
    from claude_tui.lifecycle.endpoint import Handler, Reply, SessionRoutes
    from claude_tui.lifecycle.events import LifecycleEvent
    from claude_tui.lifecycle.notify import NotifyCommand
    from claude_tui.lifecycle.state import Lifecycle, Transition
    from claude_tui.parsing import Event, ScreenParser, SessionStats, TranscriptTail
    from claude_tui.parsing.otlp import TelemetryIntake
    from claude_tui.parsing.shell import ShellMarks
    from claude_tui.snapshot import SessionSnapshot, StatsSource
    from claude_tui.terminal.emulator import TerminalEmulator
    from claude_tui.terminal.recorder import CastRecorder
    from claude_tui.tracking.spool import RunSpool
    from claude_tui.worktree import Worktree

OTLP_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
"""Where the program exports its telemetry: this session's route when claude-tui asked for it."""

IDLE_TITLE_MARK = "✳"
"""Claude Code's window title starts with this while it waits for a prompt (a spinner glyph while busy)."""


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
    session_id: str = field(default_factory=claude_code.new_session_id)
    tags: dict[str, str] = field(default_factory=dict)
    issue_number: str | None = None
    procedure_name: str | None = None
    tracking_uri: str | None = None
    experiment: str = DEFAULT_EXPERIMENT
    track: bool = True
    redact: bool = True
    content: str = "full"
    """`full`, or `metadata`: no transcripts, recordings, diffs or tool inputs/outputs leave the machine."""
    alerts: list[Alert] = field(default_factory=list)
    config_dir: Path | None = None
    """Claude Code's config dir (where its transcripts go); default `$CLAUDE_CONFIG_DIR` or `~/.claude`."""
    worktree: Worktree | None = None
    """The git worktree made for the session (`--worktree`); `cwd` is inside it."""
    hook_secret: str = field(default_factory=lambda: os.urandom(16).hex())
    """Routes this session's hooks on the process's endpoint (`lifecycle.endpoint`)."""
    hooks: bool = True
    """Register claude-tui's hooks with Claude (off: the session follows transcripts and the terminal)."""
    notify_terminal: bool = True
    """Ring the outer terminal and send it a notification when Claude starts waiting for the person."""
    notify_command: str | None = None
    """A shell command run when Claude starts waiting for the person (`--notify-command`)."""

    @classmethod
    def from_settings(cls, *, tracking_uri: str | None, experiment: str, **fields: Any) -> SessionConfig:
        """A config as the person's settings file says (`config.load_settings`; `ConfigError` when it is
        broken), with `fields` on top: what a session opened from inside the app (History's `r`) runs with."""
        from claude_tui.config import load_settings

        settings = load_settings()
        return cls(
            tracking_uri=tracking_uri or settings.tracking_uri,
            experiment=experiment,
            redact=settings.redact,
            alerts=list(settings.alerts),
            hooks=settings.hooks,
            notify_terminal=settings.notify,
            notify_command=settings.notify_command,
            **fields,
        )

    def __post_init__(self) -> None:
        given = claude_code.given_session_id(self.claude_args) if self.is_claude else None
        if given:
            self.session_id = given  # the person named the conversation: that is where its records go

    def conversation_start(self) -> tuple[Literal["new", "resume", "fork"], str | None]:
        """How Claude's first conversation begins, from its arguments (`claude_code.conversation_start`)."""
        if not self.is_claude:
            return "new", None
        return claude_code.conversation_start(self.claude_args)

    def hook_routes(self) -> SessionRoutes | None:
        """This session's part of the process's endpoint, where Claude posts its hooks (None when the program
        is not Claude or hooks are off). The endpoint's socket is bound on the first call."""
        if not (self.is_claude and self.hooks):
            return None
        from claude_tui.lifecycle import endpoint

        return endpoint.shared().session(self.hook_secret)

    def telemetry_routes(self) -> SessionRoutes | None:
        """This session's part of the process's endpoint, where Claude exports its telemetry (None when the
        program is not Claude). The same routes as the hooks' (one secret), whether hooks are on or off."""
        if not self.is_claude:
            return None
        from claude_tui.lifecycle import endpoint

        return endpoint.shared().session(self.hook_secret)

    def program_env(
        self, base: Mapping[str, str] | None = None
    ) -> tuple[dict[str, str | None], Literal["cli", "user"] | None]:
        """The environment overrides the program is spawned with, and who gets Claude's own telemetry
        (`claude_code.tracked_env`): claude-tui on this session's OTLP route (`"cli"`), unless the user
        exports it themselves (`"user"`: their export is left as it is, claude-tui adds none). `base`: the
        environment the overrides go on top of (default: this process's)."""
        routes = self.telemetry_routes()
        if routes is None:
            return dict(self.env), None
        from claude_tui.lifecycle.endpoint import OTLP_ROUTE

        return claude_code.tracked_env(
            self.env,
            routes.url(OTLP_ROUTE),
            config=self.claude_config_dir,
            cwd=self.cwd,
            args=self.claude_args,
            base=base,
        )

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

    def for_the_owner(self) -> str:
        """Write out what this process's environment decides (Claude's config dir, the tracking store) for
        the session owner, whose environment may be another shell's; the program resolved on this `PATH`
        (`ProgramNotFound` when it is not there)."""
        from claude_tui.tracking.store import resolve_tracking_uri

        self.config_dir = self.claude_config_dir if self.is_claude else None
        self.tracking_uri = resolve_tracking_uri(self.tracking_uri)
        return self.resolve_program()

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
        gets none of them. No worktree: one is made for the new session when asked for. Its own hook
        secret: with the first's, both would share one set of hook routes, and each would get the other's
        hooks (the second session counted the first's conversation as its own)."""
        same_program = command == self.command
        return replace(
            self,
            hook_secret=os.urandom(16).hex(),
            command=command,
            claude_args=claude_code.without_conversation_args(self.claude_args) if same_program else [],
            prompt=prompt,
            cwd=cwd,
            session_id=claude_code.new_session_id(),
            env=dict(self.env),
            tags=dict(self.tags),
            alerts=list(self.alerts),
            issue_number=None,
            procedure_name=None,
            worktree=None,
        )

    def argv(self, program: str | None = None) -> list[str]:
        """The program's argv: Claude gets a fixed `--session-id` so its transcript can be found (unless it
        resumes a conversation), and claude-tui's hooks (`lifecycle.hooks.tracked_argv`) on this process's
        endpoint. `program`: the program's path as the client resolved it on its own PATH (the session
        owner builds the argv of a client's session, so that the hooks come to the owner)."""
        from claude_tui.lifecycle.hooks import tracked_argv

        routes = self.hook_routes()
        return tracked_argv(
            program or self.resolve_program(),
            command=self.command,
            session_id=self.session_id,
            args=self.claude_args,
            prompt=self.prompt,
            cwd=str(self.cwd),
            config_dir=str(self.claude_config_dir),
            hook_url=routes.url() if routes is not None else None,
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
    detached: bool = False
    """The window let go of the session and its program runs on in the owner process (`claude-tui attach`)."""

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
        program_started: float | None = None,
        env: Mapping[str, str | None] | None = None,
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
        self.program_started = program_started if program_started is not None else self.started_at
        """When the program started (it may have been spawned before this object): records a resumed
        conversation's transcript holds from before then are an earlier process's."""
        self._tails: dict[str, TranscriptTail] = {}
        """One transcript tail per conversation the process wrote, by session id."""
        self._last_screen_poll = 0.0
        self._screen_fed = -1
        """`TerminalEmulator.bytes_fed` at the last screen pass."""
        self._screen_events = 0
        self._tool_minutes: list[int] = [0]
        self.git_start: dict[str, Any] = {"commit": None, "branch": None, "dirty": None}
        self._hooks: deque[tuple[float, bytes]] = deque()
        """Hook payloads as posted, appended by the endpoint's thread, taken by `poll`."""
        self.on_news: Callable[[], object] | None = None
        """Called on the endpoint's thread after a hook or telemetry arrived, so that whoever polls the
        session can poll now rather than at its next idle poll (the session view: `call_soon_threadsafe`)."""
        self._signals: list[LifecycleEvent] = []
        self._attention: list[Transition] = []
        self._watch: TranscriptWatch | None = None
        self._last_scan = 0.0
        self.routes: SessionRoutes | None = None
        """This session's routes on the process's endpoint (None when its hooks are off)."""
        self._notify_command: NotifyCommand | None = None
        self._last_title_kind: str | None = None
        routes = config.hook_routes()
        if routes is not None and any(routes.url() in word for word in self.argv):
            self.listen(routes)  # the program posts its hooks to this session
        wanted, mode = config.program_env()
        if env is not None and mode == "cli" and env.get(OTLP_ENDPOINT) != wanted.get(OTLP_ENDPOINT):
            mode = None  # the program was spawned without claude-tui's export (a detached session, for now)
        self.env: dict[str, str | None] = dict(env) if env is not None else wanted
        """The program's environment overrides (`SessionConfig.program_env`, unless given)."""
        self.telemetry_mode = mode
        """Who gets Claude's own telemetry: `cli` (this session, on the endpoint), `user` (the user's own
        exporter; claude-tui receives none) or None (not Claude, or a program spawned without it)."""
        self._intake: TelemetryIntake | None = None
        self._otlp_posted: deque[tuple[str, bytes]] = deque()
        """OTLP payloads as posted (route, body), appended by the endpoint's thread, until `telemetry` takes
        them: the parsers (`claude_tui.parsing`, ~20 ms to import) load at the first poll, after Claude's
        first frame (docs/startup.md)."""
        self._otlp_routes: SessionRoutes | None = None
        if self.telemetry_mode == "cli":
            self._receive_telemetry()

    @property
    def telemetry(self) -> TelemetryIntake | None:
        """The CLI's own telemetry as it arrives (None unless `telemetry_mode` is `cli`), with every payload
        posted until now."""
        if self.telemetry_mode != "cli":
            return None
        if self._intake is None:
            from claude_tui.parsing.otlp import TelemetryIntake

            self._intake = TelemetryIntake()
        intake = self._intake
        while self._otlp_posted:
            route, body = self._otlp_posted.popleft()
            (intake.logs if route == OTLP_LOGS_ROUTE else intake.metrics)(body)
        return intake

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
    def lifecycle(self) -> Lifecycle:
        """The process's state, conversations and time (`claude_tui.lifecycle.state`)."""
        from claude_tui.lifecycle.state import Lifecycle

        start, target = self.config.conversation_start()
        session_id = self.config.session_id if self.config.is_claude else None
        return Lifecycle.of_program(self.program_started, session_id=session_id, start=start, target=target)

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
            "content": config.content,
            "claude_config_dir": str(config.claude_config_dir) if config.is_claude else None,
            "transcript_path": None,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "claude_version": None,
            "tui_version": __version__,
            "terminal": {"cols": cols, "rows": rows},
            "program_started": self.program_started,
            "conversation_start": dict(zip(("start", "target"), config.conversation_start(), strict=True)),
            "first_session_id": config.session_id if config.is_claude else None,
            "hooks": self.routes is not None,
            "telemetry": self.telemetry_mode,
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

    # -- the lifecycle -------------------------------------------------------------------------------------

    FALLBACK_AFTER = 5.0
    """Seconds after the program's start with no hook at all after which its transcripts are looked for on
    disk (`lifecycle.discovery`): hooks blocked by a policy claude-tui cannot see, or a broken endpoint."""
    SCAN_EVERY = 2.0
    """Seconds between two looks for transcripts on disk (only while no hook has arrived)."""

    def listen(self, routes: SessionRoutes) -> None:
        """Take this session's hooks from `routes` (its part of the process's endpoint)."""
        from claude_tui.lifecycle.endpoint import HOOK_ROUTE

        self.routes = routes
        routes.handle(HOOK_ROUTE, self._posted)

    def _receive_telemetry(self) -> None:
        """Take the CLI's OTLP export on this session's routes (`otlp/v1/logs`, `otlp/v1/metrics`): kept as
        posted (`telemetry` decodes it)."""
        routes = self.config.telemetry_routes()
        assert routes is not None  # telemetry_mode is "cli" only for Claude
        for route in (OTLP_LOGS_ROUTE, OTLP_METRICS_ROUTE):
            routes.handle(route, self._telling(partial(self._keep_otlp, route)))
        self._otlp_routes = routes

    def _keep_otlp(self, route: str, body: bytes, headers: Mapping[str, str]) -> None:
        self._otlp_posted.append((route, body))

    def _take_telemetry(self) -> bool:
        """Fold the telemetry posted since the last poll and keep it in the spool; True if any came."""
        if self._otlp_routes is not None:
            self._otlp_routes.endpoint.serve()  # from the first poll on: after Claude's first frame
        intake = self.telemetry
        if intake is None or not intake.pending:
            return False
        from claude_tui.parsing.otlp import telemetry_to_dict

        taken = intake.take()
        if self.spool is not None and taken:
            self.spool.append_telemetry(telemetry_to_dict(event) for event in taken)
        return bool(taken)

    def _posted(self, body: bytes, headers: Mapping[str, str]) -> Reply | None:
        """A hook arrived (on the endpoint's thread): kept for the next `poll`, which `on_news` may hasten."""
        self._hooks.append((self._clock(), body))
        self._tell_news()
        return None

    def _telling(self, handler: Handler) -> Handler:
        """`handler`, then `on_news`."""

        def handle(body: bytes, headers: Mapping[str, str]) -> Reply | None:
            reply = handler(body, headers)
            self._tell_news()
            return reply

        return handle

    def _tell_news(self) -> None:
        notify = self.on_news
        if notify is not None:
            try:
                notify()
            except RuntimeError:  # the poller's event loop is closed: the app is going
                pass

    def terminal_bell(self) -> None:
        """The program rang the bell: where no hook has arrived, that is how a program says it waits."""
        from claude_tui.lifecycle.events import StandInSignal

        if not self.lifecycle.hooks_seen:
            self._signals.append(StandInSignal("bell", self._clock()))

    def program_ready(self) -> None:
        """The program has drawn and gone quiet (the view's fill-in): where no hook says more, it now waits
        for input (idle) rather than starting."""
        from claude_tui.lifecycle.events import StandInSignal

        if self.lifecycle.state == "starting" and not self.lifecycle.hooks_seen:
            self._signals.append(StandInSignal("idle", self._clock()))

    def terminal_title(self, title: str) -> None:
        """The program set its window title: Claude's says whether it is busy (`✳` when idle)."""
        from claude_tui.lifecycle.events import StandInSignal

        if not self.config.is_claude or self.lifecycle.hooks_seen or not title.strip():
            return
        kind: Literal["idle", "busy"] = "idle" if title.startswith(IDLE_TITLE_MARK) else "busy"
        if kind != self._last_title_kind:
            self._last_title_kind = kind
            self._signals.append(StandInSignal(kind, self._clock()))

    def _follow_lifecycle(self) -> bool:
        """Fold the hooks and signals that came since the last poll (and transcripts found on disk where no
        hook came); True when anything did."""
        from claude_tui.lifecycle.events import parse_hook

        if self.routes is not None:
            self.routes.endpoint.serve()  # from the first poll on: after Claude's first frame
        made: list[LifecycleEvent] = []
        while self._hooks:
            received, body = self._hooks.popleft()
            try:
                payload = json.loads(body)
            except ValueError:
                continue
            hook = parse_hook(payload, received)
            if hook is not None:
                made.append(hook)
        made += self._signals
        self._signals = []
        made += self._transcripts_found()
        return self._fold(made)

    def _fold(self, made: list[LifecycleEvent]) -> bool:
        """Fold lifecycle events (in time order) into the state, keep them in the spool; True if any."""
        from claude_tui.lifecycle.events import event_to_dict

        if not made:
            return False
        made.sort(key=lambda event: event.received)
        for event in made:
            transition = self.lifecycle.apply(event)
            if transition is not None and transition.state == "waiting":
                self._attention.append(transition)
                self._run_notify_command(transition)
        if self.spool is not None:
            self.spool.append_lifecycle(event_to_dict(event) for event in made)
        return True

    def _transcript_signals(self, events: Sequence[Event]) -> None:
        """Where no hook arrives, the transcript says when Claude works (a prompt) and when a turn ended."""
        from claude_tui.lifecycle.events import StandInSignal
        from claude_tui.parsing.events import TurnEnd, UserPrompt

        if self.lifecycle.hooks_seen:
            return
        signals: list[LifecycleEvent] = []
        for event in events:
            kind: Literal["busy", "idle"] | None = (
                "busy" if isinstance(event, UserPrompt) else "idle" if isinstance(event, TurnEnd) else None
            )
            if kind is not None:
                signals.append(StandInSignal(kind, event.ts if event.ts is not None else self._clock()))
        self._fold(signals)

    def _transcripts_found(self) -> list[LifecycleEvent]:
        """Transcripts the process wrote that no hook announced (only while no hook has arrived at all)."""
        if not self.config.is_claude or self.lifecycle.hooks_seen:
            return []
        now = self._clock()
        waited = now - self.program_started
        if (
            self.routes is not None and waited < self.FALLBACK_AFTER
        ) or now - self._last_scan < self.SCAN_EVERY:
            return []
        self._last_scan = now
        from claude_tui.lifecycle.discovery import TranscriptWatch
        from claude_tui.lifecycle.events import TranscriptFound

        if self._watch is None:
            self._watch = TranscriptWatch(self._project_folders, self.program_started)
        found = self._watch.scan(self.lifecycle.session_ids)
        return [TranscriptFound(session_id, path, now) for session_id, path in found]

    def _project_folders(self) -> list[str]:
        """The folders under `projects/` holding the work dir's transcripts (they may appear late)."""
        return [str(f) for f in claude_code.project_dirs(self.config.claude_config_dir, self.config.cwd)]

    def _run_notify_command(self, transition: Transition) -> None:
        command = self.config.notify_command
        if not command:
            return
        if self._notify_command is None:
            from claude_tui.lifecycle.notify import NotifyCommand

            self._notify_command = NotifyCommand(command)
        self._notify_command.run(
            {
                "CLAUDE_TUI_STATE": transition.state,
                "CLAUDE_TUI_REASON": transition.reason or "",
                "CLAUDE_TUI_SESSION_ID": transition.session_id or self.config.session_id,
                "CLAUDE_TUI_TITLE": self.title,
                "CLAUDE_TUI_CWD": str(self.config.cwd),
            }
        )

    def _open_tails(self) -> None:
        """A transcript tail for each conversation whose transcript exists (records of an earlier process
        in a resumed conversation's file are left out: `Conversation.since`)."""
        from claude_tui.parsing import TranscriptTail

        for conversation in self.lifecycle.conversations:
            if conversation.session_id in self._tails:
                continue
            path = conversation.transcript_path
            if path is None or not os.path.exists(path):
                found = claude_code.find_transcript(self.config.claude_config_dir, conversation.session_id)
                if found is None:
                    continue
                path = conversation.transcript_path = str(found)
            if not self._tails:
                # The sidebar's cost needs genai-prices (0.15-0.3 s to import): load it beside the UI now,
                # before Claude's first answer, rather than stall the first poll that has tokens.
                from claude_tui.parsing import prices

                prices.preload_in_background()
            self._tails[conversation.session_id] = TranscriptTail(path, since=conversation.since)

    # -- live updates ------------------------------------------------------------------------------------

    def poll(
        self,
        screen_lines: Sequence[str] | None = None,
        *,
        first_index: int = 0,
        final: bool = False,
        shell_marks: Sequence[str] = (),
    ) -> bool:
        """Read what is new (hooks; transcripts, shell marks, or screen text as a fallback); True when
        anything changed.

        `screen_lines` is the scrollback plus the screen, `screen_lines[i]` at absolute position
        `first_index + i` (`TerminalEmulator.history_dropped`). `final` (at the session's end) also takes a
        transcript line without its newline and the screen lines still waiting to be seen complete.
        `shell_marks` are the OSC 133 marks the program wrote since the last poll
        (`TerminalEmulator.take_shell_marks`): a shell's commands and their exit status.
        """
        from claude_tui.parsing import event_to_dict
        from claude_tui.parsing.events import ToolCall

        changed = self._follow_lifecycle()
        changed = self._take_telemetry() or changed
        events: list[Event] = []
        if self.config.is_claude:
            self._open_tails()
        if shell_marks and not self._tails:
            events = self._shell.feed(list(shell_marks), self._clock())
            for event in events:
                self.shell_stats.apply(event)
        elif self._tails:
            stats = self.transcript_stats
            for tail in self._tails.values():
                new = tail.poll(final=final)
                for event in new:
                    stats.apply(event)
                events += new
            stats.malformed_lines = sum(tail.malformed_lines for tail in self._tails.values())
            self._transcript_signals(events)
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
            return changed
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
        # A screen that has not changed since the last pass gives nothing new, unless a line there waits to
        # be seen unchanged: an idle session's poll then reads no scrollback (10,000 lines, 4x a second).
        if self.screen_due() and (emulator.bytes_fed != self._screen_fed or self._screen.waiting):
            self._screen_fed = emulator.bytes_fed
            # Positions count from the first line the terminal ever kept, so they stay put when the full
            # scrollback drops its oldest lines.
            first = emulator.history_dropped
            screen_lines = [*emulator.history_lines(), *emulator.display]
        return self.poll(screen_lines, first_index=first, shell_marks=emulator.take_shell_marks())

    def screen_due(self) -> bool:
        """Whether the next `poll` would read screen text (no transcript, no shell marks, and a screen pass
        is due)."""
        due = time.monotonic() - self._last_screen_poll >= self.POLL_SCREEN_EVERY
        return not self._tails and not self._shell_spoke and due

    @property
    def source(self) -> StatsSource:
        """Where the counts come from: `transcript` once Claude Code's transcript exists, `shell` once a shell
        sent OSC 133 marks, else `screen`; `none` for a program that has given nothing to count (no
        transcript, no marks, no tool line on screen) and is not Claude (whose transcript is on its way)."""
        if self._tails:
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
        if self._tails:
            return self.transcript_stats
        return self.shell_stats if self.source == "shell" else self.screen_stats

    def snapshot(self) -> SessionSnapshot:
        """What the sidebar draws now; `new_alerts` holds the alerts that fired since the last snapshot."""
        from claude_tui.snapshot import SessionSnapshot

        stats = self._active_stats()
        elapsed = self.elapsed()
        now = self.ended_at if self.ended_at is not None else self._clock()
        lifecycle = self.lifecycle
        attention, self._attention = self._attention, []
        cli = self.telemetry.telemetry if self.telemetry is not None else None
        # The CLI's own figure once it reported one (it counts requests no transcript record holds).
        cost = cli.cost_usd if cli is not None and cli.has_cost else stats.cost_usd
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
            state=lifecycle.state,
            state_reason=lifecycle.reason,
            working_seconds=round(lifecycle.seconds_in("working", now), 3),
            waiting_seconds=round(lifecycle.seconds_in("waiting", now), 3),
            permission_requests=lifecycle.permission_requests,
            permission_denials=stats.permission_denials,
            conversations=len(lifecycle.conversations),
            new_waits=tuple(t.reason or "Claude waits for you" for t in attention),
            cost_source="cli" if cli is not None and cli.has_cost else "estimate",
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
        self.lifecycle.finish(self.ended_at)
        if self.routes is not None:
            self.routes.close()
        if self._otlp_routes is not None:
            self._otlp_routes.close()
        if self._notify_command is not None:
            self._notify_command.wait(timeout=2.0)
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
                "lifecycle": self.lifecycle.summary(self.ended_at),
                "telemetry": self.telemetry.telemetry.summary() if self.telemetry is not None else None,
            }
        )


def _shown(value: float | None) -> str:
    """A stat's value in an alert line: whole numbers without a fraction, others with two decimals."""
    if value is None:
        return "?"
    return f"{value:g}" if float(value).is_integer() else f"{value:.2f}"
