"""`OwnerServer`: the process that owns every session's program, as tmux's server does.

Per session (`OwnedSession`) it runs the PTY pump (read, record into the spool, feed its emulator, answer
the program's terminal queries, notice the end), polls the `TrackedSession` (transcript tail, stats,
alerts) and knows the session's state; it passes the output on to every client showing the session
(`Connection`), with a snapshot of its emulator first. When a program ends it tells those clients at once,
finishes the spool off its event loop (final poll, clean.txt, the git diff) and hands it to a detached
logger process (`python -m claude_tui.tracking.background`), so neither the owner nor a UI imports mlflow
and a UI can exit the moment the program does.

A client that goes away (a UI that quit, was killed, or lost its terminal) changes nothing for the
sessions; SIGTERM or SIGHUP to the owner ends every session gracefully, logs each one, and stops the owner.
The owner stops by itself after `IDLE_EXIT` seconds without sessions, clients or loggers. docs/sessions.md
has the rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import math
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_tui import __version__
from claude_tui.owner.loggers import OwnerLoggers, StoreKey
from claude_tui.owner.protocol import (
    HISTORY,
    INPUT,
    MESSAGE,
    OUTPUT,
    PROTOCOL,
    SESSION_COUNTS,
    STATE,
    STATES,
    FrameReader,
    ProtocolError,
    as_socket,
    decode_message,
    encode,
    encode_message,
    hello,
    listen_socket,
)
from claude_tui.session import SessionConfig, TrackedSession
from claude_tui.terminal.collector import settle_garbage_collector
from claude_tui.terminal.emulator import STATE_VERSION, TerminalEmulator
from claude_tui.terminal.leave import ask_claude_to_leave
from claude_tui.terminal.pty_session import ExitStatus, PtySession, SpawnError
from claude_tui.terminal.pump import PtyPump
from claude_tui.tracking.errors import one_line

if TYPE_CHECKING:
    from claude_tui.owner.demo import DemoSandbox
    from claude_tui.owner.relay import EarlyRelay

__all__ = ["Connection", "OwnedSession", "OwnerServer", "run_owner"]

log = logging.getLogger(__name__)

COUNTS = SESSION_COUNTS
"""The stats `ls` shows of each session."""

TIMER_SLACK = 0.005
"""Seconds a timer may fire before its time (a tick at a poll's due time finds it due)."""


def idle_poll_at(polled_at: float, interval: float) -> float:
    """When an idle session last polled at `polled_at` is polled next: the first whole `interval` of the
    monotonic clock at least half an interval after it (so 0.5-1.5 intervals on, one on average). Every idle
    session is then polled at the same ticks, whatever their phases: 8 idle sessions polled each at its own
    time of the second woke the owner 8 times a second; on the shared grid, once."""
    return (math.floor(polled_at / interval + 0.5) + 1) * interval


LogSpool = Callable[..., Any]
"""`tracking.logger.log_spool` or a stand-in (tests): called in a thread instead of the logger process."""


class Connection(asyncio.Protocol):
    """One client of the owner: requests in, replies out; once attached, the stream of one session."""

    HIGH_WATER = 1 << 20
    """Bytes queued for a client before it counts as behind (`pause_writing`)."""

    def __init__(self, server: OwnerServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.reader = FrameReader()
        self.greeted = False
        self.same_version = False
        """The client runs this claude-tui version (anything but list/shutdown needs that)."""
        self.session: OwnedSession | None = None
        """The session whose stream this connection is (after attach or an attached spawn)."""
        self.paused = False
        self.paused_since = 0.0
        self.stale = False
        """Fell behind for too long: gets no output until it has caught up, then a fresh state."""
        self.failed = False
        """The owner refused the client (`fail`): nothing more it sends is handled."""
        self.held = False
        """Not read until `release`: a connection the early relay served, taken over with frames of its own
        to handle first (`OwnerServer.take_over`)."""

    # -- asyncio.Protocol --------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=self.HIGH_WATER)
        if self.held:
            transport.pause_reading()  # before the transport's reader is added: nothing is read yet
        self.server.connections.add(self)

    def release(self) -> None:
        """Read the client from now on (`held`)."""
        self.held = False
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.reader.feed(data)
            for kind, payload in frames:
                if self.failed:
                    return
                # Also once the client has gone: a `launch` whose command line click refused may have sent
                # its claim and closed before the owner read it; the claim tells which program to end.
                self.server.handle(self, kind, payload)
        except ProtocolError as exc:
            self.fail(str(exc))
        except Exception as exc:  # a bug must not take the owner (and every session) down
            log.exception("handling a request")
            self.fail(f"the session owner failed: {one_line(exc)}")

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.server.connection_lost(self)

    def pause_writing(self) -> None:
        self.paused = True
        self.paused_since = time.monotonic()

    def resume_writing(self) -> None:
        self.paused = False
        session = self.session
        if session is None:
            return
        if self.stale:
            self.stale = False
            session.send_screen(self)  # it missed output: start it again from the owner's screen
        session.watcher_resumed()

    # -- sending -----------------------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Queue bytes for the client (dropped once it is gone)."""
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(data)

    def message(self, message: dict[str, Any]) -> None:
        """Send one message."""
        self.send(encode_message(message))

    def fail(self, text: str) -> None:
        """Tell the client what went wrong, and close the connection."""
        self.message({"op": "error", "message": text})
        self.failed = True
        if self.transport is not None:
            self.transport.close()

    def close(self) -> None:
        """Close the connection once what is queued has been sent."""
        if self.transport is not None:
            self.transport.close()


class OwnedSession:
    """One program the owner runs: its pump, its tracked session once configured, its clients, its state.

    A program spawned early (before the client knew the whole session config, to start as soon as
    possible) is *unclaimed* until the client sends `configure`: nothing is read from it until then (its
    first output waits in the PTY), and it is ended if the client goes away first.
    """

    POLL_INTERVAL = 0.25
    """Seconds between transcript polls while the session is busy (the server ticks that often while any
    session is busy, and within that time of a quiet session's output or news: `OwnerServer.tick_soon`)."""
    IDLE_POLL_INTERVAL = 1.0
    """Seconds between polls while the session is idle: no output since the last poll, no hook or telemetry
    (they wake the next tick's poll), and its state is not `working` (8 idle sessions polled 4 times a second
    each kept the owner at 0.5 % CPU)."""
    UPKEEP_INTERVAL = 1.0
    """Seconds at most between ticks of a running session: its recording's flush (due once a second) and the
    exit check of a program that left a child holding its terminal (no end of file comes then)."""
    FIRST_POLL_AFTER = 1.0
    """The first poll builds the parsers (tens of ms): not before Claude has drawn its first frame."""
    STATS_EVERY = 15.0
    """Seconds between stats messages when nothing but the clocks changed (a window runs them on between:
    `OwnerPump.take_snapshot`; 8 idle sessions sending one a second cost the window 0.8 % CPU)."""
    IDLE_AFTER = 3.0
    """Seconds without output after which a program other than Claude counts as idle."""
    CLAUDE_EXIT_WAIT = 5.0
    """Seconds Claude gets to leave on its own (ctrl+c, and again on its hint) before it is terminated."""
    WARM_LOGGER_AFTER = 2.0
    """Seconds after the start when the warm logger of the session's store is started (`OwnerLoggers`): after
    Claude's first frame, which its imports must not slow down."""
    STUCK_AFTER = 2.0
    """Seconds a client may hold up the program's output before it is left behind (and resynced later)."""

    def __init__(
        self,
        server: OwnerServer,
        session_id: str,
        pump: PtyPump,
        *,
        env: dict[str, str | None] | None = None,
    ) -> None:
        self.server = server
        self.id = session_id
        self.pump = pump
        self.env = env
        """The environment overrides the program was spawned with (None: not known, the config's)."""
        pump.on_output = self._output
        self.config: SessionConfig | None = None
        self.tracked: TrackedSession | None = None
        """The session core (spool, stats), once configured."""
        self.watchers: set[Connection] = set()
        self.claimer: Connection | None = None
        """The connection that must configure this early-spawned program (None once claimed)."""
        self.state = "starting"
        self.created_at = time.time()
        self.ended_at: float | None = None
        self.exit_status: ExitStatus | None = None
        self.run: dict[str, Any] = {}
        """Where the session went: run_id, experiment_id, tracking_uri, ui_url; or error and spool."""
        self.snapshot: dict[str, Any] = {}
        """The latest stats snapshot (`SessionSnapshot.to_dict()`)."""
        self.hint: str | list[str] | None = None
        """The sidebar's advice a window shows with the session (the demo's prompts to type), as the client
        that started it gave it: every window that attaches shows it."""
        self.demo: DemoSandbox | None = None
        """A `claude-tui demo` session's stub server and scratch folders (closed when the session is over)."""
        self.early_output: list[bytes | tuple[int, int] | tuple[str, bytes]] = []
        """What the program wrote before the server started, and the resizes and keys between
        (`EarlyRelay.kept`): recorded and emulated when the session is configured, before anything read
        after."""
        self.relayed_to: Connection | None = None
        """The client the early relay sent this program's output to already (its attach sends no screen)."""
        self.wrap_up: asyncio.Task[None] | None = None
        self._reading = False
        self._writer = False
        self._terminating = False
        self._ending = False
        self._last_output = 0.0
        self._first_poll_at = time.monotonic() + self.FIRST_POLL_AFTER
        self._polled_at = 0.0
        self._news = False
        """A hook or telemetry arrived since the last poll (set on the endpoint's thread)."""
        self._stats_sent: dict[str, Any] = {}
        self._stats_sent_at = 0.0
        self._eof = False
        self._ready_said = False
        self._title_seen = ""
        self._bells_seen = 0

    # -- what clients see --------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True until the program has ended."""
        return self.exit_status is None

    @property
    def configured(self) -> bool:
        """True once the session has its config (and, when tracked, its spool)."""
        return self.config is not None

    def info(self) -> dict[str, Any]:
        """What `claude-tui ls` shows of the session, and what a UI needs to show its header."""
        config = self.config
        tracked = self.tracked
        snap = self.snapshot
        status = self.exit_status
        argv = self.pump.session.argv
        return {
            "id": self.id,
            "state": self.state,
            "pid": self.pump.session.pid,
            "command": config.command if config is not None else argv[0],
            "argv": argv,
            "cwd": str(config.cwd) if config is not None else None,
            "is_claude": bool(config is not None and config.is_claude),
            "title": snap.get("title") or (tracked.title if tracked is not None else Path(argv[0]).name),
            "branch": tracked.git_start.get("branch") if tracked is not None else None,
            "tracked": bool(tracked is not None and tracked.spool is not None),
            "tracking_uri": config.tracking_uri if config is not None else None,
            "experiment": config.experiment if config is not None else None,
            "started_at": self.created_at,
            "ended_at": self.ended_at,
            "exit_code": status.code if status is not None else None,
            "signal": status.signal if status is not None else None,
            "clients": len(self.watchers),
            "counts": {key: snap.get(key) for key in COUNTS},
            **self.run,
        }

    def attach(self, conn: Connection) -> None:
        """Make `conn` a stream of this session: the info, the owner's screen, then everything new."""
        if conn.session is not None and conn.session is not self:
            conn.session.watchers.discard(conn)
        conn.session = self
        self.watchers.add(conn)
        if conn is self.relayed_to:
            # It has a blank screen and every byte since (`EarlyRelay`): the same screen as this emulator's.
            self.relayed_to = None
            conn.message({"op": "state", "state": self.state, "session": self.info()})
        else:
            self.send_screen(conn)
        if self.snapshot:
            conn.message({"op": "stats", "snapshot": self.snapshot})
        if self.exit_status is not None:
            conn.message(self._exited_message())
        if self._reading is False and self.configured and self.running:
            self.start_reading()

    def send_screen(self, conn: Connection) -> None:
        """The session's info and the owner's emulator state; output that follows is fed on top of it."""
        config = self.config.to_dict() if self.config is not None else None
        conn.message(
            {
                "op": "attached",
                "session": self.info(),
                "config": config,
                "hint": self.hint,
                "state_version": STATE_VERSION,
            }
        )
        emulator = self.pump.emulator
        conn.send(encode(STATE, emulator.state(history=False)))  # the screen first: the UI draws it at once
        conn.send(encode(HISTORY, emulator.history_state()))

    def broadcast(self, message: dict[str, Any]) -> None:
        """Send a message to every client showing the session (in order with its output)."""
        frame = encode_message(message)
        for conn in self.watchers:
            if not conn.stale:
                conn.send(frame)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.broadcast({"op": "state", "state": state, "session": self.info()})

    # -- set-up --------------------------------------------------------------------------------------------

    async def configure(self, config: SessionConfig) -> None:
        """Give the session its config: the spool and the recording (in a thread: `git status` may be
        slow), then read the program.

        Raises:
            OSError: the spool could not be created (the program is ended).
        """
        config.session_id = self.id
        # The session takes its hooks and telemetry on this process's endpoint when the program was spawned
        # to post them here (the argv names its hook route, the environment its OTLP route).
        env = self.env if self.env is not None else dict(config.env)
        # The program started when it was spawned (`created_at`; the early relay's start), not now: records a
        # resumed conversation's file holds from before then are an earlier process's (`Conversation.since`),
        # and the relay configures the session only once Claude has drawn (0.5-2 s after its spawn).
        tracked = TrackedSession(
            config, argv=self.pump.session.argv, env=env, program_started=self.created_at
        )
        tracked.on_news = self._news_came
        emulator = self.pump.emulator
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, tracked.start, emulator.cols, emulator.rows)
        self.pump.recorder = tracked.recorder
        self._take_early_output()
        self.config, self.tracked = config, tracked
        self.claimer = None
        if self.running:
            self.start_reading()
            loop.call_later(self.WARM_LOGGER_AFTER, self.server.warm_logger_for, self)

    def _take_early_output(self) -> None:
        """Record and emulate what the early relay read (the recording holds every byte); answer the
        terminal queries in it now (Claude does not wait for the answers)."""
        early, self.early_output = self.early_output, []
        if not early:
            return
        pump = self.pump
        recorder = pump.recorder
        for data in early:
            if isinstance(data, tuple):
                if isinstance(data[1], bytes):  # keys the relay wrote to the program
                    if recorder is not None:
                        recorder.input(data[1])
                elif isinstance(data[0], int):  # a resize between (the program's terminal was resized then)
                    pump.emulator.resize(data[0], data[1])
                    if recorder is not None:
                        recorder.resize(data[0], data[1])
                continue
            if recorder is not None:
                recorder.output(data)
            try:
                pump.emulator.feed(data)
            except Exception:  # the emulator must survive garbage (as `PtyPump` feeds it)
                log.exception("emulator failed on %d bytes", len(data))
        self._last_output = time.monotonic()
        replies = pump.emulator.take_replies()
        if replies:
            pump.write(replies)
            if pump.writes_pending:
                self._register_writer()

    # -- the program's output and input --------------------------------------------------------------------

    def start_reading(self) -> None:
        """Read the program from now on (it is configured, and not being ended)."""
        if self._reading or not self.running or self._terminating or self._eof:
            return
        asyncio.get_running_loop().add_reader(self.pump.fileno(), self._readable)
        self._reading = True

    def _pause_reading(self) -> None:
        if self._reading:
            asyncio.get_running_loop().remove_reader(self.pump.fileno())
            self._reading = False

    def _stop_io(self) -> None:
        self._pause_reading()
        if self._writer:
            asyncio.get_running_loop().remove_writer(self.pump.fileno())
            self._writer = False

    def _readable(self) -> None:
        held = [conn for conn in self.watchers if conn.paused and not conn.stale]
        if held:
            # A client is behind: the program waits (its output stays in the PTY) until it catches up, or
            # until STUCK_AFTER, when that client is left behind (it gets the screen again later).
            self._pause_reading()
            asyncio.get_running_loop().call_later(self.STUCK_AFTER, self._leave_behind_stuck_clients)
            return
        result = self.pump.pump()
        if self.pump.writes_pending:
            self._register_writer()  # answers to the program's queries that did not fit
        if result.ended:
            self._eof = True
            self._pause_reading()
            self.server.check_exit_soon(self)

    def _output(self, data: bytes) -> None:
        self._last_output = time.monotonic()
        self.server.tick_soon()  # a quiet owner's next tick may be a second away: output is polled sooner
        if self.watchers:
            frame = encode(OUTPUT, data)
            for conn in self.watchers:
                if not conn.stale:
                    conn.send(frame)

    def watcher_resumed(self) -> None:
        """A client caught up: read on, unless another one is still behind."""
        if not any(conn.paused and not conn.stale for conn in self.watchers) and self.configured:
            self.start_reading()

    def _leave_behind_stuck_clients(self) -> None:
        now = time.monotonic()
        for conn in self.watchers:
            if conn.paused and not conn.stale and now - conn.paused_since >= self.STUCK_AFTER - 0.01:
                conn.stale = True
        self.watcher_resumed()

    def write(self, data: bytes) -> None:
        """Keys and pastes from a client (dropped before the session is configured or after it ended)."""
        if not self.configured or not self.running or self._terminating:
            return
        self.pump.write(data)
        if self.pump.writes_pending:
            self._register_writer()

    def _register_writer(self) -> None:
        if not self._writer:
            asyncio.get_running_loop().add_writer(self.pump.fileno(), self._writable)
            self._writer = True

    def _writable(self) -> None:
        if self.pump.flush_writes() and self._writer:
            asyncio.get_running_loop().remove_writer(self.pump.fileno())
            self._writer = False

    def resize(self, cols: int, rows: int) -> None:
        """Resize the program's terminal and the owner's screen; clients resize theirs at this point of
        the stream (the `resized` message), so every copy of the screen stays the same."""
        cols, rows = max(1, min(int(cols), 2000)), max(1, min(int(rows), 2000))
        self.pump.resize(cols, rows)
        self.broadcast({"op": "resized", "cols": cols, "rows": rows})

    # -- the periodic tick -----------------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Upkeep, a few times a second: the exit check, the recording's flush, the stats, the state."""
        if self.running and not self._terminating and self.configured:
            status = self.pump.housekeeping()
            if status is not None:
                self.ended(status)
                return
        if self.tracked is None or not self.running or now < self._first_poll_at:
            return
        if self._poll_due(now):
            self._poll(now)

    def _news_came(self) -> None:
        """A hook or telemetry came (on the endpoint's thread): the next tick polls, and comes soon."""
        self._news = True
        self.server.tick_soon_threadsafe()

    def next_tick_in(self, now: float) -> float | None:
        """Seconds until this session needs the server's tick (`tick`); None while it needs none (not
        configured yet, ended, being ended). Busy: `POLL_INTERVAL`; idle: its next idle poll, or the first
        poll; never more than `UPKEEP_INTERVAL` (the recording's flush, the exit check)."""
        if not self.configured or not self.running or self._terminating:
            return None
        if now < self._first_poll_at:
            return min(self._first_poll_at - now, self.UPKEEP_INTERVAL)
        if self._news or self._last_output >= self._polled_at or self.state == "working":
            return self.POLL_INTERVAL
        due = idle_poll_at(self._polled_at, self.IDLE_POLL_INTERVAL)
        return min(max(0.0, due - now), self.UPKEEP_INTERVAL)

    def _poll_due(self, now: float) -> bool:
        """Busy (output since the last poll, news, `working`): each tick; idle: at `idle_poll_at`."""
        busy = self._news or self._last_output >= self._polled_at or self.state == "working"
        return busy or now >= idle_poll_at(self._polled_at, self.IDLE_POLL_INTERVAL) - TIMER_SLACK

    def _poll(self, now: float) -> None:
        tracked = self.tracked
        assert tracked is not None
        self._polled_at, self._news = time.monotonic(), False
        self._terminal_signals(tracked)
        tracked.poll_terminal(self.pump.emulator)
        snapshot = tracked.snapshot().to_dict()
        self.snapshot = snapshot
        changed = {k: v for k, v in snapshot.items() if k != "elapsed_seconds"} != {
            k: v for k, v in self._stats_sent.items() if k != "elapsed_seconds"
        }
        if self.watchers and (
            changed or snapshot["new_alerts"] or now - self._stats_sent_at >= self.STATS_EVERY
        ):
            self.broadcast({"op": "stats", "snapshot": snapshot})
            self._stats_sent, self._stats_sent_at = snapshot, now
        state = snapshot.get("state")
        if state != "waiting" and not tracked.lifecycle.hooks_seen:
            state = self._activity(now)  # no hook says more: the title and the output do
        self._set_state(state if state in STATES else self._activity(now))

    def _terminal_signals(self, tracked: TrackedSession) -> None:
        """What a UI's pane tells its session, told here: the program is up (the first poll, as the view's
        fill-in), its window title, its bell. Where no hook comes (hooks off, or blocked by a policy) these
        are how the session knows it is idle, working, or waiting for the person."""
        emulator = self.pump.emulator
        if not self._ready_said:
            self._ready_said = True
            tracked.program_ready()
        if emulator.title != self._title_seen:
            self._title_seen = emulator.title
            tracked.terminal_title(emulator.title)
        if emulator.bell_count != self._bells_seen:
            self._bells_seen = emulator.bell_count
            tracked.terminal_bell()

    def _activity(self, now: float) -> str:
        """Working or idle: Claude says so in its window title (a spinner while busy, ✳ when idle); for
        other programs, output within `IDLE_AFTER` seconds counts as working."""
        if self.config is not None and self.config.is_claude:
            title = self.pump.emulator.title
            if title.startswith("✳"):
                return "idle"
            if title:
                return "working"
        return "working" if now - self._last_output < self.IDLE_AFTER else "idle"

    # -- the end -------------------------------------------------------------------------------------------

    def check_exit(self) -> bool:
        """After the PTY closed: True once the program's exit status is known (and handled)."""
        if not self.running:
            return True
        if self._terminating:
            return True
        status = self.pump.check_exit()
        if status is None:
            return False
        self.ended(status)
        return True

    def ended(self, status: ExitStatus) -> None:
        """The program ended: tell the clients at once, then wrap the session up off the event loop."""
        if self.exit_status is not None:
            return
        self._stop_io()
        self.exit_status = status
        self.ended_at = time.time()
        emulator = self.pump.emulator
        lines = [*emulator.history_lines(), *emulator.display]
        first = emulator.history_dropped
        marks = emulator.take_shell_marks()  # a shell's last command (`exit`) came with its last output
        with contextlib.suppress(Exception):
            self.pump.close()
        self.state = "ended"
        self.broadcast(self._exited_message())
        self.wrap_up = asyncio.get_running_loop().create_task(self._wrap_up(status, lines, first, marks))

    def _exited_message(self) -> dict[str, Any]:
        status = self.exit_status
        assert status is not None
        return {"op": "exited", "code": status.code, "signal": status.signal, "session": self.info()}

    async def _wrap_up(self, status: ExitStatus, lines: list[str], first: int, marks: list[str]) -> None:
        """The last poll, clean.txt, the git changes, the summary (in a thread), then the logger."""
        tracked = self.tracked
        if tracked is None:  # never configured: nothing was recorded
            self.server.session_done(self)
            return
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(
                None,
                lambda: tracked.finish(
                    status.code, status.signal, lines, first_index=first, shell_marks=marks
                ),
            )
        except Exception as exc:  # e.g. a full disk: the spool keeps what was written, for `claude-tui sync`
            log.exception("finishing session %s", self.id)
            self._not_logged(one_line(exc))
            self.server.session_done(self)
            return
        finally:
            if tracked.spool is not None:
                tracked.spool.close()  # the owner lock: the spool is finished now, loggable by anyone
        if tracked.spool is None:
            self._set_state("ended")
            self.server.session_done(self)
            return
        self._set_state("logging")
        result = await self.server.log_spool_of(self)
        if result.get("error"):
            self._not_logged(str(result["error"]))
        else:
            self.run = {key: result.get(key) for key in ("run_id", "experiment_id", "tracking_uri", "ui_url")}
            self._set_state("logged")
        self.server.session_done(self)

    def _not_logged(self, error: str) -> None:
        spool = self.tracked.spool if self.tracked is not None else None
        self.run = {"error": error, "spool": str(spool.path) if spool is not None else None}
        self._set_state("not logged")

    async def end(self) -> None:
        """End the program gracefully: Claude is asked to leave as a user does (ctrl+c twice, the second on
        its hint: it exits 0 and flushes its transcript); a program that does not leave in time, or any
        other program, gets SIGHUP/SIGTERM, then SIGKILL."""
        if not self.running or self._ending:
            return
        self._ending = True
        if self.config is not None and self.config.is_claude and self._reading:
            await ask_claude_to_leave(self.write, self.pump.emulator, self.check_exit, self.CLAUDE_EXIT_WAIT)
        if self.running:
            await self.terminate()

    async def terminate(self, grace: float = 3.0) -> None:
        """SIGHUP/SIGTERM, SIGKILL after `grace` seconds (in a thread; the fd leaves the loop first)."""
        if not self.running or self._terminating:
            return
        self._terminating = True
        with contextlib.suppress(Exception):
            self.pump.drain()
        self._stop_io()
        loop = asyncio.get_running_loop()
        status = await loop.run_in_executor(None, self.pump.terminate, grace)
        self._terminating = False
        self.ended(status)


class OwnerServer:
    """Serves the owner's socket: sessions, their clients, their end.

    Args:
        path: the socket's path (`protocol.socket_path()`).
        listen: a socket already listening there (the launch code binds it before forking the owner, so
            the first client's connection waits in its backlog); default: bind `path` here.
        log_spool: logs a finished spool in a thread of this process instead of a logger process (tests).
        idle_exit: stop after this many seconds with no session running, no client and no logger; None:
            never (tests).
    """

    IDLE_EXIT = 60.0
    """Seconds the owner stays up with nothing to do (a quick next `claude-tui` finds it running)."""
    ENDED_KEPT = 3600.0
    """Seconds `ls` still lists a session after it ended."""
    IDLE_TICK = 1.0
    """Seconds between ticks with no session that needs one sooner."""
    MIN_TICK = 0.01
    """Seconds at least between ticks (a session whose poll is due now waits that long, not a busy loop)."""
    COLLECT_AFTER = 2.0
    """Seconds after the owner process starts serving when what start-up made is frozen and the collector
    resumes (`run_owner`: a forked owner's imports compete with Claude's start, docs/startup.md)."""

    def __init__(
        self,
        path: Path,
        *,
        listen: socket.socket | None = None,
        log_spool: LogSpool | None = None,
        idle_exit: float | None = IDLE_EXIT,
    ) -> None:
        self.path = path
        self.log_spool = log_spool
        self.idle_exit = idle_exit
        self.sessions: dict[str, OwnedSession] = {}
        """Every session, oldest first (ended ones for `ENDED_KEPT` seconds)."""
        self.connections: set[Connection] = set()
        self._listen = listen
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread: threading.Thread | None = None
        self._idle_since: float | None = None
        self._tick_handle: asyncio.TimerHandle | None = None
        self._logging: set[OwnedSession] = set()
        self.loggers = OwnerLoggers(path.parent / "logger.log")
        """The logger processes (warm ones by store)."""
        self._shutting_down = False
        self._socket_inode: int | None = None
        self._relay: EarlyRelay | None = None

    # -- running -----------------------------------------------------------------------------------------

    def adopt(
        self, session_id: str, pty: PtySession, env: dict[str, str | None] | None = None
    ) -> OwnedSession:
        """Take a program spawned before the server started (the fork path of `launch`, with the environment
        overrides `env`); its client claims it with a `spawn` request naming `session_id`."""
        session = OwnedSession(self, session_id, PtyPump(pty), env=env)
        self.sessions[session_id] = session
        return session

    def take_over(self, relay: EarlyRelay) -> None:
        """Carry on from the early relay once serving (`serve`): its program's output so far (adopt the
        program first), and its client, whose claim is configured before the frames it sent since."""
        session = self.sessions.get(relay.session_id)
        if session is not None:
            if relay.size != (session.pump.emulator.cols, session.pump.emulator.rows):
                # The output kept starts at the size the program was spawned with: so does this screen.
                session.pump.emulator = TerminalEmulator(*relay.size)
            session.early_output = relay.kept
            session.created_at = relay.started_at
        self._relay = relay

    async def _take_over_client(self, relay: EarlyRelay) -> None:
        """The relay's connection as a `Connection` (held until what the relay left is handled)."""
        if relay.sock is None:
            return
        conn = Connection(self)
        conn.held = True
        conn.greeted = conn.same_version = relay.greeted
        conn.reader = relay.reader
        session = self.sessions.get(relay.session_id)
        if relay.claimed and session is not None:
            session.claimer, conn.session = conn, session
            if relay.configure is not None:
                session.relayed_to = conn
        await self._serve_relayed(conn, relay, session)

    async def _serve_relayed(self, conn: Connection, relay: EarlyRelay, session: OwnedSession | None) -> None:
        assert relay.sock is not None
        loop = asyncio.get_running_loop()
        await loop.connect_accepted_socket(lambda: conn, sock=as_socket(relay.sock))
        if not relay.gone:
            conn.send(bytes(relay.unsent))
        try:
            if relay.configure is not None and session is not None and session.claimer is conn:
                await self._claim(conn, session, relay.configure)  # as `configure` does
            if relay.broken is not None:
                conn.fail(relay.broken)
            for kind, payload in relay.pending:
                if conn.failed:
                    break
                self.handle(conn, kind, payload)
        except ProtocolError as exc:
            conn.fail(str(exc))
        except Exception as exc:  # a bug must not take the owner (and every session) down
            log.exception("taking over the early client")
            conn.fail(f"the session owner failed: {one_line(exc)}")
        conn.release()

    def run(self) -> None:
        """Serve until stopped (blocking)."""
        asyncio.run(self.serve())

    async def serve(self) -> None:
        """Serve until stopped."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._stopped = asyncio.Event()
        sock = self._listen if self._listen is not None else listen_socket(self.path)
        with contextlib.suppress(OSError):
            self._socket_inode = os.stat(self.path).st_ino
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(sig, self.request_shutdown)
            with contextlib.suppress(ValueError, OSError):
                signal.signal(signal.SIGINT, signal.SIG_IGN)
        if self._relay is not None:
            # The early relay's client first, its claim configured: a client waiting in the backlog (`ls`,
            # `attach`) then finds the session as it did when the owner configured it before any output.
            relay, self._relay = self._relay, None
            await self._take_over_client(relay)
        server = await loop.create_unix_server(lambda: Connection(self), sock=sock)
        for session in self.sessions.values():
            if session.claimer is None and session.config is None:
                # Adopted: its client has a few seconds to claim it (its connection may be in the backlog).
                loop.call_later(10.0, self._end_unclaimed, session)
        self._arm_tick(OwnedSession.POLL_INTERVAL)
        self._started.set()
        try:
            await self._stopped.wait()
        finally:
            if self._tick_handle is not None:
                self._tick_handle.cancel()
                self._tick_handle = None
            server.close()
            self._remove_socket()
            for conn in list(self.connections):
                conn.close()
            await asyncio.sleep(0)

    def _remove_socket(self) -> None:
        """Remove the socket file, if it is still ours (a newer owner may have replaced a stale one)."""
        with contextlib.suppress(OSError):
            if self._socket_inode is None or os.stat(self.path).st_ino == self._socket_inode:
                self.path.unlink()

    def start_thread(self) -> OwnerServer:
        """Serve in a daemon thread (tests): same code, same protocol, same socket."""
        self._thread = threading.Thread(target=self.run, name="owner", daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the owner did not start")
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """From another thread: end every session gracefully, log them, stop (waits for the thread)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.request_shutdown)
        if self._thread is not None:
            self._thread.join(timeout)

    def request_shutdown(self) -> None:
        """End every session gracefully, hand each to its logger, then stop (SIGTERM, SIGHUP, `shutdown`)."""
        if self._shutting_down or self._loop is None:
            return
        self._shutting_down = True
        self._loop.create_task(self._shutdown())

    async def _shutdown(self) -> None:
        await asyncio.gather(*(s.end() for s in self.sessions.values() if s.running), return_exceptions=True)
        pending = [
            s.wrap_up for s in self.sessions.values() if s.wrap_up is not None and not s.wrap_up.done()
        ]
        if pending:
            await asyncio.wait(pending, timeout=120)
        self.loggers.close_unused(set())
        assert self._stopped is not None
        self._stopped.set()

    def _tick(self) -> None:
        """The upkeep of every session (`OwnedSession.tick`), then the next tick's timer (`next_tick_in`)."""
        self._tick_handle = None
        now = time.monotonic()
        for session in list(self.sessions.values()):
            try:
                session.tick(now)
            except Exception:  # one session's bug must not stop the others' upkeep
                log.exception("upkeep of session %s", session.id)
        self._forget_old_sessions()
        self._check_idle(now)
        if self._stopped is not None and not self._stopped.is_set():
            self._arm_tick(self.next_tick_in(time.monotonic()))

    def next_tick_in(self, now: float) -> float:
        """Seconds until the next tick: the soonest any session needs (`OwnedSession.next_tick_in`), at most
        `IDLE_TICK` (ended sessions to forget, the idle exit). Idle sessions are ticked together, once a
        second (issue 19, target 2: each tick of a quiet owner is CPU taken for nothing)."""
        delays = (session.next_tick_in(now) for session in self.sessions.values())
        return max(self.MIN_TICK, min((d for d in delays if d is not None), default=self.IDLE_TICK))

    def _arm_tick(self, delay: float) -> None:
        """The next tick in `delay` seconds, unless one comes sooner already."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        when = loop.time() + delay
        if self._tick_handle is not None:
            if self._tick_handle.when() <= when:
                return
            self._tick_handle.cancel()
        self._tick_handle = loop.call_at(when, self._tick)

    def tick_soon(self) -> None:
        """Output or news came: the next tick within `OwnedSession.POLL_INTERVAL` (on the event loop)."""
        self._arm_tick(OwnedSession.POLL_INTERVAL)

    def tick_soon_threadsafe(self) -> None:
        """`tick_soon` from another thread (the endpoint's)."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: the owner is stopping
                loop.call_soon_threadsafe(self.tick_soon)

    def _forget_old_sessions(self) -> None:
        cutoff = time.time() - self.ENDED_KEPT
        for session_id, session in list(self.sessions.items()):
            done = session.wrap_up is None or session.wrap_up.done()
            if session.ended_at is not None and session.ended_at < cutoff and done and not session.watchers:
                del self.sessions[session_id]

    def _check_idle(self, now: float) -> None:
        busy = self.connections or self._logging or any(s.running for s in self.sessions.values())
        if busy or self.idle_exit is None:
            self._idle_since = None
            return
        if self._idle_since is None:
            self._idle_since = now
        elif now - self._idle_since >= self.idle_exit and self._stopped is not None:
            log.info("idle for %.0f s: stopping", self.idle_exit)
            self._stopped.set()

    def check_exit_soon(self, session: OwnedSession) -> None:
        """The PTY closed: look for the exit status until the program is gone (it may take a moment)."""
        if not session.check_exit() and self._loop is not None:
            self._loop.call_later(0.02, self.check_exit_soon, session)

    def close_demo(self, demo: DemoSandbox, *, keep_files: bool = False) -> None:
        """Stop a demo session's stub and remove its folders (`DemoSandbox.close`), off the event loop; kept
        when the session was not logged (its spool points at the transcript there, for `claude-tui sync`)."""
        if keep_files:
            log.info("demo files kept in %s: the session was not logged", demo.root)
        close = functools.partial(demo.close, keep_files=keep_files)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.run_in_executor(None, close)
        else:
            close()

    def _end_unclaimed(self, session: OwnedSession) -> None:
        if session.config is None and session.claimer is None and session.running and self._loop is not None:
            log.info("session %s was never claimed: ending it", session.id)
            self._loop.create_task(session.terminate(grace=0.5))

    def session_done(self, session: OwnedSession) -> None:
        """The session's wrap-up is over (logged, or not)."""
        demo, session.demo = session.demo, None
        if demo is not None:
            self.close_demo(demo, keep_files=session.state == "not logged")
        self._logging.discard(session)
        if session.config is None and self.sessions.get(session.id) is session:
            self.sessions.pop(session.id, None)  # an unclaimed program: nothing to list
        self._close_unused_loggers()

    # -- connections -------------------------------------------------------------------------------------

    def connection_lost(self, conn: Connection) -> None:
        """A client went away: its sessions run on, except a program it spawned early and never claimed."""
        self.connections.discard(conn)
        session = conn.session
        if session is not None:
            session.watchers.discard(conn)
            session.watcher_resumed()
        for session in list(self.sessions.values()):
            if session.relayed_to is conn:
                continue  # its config came (to the early relay): it is being configured, and runs on
            if session.claimer is conn and session.config is None and session.running:
                assert self._loop is not None
                self._loop.create_task(session.terminate(grace=0.5))

    def handle(self, conn: Connection, kind: int, payload: bytes) -> None:
        """One frame from a client."""
        if kind == INPUT:
            if conn.session is not None:
                conn.session.write(payload)
            return
        if kind != MESSAGE:
            raise ProtocolError(f"unexpected frame kind {kind}")
        message = decode_message(payload)
        op = message["op"]
        if not conn.greeted:
            if op != "hello":
                raise ProtocolError("the first message must be hello")
            conn.greeted = True
            conn.same_version = message.get("protocol") == PROTOCOL and message.get("version") == __version__
            conn.message({**hello(), "sessions": sum(1 for s in self.sessions.values() if s.running)})
            return
        handler = getattr(self, f"_op_{op}", None)
        if handler is None:
            raise ProtocolError(f"unknown op {op!r}")
        if op not in ("list", "shutdown", "ping") and not conn.same_version:
            conn.fail(
                f"this session owner runs claude-tui {__version__} (protocol {PROTOCOL}); "
                "use that version to reach its sessions"
            )
            return
        handler(conn, message)

    def _find(self, conn: Connection, message: dict[str, Any]) -> OwnedSession | None:
        """The session a message names (by id or a unique prefix), or the connection's own."""
        wanted = message.get("id")
        if not wanted:
            if conn.session is None:
                conn.fail("no session given")
            return conn.session
        session = self.sessions.get(str(wanted))
        if session is None:
            found = [s for key, s in self.sessions.items() if key.startswith(str(wanted))]
            if len(found) != 1:
                conn.fail(f"no session {wanted}" if not found else f"session id {wanted} is ambiguous")
                return None
            session = found[0]
        return session

    # -- ops -----------------------------------------------------------------------------------------------

    def _op_ping(self, conn: Connection, message: dict[str, Any]) -> None:
        conn.message({"op": "pong"})

    def _op_list(self, conn: Connection, message: dict[str, Any]) -> None:
        conn.message(
            {
                "op": "sessions",
                "version": __version__,
                "pid": os.getpid(),
                "sessions": [s.info() for s in self.sessions.values() if s.configured],
            }
        )

    def _op_shutdown(self, conn: Connection, message: dict[str, Any]) -> None:
        conn.message({"op": "ok"})
        self.request_shutdown()

    def _op_spawn(self, conn: Connection, message: dict[str, Any]) -> None:
        """Start a program (or claim the one the fork path started); `config` now or with `configure`."""
        session_id = str(message.get("session_id") or "")
        session = self.sessions.get(session_id) if session_id else None
        if session is not None:
            if session.config is not None or session.claimer is not None:
                conn.fail(f"session {session_id} exists already")
                return
        else:
            try:
                session = self._spawn(message)
            except (SpawnError, OSError, ValueError, KeyError, TypeError) as exc:
                conn.fail(
                    str(exc) if isinstance(exc, SpawnError) else f"cannot start the program: {one_line(exc)}"
                )
                return
        conn.message({"op": "spawned", "id": session.id, "pid": session.pump.session.pid})
        hint = message.get("hint")
        if isinstance(hint, str) or (isinstance(hint, list) and all(isinstance(line, str) for line in hint)):
            session.hint = hint
        config = message.get("config")
        if config is None or message.get("early"):
            # Spawned before the client has read its whole command line (`launch`): it sends `configure`.
            session.claimer = conn
            conn.session = session
            return
        self._start_configure(conn, session, config, attach=bool(message.get("attach")))

    def _spawn(self, message: dict[str, Any]) -> OwnedSession:
        """Spawn the program of a `spawn` request: its `argv` as given, or (a session's `config` without
        `argv`) the argv and environment the config makes here, so that Claude posts its hooks and exports
        its telemetry to this process's endpoint (`SessionConfig.argv`, `program_env`). With `demo` (from
        `claude-tui demo`), the session's stub server starts here first (`owner.demo.DemoSandbox`)."""
        values = message.get("config") or {}
        demo: DemoSandbox | None = None
        if isinstance(message.get("demo"), dict) and isinstance(message.get("config"), dict):
            from claude_tui.owner.demo import DemoSandbox

            demo = DemoSandbox.start(message["demo"])  # the session's config points Claude at its stub
            values["env"] = {**(values.get("env") or {}), **demo.env()}
        try:
            session = self._spawn_program(message, values)
        except BaseException:
            if demo is not None:
                self.close_demo(demo)
            raise
        session.demo = demo
        return session

    def _spawn_program(self, message: dict[str, Any], values: dict[str, Any]) -> OwnedSession:
        """`_spawn`'s program, with the session's config `values`."""
        environ = message.get("environ")
        base = {str(k): str(v) for k, v in environ.items()} if isinstance(environ, dict) else None
        overrides: dict[str, str | None] = dict(values.get("env") or {})
        if message.get("argv") is not None:
            argv = [str(word) for word in message["argv"]]
        else:
            config = SessionConfig.from_dict(values)
            argv = config.argv(program=message.get("program"))
            overrides, _ = config.program_env(base)
        session_id = str(message.get("session_id") or values.get("session_id") or "")
        if not session_id or session_id in self.sessions:
            import uuid

            session_id = str(uuid.uuid4())
        pty = PtySession.spawn(
            argv,
            cwd=message.get("cwd"),
            env=overrides,
            cols=int(message.get("cols") or 80),
            rows=int(message.get("rows") or 24),
            base_env=base,
        )
        session = OwnedSession(self, session_id, PtyPump(pty), env=overrides)
        self.sessions[session_id] = session
        return session

    def _op_configure(self, conn: Connection, message: dict[str, Any]) -> None:
        """Claim the program spawned early with the session's whole config, and attach. With `program`, the
        program it must be: the argv and environment the config makes here; an early program spawned from
        a command line read otherwise is replaced."""
        session = conn.session
        if session is None or session.claimer is not conn:
            conn.fail("nothing to configure: spawn first")
            return
        assert self._loop is not None
        self._loop.create_task(self._claim(conn, session, message))

    async def _claim(self, conn: Connection, session: OwnedSession, message: dict[str, Any]) -> None:
        values = message.get("config") or {}
        if message.get("program") is not None and session.env is not None:
            try:
                config = SessionConfig.from_dict(values)
                environ = message.get("environ")
                base = {str(k): str(v) for k, v in environ.items()} if isinstance(environ, dict) else None
                wanted = (config.argv(program=message["program"]), config.program_env(base)[0])
            except Exception as exc:
                conn.fail(f"cannot start the program: {one_line(exc)}")
                await session.terminate(grace=0.5)
                return
            if wanted != (session.pump.session.argv, session.env):
                log.info("session %s: the early program is not the one asked for: replacing it", session.id)
                session.claimer = None
                await session.terminate(grace=0.5)
                if self.sessions.get(session.id) is session:
                    del self.sessions[session.id]  # the new program takes its id
                emulator = session.pump.emulator
                try:
                    session = self._spawn(
                        {
                            **message,
                            "argv": None,
                            "session_id": None,
                            "cols": emulator.cols,
                            "rows": emulator.rows,
                            "cwd": values.get("cwd"),
                        }
                    )
                except (SpawnError, OSError, ValueError, KeyError, TypeError) as exc:
                    conn.fail(str(exc) if isinstance(exc, SpawnError) else f"cannot start the program: {exc}")
                    return
                session.claimer, conn.session = conn, session
        await self._configure(conn, session, values, True)

    def _start_configure(self, conn: Connection, session: OwnedSession, values: Any, *, attach: bool) -> None:
        assert self._loop is not None
        self._loop.create_task(self._configure(conn, session, values, attach))

    async def _configure(self, conn: Connection, session: OwnedSession, values: Any, attach: bool) -> None:
        try:
            config = SessionConfig.from_dict({**values, "session_id": session.id})
            await session.configure(config)
        except Exception as exc:
            message = f"cannot create the session record: {one_line(exc)}"
            log.warning("session %s: %s", session.id, message)
            conn.fail(message)
            session.claimer = None
            await session.terminate(grace=0.5)
            self.sessions.pop(session.id, None)
            return
        if attach and conn.transport is not None:
            session.attach(conn)
        elif not attach:
            conn.message({"op": "configured", "session": session.info()})

    def _op_discard(self, conn: Connection, message: dict[str, Any]) -> None:
        """The client will not use the program it spawned early (its command line was not what the early
        parser read): end it."""
        session = conn.session
        if session is not None and session.claimer is conn and session.config is None:
            assert self._loop is not None
            self._loop.create_task(session.terminate(grace=0.5))
        conn.session = None
        conn.message({"op": "ok"})

    def _op_attach(self, conn: Connection, message: dict[str, Any]) -> None:
        session = self._find(conn, message)
        if session is not None:
            if not session.configured:
                conn.fail(f"session {session.id} is still starting")
                return
            session.attach(conn)

    def _op_detach(self, conn: Connection, message: dict[str, Any]) -> None:
        if conn.session is not None:
            conn.session.watchers.discard(conn)
            conn.session.watcher_resumed()
            conn.session = None
        conn.message({"op": "ok"})

    def _op_resize(self, conn: Connection, message: dict[str, Any]) -> None:
        session = conn.session
        if session is not None and session.running:
            session.resize(message.get("cols") or 80, message.get("rows") or 24)

    def _op_end(self, conn: Connection, message: dict[str, Any]) -> None:
        session = self._find(conn, message)
        if session is None:
            return
        assert self._loop is not None
        if session.configured:
            self._loop.create_task(session.end())
        else:
            self._loop.create_task(session.terminate(grace=0.5))
        if message.get("id"):
            conn.message({"op": "ok"})

    # -- logging -------------------------------------------------------------------------------------------

    async def log_spool_of(self, session: OwnedSession) -> dict[str, Any]:
        """Log the session's finished spool: in a detached logger process (it imports mlflow; the owner
        does not), or with the injected `log_spool` in a thread (tests). `{"error": ...}` when it failed."""
        tracked = session.tracked
        assert tracked is not None and tracked.spool is not None
        spool = tracked.spool
        self._logging.add(session)
        try:
            if self.log_spool is not None:
                return await self._log_in_thread(session, spool)
            key = self.store_of(session)
            assert key is not None
            return await self.loggers.log(key, spool.path)
        except Exception as exc:
            log.exception("logging session %s", session.id)
            return {"error": one_line(exc)}

    async def _log_in_thread(self, session: OwnedSession, spool: Any) -> dict[str, Any]:
        config = session.config
        assert config is not None and self.log_spool is not None
        log_spool = self.log_spool
        loop = asyncio.get_running_loop()

        def log_it() -> Any:
            return log_spool(
                spool,
                tracking_uri=config.tracking_uri,
                experiment=config.experiment,
                progress=lambda stage, fraction: None,
            )

        try:
            logged = await loop.run_in_executor(None, log_it)
        except Exception as exc:
            return {"error": one_line(exc)}
        return {
            "run_id": getattr(logged, "run_id", None),
            "experiment_id": getattr(logged, "experiment_id", None),
            "tracking_uri": getattr(logged, "tracking_uri", None),
            "ui_url": getattr(logged, "ui_url", None),
        }

    def store_of(self, session: OwnedSession) -> StoreKey | None:
        """The store a tracked session logs to (None for one that records nothing)."""
        config = session.config
        if config is None or session.tracked is None or session.tracked.spool is None:
            return None
        return OwnerLoggers.key(config.tracking_uri, config.experiment)

    def warm_logger_for(self, session: OwnedSession) -> None:
        """A moment after a session's start: the warm logger of its store, so its end only logs."""
        key = self.store_of(session)
        if key is not None and session.running and self.log_spool is None and self._loop is not None:
            self._loop.create_task(self.loggers.warm(key))

    def _close_unused_loggers(self) -> None:
        running = (self.store_of(s) for s in self.sessions.values() if s.running)
        self.loggers.close_unused({key for key in running if key is not None})


PROCESS_NAME = "claude-tui-own"
"""The owner's name in `ps -e`, `top`, `pgrep` (the kernel keeps 15 bytes): a forked owner would otherwise
show the window's `claude-tui ...` and a started one `python`."""


def name_process(name: str = PROCESS_NAME) -> None:
    """Set this process's name (`prctl(PR_SET_NAME)`, Linux). Only the name: the command line (`ps -f`,
    `ps aux`) stays the starting process's, because rewriting argv needs the `setproctitle` C extension,
    not a dependency for one line of `ps`. Nothing happens where `prctl` is not there."""
    import ctypes

    try:
        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME; libc is in the process
    except (OSError, AttributeError):
        pass


def run_owner(
    path: Path,
    *,
    listen: socket.socket | None = None,
    adopt: Iterable[tuple[str, PtySession, dict[str, str | None]]] = (),
    relay: EarlyRelay | None = None,
) -> None:
    """The owner process's main: log to `owner.log` beside the socket, serve, exit when stopped. `relay`:
    the early relay that served the first client until now (`owner.relay`): the server carries on from it."""
    name_process()
    os.close(os.open(path.parent / "owner.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    logging.basicConfig(
        filename=str(path.parent / "owner.log"),
        level=logging.INFO,
        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s",
    )
    gc.disable()  # as the window does: its imports' garbage is not collected while Claude starts
    collect = threading.Timer(OwnerServer.COLLECT_AFTER, settle_garbage_collector)
    collect.daemon = True
    collect.start()
    server = OwnerServer(path, listen=listen)
    for session_id, pty, env in adopt:
        server.adopt(session_id, pty, env)
    if relay is not None:
        server.take_over(relay)
    log.info("claude-tui %s owner serving on %s", __version__, path)
    try:
        server.run()
    except Exception:
        log.exception("the owner failed")
        raise
    log.info("stopped")
