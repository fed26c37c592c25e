"""What a spool says about its session, in MLflow's terms: tags, params, metrics, series and trace spans.

`SessionRecord.from_spool(spool)` reads a spool once (the Claude transcript when it exists, else the spool's
`events.jsonl`, else the summary's stats; and the CLI's own telemetry from `telemetry.jsonl`, else the
summary's) and derives everything `tracking.logger` sends. Pure: no mlflow,
so every value can be checked in unit tests without a store.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from claude_tui.claude_code import find_transcript, session_files
from claude_tui.lifecycle.events import LifecycleEvent
from claude_tui.lifecycle.events import event_from_dict as lifecycle_event_from_dict
from claude_tui.lifecycle.state import Lifecycle
from claude_tui.parsing import SessionStats, TranscriptTail, event_from_dict
from claude_tui.parsing.events import (
    ApiError,
    AssistantText,
    Event,
    SessionMeta,
    TokenUsage,
    ToolCall,
    ToolResult,
    TurnEnd,
    UserPrompt,
)
from claude_tui.parsing.otlp import CliTelemetry, telemetry_from_dict
from claude_tui.tracking import schema
from claude_tui.tracking.redact import Redactor
from claude_tui.tracking.spool import RunSpool

T = TypeVar("T")

RUN_NAME_CHARS = 60
"""How much of the first prompt becomes the run name."""
PARAM_MAX = 6000
"""MLflow's limit on a param value."""
TAG_MAX = 5000
"""Tag values are cut here (MLflow allows 8000; names and prompts never need that much)."""
SPAN_TEXT_MAX = 4000
"""Tool inputs/outputs and model text in the trace are cut to this many characters."""
ROOT_STATS = (schema.TOOL_USES, schema.ERRORS_ENCOUNTERED, schema.USER_PROMPTS)
"""Stats the trace's root span shows among its outputs."""
END_SLACK = 1.0
"""Seconds after a program's end (as claude-tui saw it, after the program exited) within which records still
count as its own: clock rounding, and a killed session's last sign of life lagging its last write."""
TASK_TOOLS = frozenset({"Task", "Agent"})
"""Tools that start a sub-agent; its tool calls nest under their span."""


NO_PROMPT = "(no prompt)"
"""What runs without a first prompt were named before they were named by program and work dir."""


def unnamed_run_name(command: Any, cwd: Any) -> str:
    """The name of a session without a prompt (a shell, another program): `bash · /home/me/src`."""
    program = os.path.basename(str(command or "")) or "session"
    return _short(f"{program} · {cwd}" if cwd else program, RUN_NAME_CHARS)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _truncate(obj: Any, limit: int = SPAN_TEXT_MAX) -> Any:
    """Cut long strings inside `obj` (recursively) to `limit` characters, with a note of the full length."""
    if isinstance(obj, str):
        return obj if len(obj) <= limit else f"{obj[:limit]}… [{len(obj):,} chars]"
    if isinstance(obj, dict):
        return {k: _truncate(v, limit) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_truncate(v, limit) for v in obj]
    return obj


def session_attribution(meta: dict[str, Any]) -> dict[str, str | None]:
    """Who ran a session and where: `user` (the meta's, else the settings' `user`, else git's `user.email`
    in the session's work dir, else the login name), `host`, and the work dir's repository (`remote` without
    credentials, `repository` name). Read from the session's work dir, never the logging process's."""
    from claude_tui.tracking.gitinfo import repository_info

    cwd = meta.get("cwd")
    repo = repository_info(cwd) if isinstance(cwd, str) and cwd else {}
    user = meta.get("user") or configured_user() or repo.get("email") or login_name()
    host = meta.get("host") or socket.gethostname()
    return {"user": user, "host": host, "remote": repo.get("remote"), "repository": repo.get("repository")}


def store_credentials() -> set[str]:
    """The store's own secrets in this process's environment (`MLFLOW_TRACKING_PASSWORD`, `..._TOKEN`):
    masked wherever a session's text shows them (a Bash `env` in the session, a pasted config)."""
    import os

    return {
        value
        for name in ("MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")
        if (value := os.environ.get(name))
    }


def configured_user() -> str | None:
    """The settings' `user` (None when unset, or when the settings cannot be read: commands report that)."""
    from claude_tui.config import ConfigError, load_settings

    try:
        return load_settings().user
    except ConfigError:
        return None


def configured_content() -> str:
    """The settings' `content` level (`full` when the settings cannot be read: commands report that)."""
    from claude_tui.config import ConfigError, load_settings

    try:
        return load_settings().content
    except ConfigError:
        return "full"


def login_name() -> str | None:
    """The login name of this process's user (None when the system cannot tell)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def spool_transcript(meta: dict[str, Any]) -> Path | None:
    """The session's Claude Code transcript: `meta.transcript_path`, else `projects/*/<id>.jsonl`."""
    explicit = meta.get("transcript_path")
    if explicit and Path(explicit).is_file():
        return Path(explicit)
    config_dir = meta.get("claude_config_dir")
    session_id = meta.get("session_id")
    if not config_dir or not session_id:
        return None
    return find_transcript(config_dir, session_id)


def spool_lifecycle(spool: RunSpool, end: float | None) -> Lifecycle | None:
    """The tracked process's lifecycle, replayed from the spool's `lifecycle.jsonl` as the live session
    folded it; None for a spool that has none (an import, a program run by an older claude-tui)."""
    meta = spool.meta
    started = meta.get("program_started")
    if not isinstance(started, int | float):
        return None
    begins = meta.get("conversation_start") or {}
    lifecycle = Lifecycle.of_program(
        float(started),
        session_id=meta.get("first_session_id"),
        start=str(begins.get("start") or "new"),
        target=begins.get("target"),
    )
    events: list[LifecycleEvent] = []
    try:
        lines = spool.lifecycle_path.read_bytes().decode("utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            events.append(lifecycle_event_from_dict(json.loads(line)))
        except ValueError:
            continue  # a line cut by a crash: the rest still counts
    return Lifecycle.replay(lifecycle, events, end)


def conversation_transcripts(
    meta: dict[str, Any], lifecycle: Lifecycle | None
) -> list[tuple[str, Path, float | None]]:
    """`(session id, transcript, since)` of each conversation the process held whose transcript exists, in
    the order it came to them (`since`: records stamped earlier are an earlier process's)."""
    if lifecycle is None or not lifecycle.conversations:
        transcript = spool_transcript(meta)
        return (
            [] if transcript is None else [(str(meta.get("session_id") or transcript.stem), transcript, None)]
        )
    config_dir = meta.get("claude_config_dir")
    found: list[tuple[str, Path, float | None]] = []
    for conversation in lifecycle.conversations:
        path = Path(conversation.transcript_path) if conversation.transcript_path else None
        if (path is None or not path.is_file()) and config_dir:
            path = find_transcript(config_dir, conversation.session_id)
        if path is not None and path.is_file():
            found.append((conversation.session_id, path, conversation.since))
    return found


def session_texts(spool: RunSpool, transcript: Path | list[Path] | None) -> list[str]:
    """Every text of a session that is logged somewhere (to learn the secret values it contains)."""
    paths = [p for p in spool.path.rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    for one in transcript if isinstance(transcript, list) else [] if transcript is None else [transcript]:
        paths += session_files(one)
    texts = [json.dumps(spool.meta, ensure_ascii=False, default=str)]
    for path in paths:
        try:
            texts.append(path.read_bytes().decode("utf-8", errors="replace"))
        except OSError:
            continue
    return texts


def _read_jsonl(path: Path, read: Callable[[dict[str, Any]], T]) -> tuple[list[T], int]:
    """`read(object)` of each line of a spool's JSONL file, and how many lines were unreadable (not a JSON
    object, or `read` raised `ValueError`). A missing file reads as empty."""
    found: list[T] = []
    bad = 0
    try:
        raw = path.read_bytes()
    except OSError:
        return found, 0
    for line in raw.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            found.append(read(data))
        except ValueError:
            bad += 1
    return found, bad


def _read_spool_events(path: Path) -> tuple[list[Event], int]:
    """Events from a spool's `events.jsonl`, and how many lines were unreadable."""
    return _read_jsonl(path, event_from_dict)


def read_telemetry(path: Path) -> tuple[CliTelemetry, int]:
    """The CLI's telemetry from a spool's `telemetry.jsonl`, and how many lines were unreadable."""
    events, bad = _read_jsonl(path, telemetry_from_dict)
    telemetry = CliTelemetry()
    telemetry.apply_all(events)
    return telemetry, bad


TELEMETRY_MODES = {
    "cli": schema.TELEMETRY_MISSING,
    "user": schema.TELEMETRY_USER,
}
"""A spool meta's `telemetry` (what was arranged at spawn) -> the tag when no telemetry arrived."""


_TIE_ORDER = {UserPrompt: 0, ToolResult: 1, TokenUsage: 2, AssistantText: 3, ToolCall: 4}
"""Order of events with the same timestamp: a message's usage before its text and tool calls (one record)."""


def _sorted_by_time(events: list[Event]) -> list[Event]:
    """Events in time order; an event without a timestamp keeps its place after the one before it."""
    stamped: list[tuple[float, int, int, Event]] = []
    last = 0.0
    for index, event in enumerate(events):
        if event.ts is not None:
            last = event.ts
        stamped.append((last, _TIE_ORDER.get(type(event), 5), index, event))
    stamped.sort(key=lambda item: item[:3])
    return [item[3] for item in stamped]


@dataclass
class SpanSpec:
    """One span of the session trace, before it is sent (times in seconds since the epoch)."""

    name: str
    span_type: str
    start: float
    end: float | None = None
    parent: int | None = None
    """Index of the parent span in the plan (None for the root)."""
    inputs: Any = None
    outputs: Any = None
    attributes: dict[str, Any] = field(default_factory=dict)
    error: bool = False


@dataclass
class TracePlan:
    """One trace to send: a turn of the conversation (or, with no prompt at all, the whole session)."""

    key: str
    """Which trace of the run it is (`turn 3`, or `session`): tagged on it, so a second attempt sends only
    the ones the store does not have yet (`schema.TRACE_TAG_KEY`)."""
    spans: list[SpanSpec]
    """Parents before children; the first is the root."""
    session_id: str
    """The conversation the turn belongs to (`mlflow.trace.session`)."""
    request: str
    """The prompt (MLflow's request preview)."""
    response: str
    """Claude's last answer of the turn (MLflow's response preview)."""


@dataclass
class SessionRecord:
    """Everything one spool says about its session."""

    session_id: str
    meta: dict[str, Any]
    summary: dict[str, Any] | None
    orphan: bool
    start_time: float
    end_time: float
    stats: dict[str, Any]
    stats_source: str
    """`transcript`, `events` (the spool's events.jsonl), `summary` (the app's last stats) or `none`."""
    events: list[Event] = field(default_factory=list)
    telemetry: dict[str, Any] = field(default_factory=dict)
    """The CLI's own totals from its telemetry (`parsing.otlp.CliTelemetry.to_dict`); empty when none came."""
    transcript_path: Path | None = None
    """The first conversation's transcript."""
    redactor: Redactor = field(default_factory=Redactor)
    """Masks secrets: the rules, plus every secret value found anywhere in the session's files."""
    attribution: dict[str, str | None] = field(default_factory=dict)
    """Who and where: `user`, `host`, `remote`, `repository` (`session_attribution`)."""
    transcripts: list[Path] = field(default_factory=list)
    """Every conversation's transcript, in the order the process came to them."""
    lifecycle: Lifecycle | None = None
    """The process's state, conversations and time, replayed from the spool (None for imports)."""
    run_key: str = ""
    """What makes logging idempotent (`schema.TAG_RUN_KEY`): the spool's session id."""
    turn_conversations: dict[int, str] = field(default_factory=dict)
    """The conversation of each prompt event, by `id(event)` (for the trace's turn spans)."""

    # -- reading ---------------------------------------------------------------------------------------------

    @classmethod
    def from_spool(cls, spool: RunSpool) -> SessionRecord:
        """Read a spool (and the transcript it points at) into a record."""
        meta = spool.meta
        summary = spool.summary
        known_end = summary.get("end_time") if summary is not None else None
        lifecycle = spool_lifecycle(spool, float(known_end) if isinstance(known_end, int | float) else None)
        # Records stamped after the program ended (a later process went on with one of its conversations)
        # are not this run's; a killed session ended at its spool's last sign of life.
        until = None
        if lifecycle is not None:
            ended = float(known_end) if isinstance(known_end, int | float) else spool.last_activity()
            until = ended + END_SLACK
        conversations = conversation_transcripts(meta, lifecycle)
        transcripts = [path for _, path, _ in conversations]
        transcript = transcripts[0] if transcripts else None
        events: list[Event] = []
        turn_conversations: dict[int, str] = {}
        stats = SessionStats()
        source = "none"
        if conversations:
            # Read as the live session read them: one tail per conversation, an earlier process's records
            # left out, every event folded into one set of stats (each record counted once).
            malformed = 0
            for session_id, path, since in conversations:
                tail = TranscriptTail(path, since=since, until=until)
                while True:
                    batch = tail.poll(final=True)
                    for event in batch:
                        stats.apply(event)
                        if isinstance(event, UserPrompt):
                            turn_conversations[id(event)] = session_id
                    events += batch
                    if not tail.more:
                        break
                malformed += tail.malformed_lines
            stats.malformed_lines = malformed
            source = "transcript"
        else:
            events, bad = _read_spool_events(spool.events_path)
            if events or bad:
                for event in events:
                    stats.apply(event)
                stats.malformed_lines = bad
                source = "events"
        stats_dict = stats.to_dict()
        if source == "none" and summary and isinstance(summary.get("stats"), dict):
            stats_dict = {**stats_dict, **summary["stats"]}
            source = "summary"
        events = _sorted_by_time(events)
        received, _ = read_telemetry(spool.telemetry_path)
        telemetry: dict[str, Any] = received.to_dict()
        if not telemetry and summary and isinstance(summary.get("telemetry"), dict):
            telemetry = {
                k: summary["telemetry"][k] for k in schema.TELEMETRY_METRICS if k in summary["telemetry"]
            }
        redactor = (
            Redactor.for_texts(session_texts(spool, transcripts), also=store_credentials())
            if meta.get("redact") is not False
            else Redactor()
        )
        start = float(meta.get("start_time") or spool.last_activity())
        if summary is not None and summary.get("end_time") is not None:
            end = float(summary["end_time"])
        else:
            last_event = max((e.ts for e in events if e.ts is not None), default=start)
            end = max(last_event, spool.last_activity())
        first = (
            lifecycle.conversations[0].session_id
            if lifecycle is not None and lifecycle.conversations
            else None
        )
        return cls(
            session_id=first or spool.session_id,
            attribution=session_attribution(meta),
            meta=meta,
            summary=summary,
            orphan=summary is None,
            start_time=start,
            end_time=max(end, start),
            stats=stats_dict,
            stats_source=source,
            events=events,
            telemetry=telemetry,
            transcript_path=transcript,
            redactor=redactor,
            transcripts=transcripts,
            lifecycle=lifecycle,
            run_key=spool.session_id,
            turn_conversations=turn_conversations,
        )

    # -- the run ---------------------------------------------------------------------------------------------

    @property
    def redact(self) -> bool:
        """Whether secrets are masked before logging (meta `redact`, on unless explicitly false)."""
        return self.meta.get("redact") is not False

    @property
    def metadata_only(self) -> bool:
        """Whether only metadata leaves the machine (`content = "metadata"`, from the session's meta, else the
        settings now): no transcripts, recordings or diffs, no tool inputs or outputs in the trace."""
        content = self.meta.get("content")
        if content is None:
            content = configured_content()
        return content == "metadata"

    def clean(self, value: Any) -> Any:
        """`value` with secrets masked, unless this session opted out of redaction."""
        if not self.redact:
            return value
        return self.redactor.text(value) if isinstance(value, str) else self.redactor.obj(value)

    @property
    def status(self) -> str:
        """The MLflow run status: FINISHED for a session that ended; KILLED for an orphan, and for a spool
        recovered without its meta (`RunSpool.recover`: what the session was is partly lost)."""
        return "KILLED" if self.orphan or self.meta.get("meta_unreadable") else "FINISHED"

    @property
    def exit_code(self) -> int | None:
        """The program's exit code (None for an orphan or when unknown)."""
        code = (self.summary or {}).get("exit_code")
        return code if isinstance(code, int) else None

    @property
    def outcome_known(self) -> bool:
        """Whether the session's end is known: an exit code, a signal, a kill, or an orphan.

        An imported transcript has none of these; it then gets no `success` metric, so the seed's
        `metrics.success = 0` (failed sessions) does not list every imported session.
        """
        summary = self.summary or {}
        return (
            self.orphan
            or self.exit_code is not None
            or bool(summary.get("killed"))
            or summary.get("signal") not in (None, 0)
        )

    @property
    def success(self) -> bool:
        """Exited 0, not killed, no signal, and not an orphan."""
        summary = self.summary or {}
        return (
            not self.orphan
            and self.exit_code == 0
            and not summary.get("killed")
            and summary.get("signal") in (None, 0)
        )

    @property
    def duration(self) -> float:
        """Seconds from session start to end."""
        return max(0.0, self.end_time - self.start_time)

    @property
    def first_prompt(self) -> str | None:
        """The first prompt the person typed (None when there was none)."""
        prompt = self.stats.get("first_prompt")
        return prompt if isinstance(prompt, str) and prompt.strip() else None

    def run_name(self) -> str:
        """The first prompt, shortened and redacted; else the program and its work dir (`bash · /src`)."""
        prompt = self.first_prompt
        if prompt:
            return _short(self.clean(prompt), RUN_NAME_CHARS)
        return unnamed_run_name(self.meta.get("command"), self.meta.get("cwd"))

    def tags(self, source: str = schema.SOURCE_LIVE) -> dict[str, str]:
        """The run's tags (None values left out, user tags last so they cannot hide the standard ones)."""
        git = self.meta.get("git") or {}
        tags: dict[str, Any] = {}
        for key, value in (self.meta.get("tags") or {}).items():
            tags[str(key)] = value
        tags.update(
            {
                schema.TAG_TYPE: schema.SESSION_TYPE,
                schema.TAG_RUN_NAME: self.run_name(),
                schema.TAG_SESSION_ID: self.session_id,
                schema.TAG_SOURCE_NAME: schema.SOURCE_NAME,
                schema.TAG_GIT_BRANCH: git.get("branch") or self.stats.get("git_branch"),
                schema.TAG_GIT_COMMIT: git.get("commit"),
                schema.TAG_GIT_WORKTREE: git.get("worktree"),
                schema.TAG_CLAUDE_VERSION: (
                    self.meta.get("claude_version") or self.stats.get("claude_version")
                ),
                schema.TAG_SOURCE: source,
                schema.TAG_USER: self.attribution.get("user"),
                schema.TAG_HOST: self.attribution.get("host"),
                schema.TAG_GIT_REMOTE: self.attribution.get("remote"),
                schema.TAG_REPOSITORY: self.attribution.get("repository"),
                schema.TAG_RUN_KEY: self.run_key or self.session_id,
                schema.TAG_SESSION_IDS: ",".join(self.session_ids),
                schema.TAG_RESUMED_FROM: ",".join(self.lifecycle.resumed_from) if self.lifecycle else None,
                # Why a run has no cost_usd: the models genai-prices has no price for.
                schema.TAG_UNPRICED_MODELS: ", ".join(self.stats.get("unpriced_models") or []),
                # A spool logged without its meta.json says so on the run (`RunSpool.recover`).
                schema.TAG_META_UNREADABLE: self.meta.get("meta_unreadable"),
                schema.TAG_TELEMETRY: self.telemetry_status,
            }
        )
        return {k: _short_tag(self.clean(str(v))) for k, v in tags.items() if v is not None and v != ""}

    @property
    def telemetry_status(self) -> str | None:
        """The `claude.telemetry` tag: received, left to the user's exporter, missing, or None (not asked)."""
        if self.telemetry:
            return schema.TELEMETRY_RECEIVED
        return TELEMETRY_MODES.get(str(self.meta.get("telemetry")))

    def params(self) -> dict[str, str]:
        """The run's params; user overrides in meta beat what the first prompt gives."""
        meta = self.meta
        args = meta.get("args")
        args_text = shlex.join(str(a) for a in args) if isinstance(args, list) else args
        # The spool's meta (the user's overrides) and the stats (from the prompt) use the params' names.
        PROCEDURE, ISSUE = schema.PARAM_PROCEDURE, schema.PARAM_ISSUE
        params: dict[str, Any] = {
            schema.PARAM_SESSION_ID: self.session_id,
            schema.PARAM_COMMAND: meta.get("command"),
            schema.PARAM_ARGS: args_text,
            schema.PARAM_CWD: meta.get("cwd"),
            schema.PARAM_PROCEDURE: meta.get(PROCEDURE) or self.stats.get(PROCEDURE),
            schema.PARAM_ISSUE: meta.get(ISSUE) or self.stats.get(ISSUE),
            schema.PARAM_MODEL: self.model(),
            schema.PARAM_PERMISSION_MODE: (
                self.stats.get("permission_mode") or _flag_value(args, "--permission-mode")
            ),
        }
        known = {k: v for k, v in params.items() if v is not None and v != ""}
        return {k: str(self.clean(str(v)))[:PARAM_MAX] for k, v in known.items()}

    def model(self) -> str | None:
        """The session's model: the one the metadata names, else the one most API messages used."""
        model = self.stats.get("model")
        if model:
            return str(model)
        usages = Counter(e.model for e in self.events if isinstance(e, TokenUsage) and e.model)
        if usages:
            return usages.most_common(1)[0][0]
        models = self.stats.get("models") or []
        return str(models[0]) if models else None

    def metrics(self) -> dict[str, float]:
        """The run's final metric values (unknown ones, like cost for an unpriced model, left out)."""
        s = self.stats
        metrics: dict[str, float] = {}
        for key in schema.STAT_METRICS:
            value = s.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                metrics[key] = float(value)
        for name, count in (s.get("tool_uses_by_name") or {}).items():
            metrics[schema.tool_metric(name)] = float(count)
        for key in schema.TELEMETRY_METRICS:
            value = self.telemetry.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                metrics[key] = float(value)
        if self.outcome_known:
            metrics[schema.SUCCESS] = 1.0 if self.success else 0.0
        if self.exit_code is not None:
            metrics[schema.EXIT_CODE] = float(self.exit_code)
        metrics[schema.DURATION_SECONDS] = round(self.duration, 3)
        lifecycle = self.lifecycle
        if lifecycle is not None:
            metrics[schema.WAITING_SECONDS] = round(lifecycle.seconds_in("waiting", self.end_time), 3)
            metrics[schema.WORKING_SECONDS] = round(lifecycle.seconds_in("working", self.end_time), 3)
            metrics[schema.PERMISSION_REQUESTS] = float(lifecycle.permission_requests)
            metrics[schema.CONVERSATIONS] = float(len(lifecycle.conversations))
        return metrics

    @property
    def session_ids(self) -> list[str]:
        """Every conversation the process held (the first is `session_id`)."""
        if self.lifecycle is not None and self.lifecycle.conversations:
            return self.lifecycle.session_ids
        return [self.session_id]

    def final_step(self) -> int:
        """The step the final metric values are logged at: the session's length in whole seconds."""
        return int(self.duration)

    def series(self) -> list[tuple[str, float, int, float]]:
        """Cumulative `schema.SERIES_KEYS` over time: `(key, value, step, timestamp)`, step = seconds
        since the start.

        Recomputed by folding the events in time order, so the last point of each equals the final value
        (when the stats came from the same events). One point per key and second (the last value wins).
        """
        if not self.events:
            return []
        stats = SessionStats()
        last = dict.fromkeys(schema.SERIES_KEYS, 0)
        points: dict[tuple[str, int], tuple[float, float]] = {}
        for event in self.events:
            stats.apply(event)
            if not isinstance(event, ToolCall | ToolResult | ApiError):
                continue
            ts = event.ts if event.ts is not None else self.start_time
            step = max(0, int(ts - self.start_time))
            for key in schema.SERIES_KEYS:
                value = getattr(stats, key)
                if value != last[key]:
                    last[key] = value
                    points[(key, step)] = (float(value), ts)
        return [(key, value, step, ts) for (key, step), (value, ts) in points.items()]

    # -- the trace -------------------------------------------------------------------------------------------

    def span_plan(self) -> list[SpanSpec]:
        """The session trace as a flat list of spans (parents before children), times from the transcript.

        Root span for the session; a span per turn (a prompt to its turn end); an LLM span per API message
        (from the thread's previous event to the message, with its token usage); a TOOL span per tool call
        (call to result, ERROR when the result is an error); a sub-agent's spans nest under the Task/Agent
        tool span that started it, also when it ran in the background (the call returned at once and named
        the agent: the span then stretches over the agent's work).
        """
        stats = self.stats
        root = SpanSpec(
            name=schema.ROOT_SPAN,
            span_type="AGENT",
            start=self.start_time,
            end=self.end_time,
            inputs=self.clean({"prompt": self.first_prompt, "command": self.meta.get("command")}),
            outputs={
                "exit_code": self.exit_code,
                "success": self.success,
                "status": self.status,
                **{k: stats.get(k) for k in ROOT_STATS},
            },
            attributes=self.clean(
                {
                    "session_id": self.session_id,
                    "cwd": self.meta.get("cwd"),
                    "model": self.model(),
                    "stats_source": self.stats_source,
                }
                | ({"session_ids": self.session_ids} if len(self.session_ids) > 1 else {})
            ),
            error=not self.success and not self.orphan and self.exit_code not in (None, 0),
        )
        plan = [root]
        turn: int | None = None
        turns = 0
        open_tools: dict[str, int] = {}
        open_tasks: list[int] = []
        agent_task: dict[str, int] = {}
        launched: set[str] = set()
        """Sub-agents whose Agent call's result named them: they stay under that call after it returned."""
        usage_spans: dict[tuple[str, str | None], int] = {}
        last_llm: dict[str, int] = {}
        prev_ts: dict[str, float] = {}

        def add(spec: SpanSpec) -> int:
            plan.append(spec)
            return len(plan) - 1

        def thread_of(event: Any) -> str:
            if getattr(event, "agent_id", None):
                return f"agent:{event.agent_id}"
            return "sidechain" if getattr(event, "sidechain", False) else "main"

        def parent_for(event: Any) -> int:
            if getattr(event, "sidechain", False) or getattr(event, "agent_id", None):
                agent = getattr(event, "agent_id", None) or "sidechain"
                task = agent_task.get(agent)
                if task is None or (plan[task].end is not None and agent not in launched):
                    taken = set(agent_task.values())
                    free = [t for t in open_tasks if t not in taken] or open_tasks
                    task = free[0] if free else None
                    if task is not None:
                        agent_task[agent] = task
                if task is not None:
                    return task
            return turn if turn is not None else 0

        for event in self.events:
            ts = event.ts if event.ts is not None else (prev_ts.get("main") or self.start_time)
            thread = thread_of(event)
            if isinstance(event, UserPrompt):
                if turn is not None and plan[turn].end is None:
                    plan[turn].end = prev_ts.get("main", ts)
                turns += 1
                conversation = self.turn_conversations.get(id(event))
                turn = add(
                    SpanSpec(
                        name=f"turn {turns}",
                        span_type="CHAIN",
                        start=ts,
                        parent=0,
                        inputs=self.clean({"prompt": _truncate(event.text)}),
                        attributes={"session_id": conversation} if conversation else {},
                    )
                )
                prev_ts["main"] = ts
            elif isinstance(event, TurnEnd):
                if turn is not None:
                    plan[turn].end = ts
                    plan[turn].attributes["duration_seconds"] = event.duration
                prev_ts["main"] = ts
            elif isinstance(event, TokenUsage):
                key = event.key
                if key in usage_spans:
                    continue
                usage = {
                    "input_tokens": event.input_tokens,
                    "output_tokens": event.output_tokens,
                    "total_tokens": event.input_tokens + event.output_tokens,
                    "cache_read_input_tokens": event.cache_read_tokens,
                    "cache_creation_input_tokens": event.cache_creation_tokens,
                }
                index = add(
                    SpanSpec(
                        name=event.model or "llm",
                        span_type="LLM",
                        start=min(prev_ts.get(thread, ts), ts),
                        end=ts,
                        parent=parent_for(event),
                        outputs={"stop_reason": event.stop_reason},
                        attributes={
                            "mlflow.chat.tokenUsage": usage,
                            "mlflow.llm.model": event.model,
                            "message_id": event.message_id,
                        },
                    )
                )
                usage_spans[key] = index
                last_llm[thread] = index
                prev_ts[thread] = ts
            elif isinstance(event, AssistantText):
                index_or_none = last_llm.get(thread)
                if index_or_none is not None:
                    outputs = plan[index_or_none].outputs
                    outputs["text"] = self.clean(_truncate((outputs.get("text", "") + event.text).strip()))
                    plan[index_or_none].end = max(plan[index_or_none].end or ts, ts)
            elif isinstance(event, ToolCall):
                index = add(
                    SpanSpec(
                        name=event.name,
                        span_type="TOOL",
                        start=ts,
                        parent=parent_for(event),
                        inputs=None if self.metadata_only else self.clean(_truncate(event.input)),
                        attributes={"tool_use_id": event.id, "sidechain": event.sidechain}
                        | ({"agent_id": event.agent_id} if event.agent_id else {})
                        | self._tool_timing(event.id),
                    )
                )
                if event.id:
                    open_tools[event.id] = index
                if event.name in TASK_TOOLS and not (event.sidechain or event.agent_id):
                    open_tasks.append(index)
                prev_ts[thread] = ts
            elif isinstance(event, ToolResult):
                index_or_none = open_tools.pop(event.id, None)
                if index_or_none is not None:
                    spec = plan[index_or_none]
                    spec.end = ts
                    if not self.metadata_only:
                        spec.outputs = self.clean({"result": _truncate(event.preview)})
                    spec.error = event.is_error
                    if index_or_none in open_tasks:
                        open_tasks.remove(index_or_none)
                    if event.launched_agent:
                        # A background agent: its work comes after this result (the CLI's "launched").
                        agent_task[event.launched_agent] = index_or_none
                        launched.add(event.launched_agent)
                prev_ts[thread] = ts
            elif isinstance(event, ApiError):
                target = plan[turn if turn is not None else 0]
                message = self.clean(_truncate(event.message, 500))
                target.attributes.setdefault("api_errors", []).append(message)
            elif isinstance(event, SessionMeta) and event.version:
                root.attributes["claude_version"] = event.version
        # Calls without a result were cut off (the session was killed or the person interrupted).
        for index in open_tools.values():
            plan[index].attributes["interrupted"] = True
        return _close_plan(plan, self.end_time)

    def _tool_timing(self, tool_use_id: str) -> dict[str, Any]:
        """What the hooks measured of one tool call: how long it ran (the CLI's `duration_ms`) and how long
        it waited for the person's permission."""
        run = self.lifecycle.tool_runs.get(tool_use_id) if self.lifecycle is not None else None
        if run is None:
            return {}
        timing: dict[str, Any] = {}
        if run.duration_ms is not None:
            timing["duration_ms"] = run.duration_ms
        if run.waited > 0:
            timing["permission_wait_seconds"] = round(run.waited, 3)
        return timing

    def trace_plans(self) -> list[TracePlan]:
        """The session as MLflow's GenAI integrations trace a conversation: one trace per turn.

        Each turn's trace has the turn as its root (an AGENT span: inputs the prompt, outputs Claude's last
        answer of the turn) and everything under it in `span_plan()`: LLM calls, tools, sub-agents. Spans
        outside any turn (before the first prompt) go to the turn they precede. A session without a prompt is
        one trace of the whole `span_plan()`.
        """
        plan = self.span_plan()
        turns = [i for i, spec in enumerate(plan) if spec.parent == 0 and spec.span_type == "CHAIN"]
        session = plan[0]
        if not turns:
            request = str(self.first_prompt or self.meta.get("command") or "")
            return [TracePlan("session", plan, self.session_id, request, "")]
        owner: dict[int, int] = {}
        for index, spec in enumerate(plan[1:], start=1):
            if index in turns:
                owner[index] = index
            elif spec.parent:
                owner[index] = owner[spec.parent]
            else:
                before = [t for t in turns if plan[t].start <= spec.start]
                owner[index] = before[-1] if before else turns[0]
        plans = []
        for number, turn in enumerate(turns, start=1):
            members = [turn] + [i for i in owner if owner[i] == turn and i != turn]
            position = {index: n for n, index in enumerate(members)}
            spec = plan[turn]
            answers = [
                plan[i].outputs["text"]
                for i in members
                if plan[i].parent == turn
                and plan[i].span_type == "LLM"
                and (plan[i].outputs or {}).get("text")
            ]
            response = str(answers[-1]) if answers else ""
            prompt = (spec.inputs or {}).get("prompt") or ""
            conversation = str(spec.attributes.get("session_id") or self.session_id)
            root = SpanSpec(
                name=spec.name,
                span_type="AGENT",
                start=spec.start,
                end=spec.end,
                inputs=spec.inputs,
                outputs={"response": response},
                attributes={
                    **session.attributes,
                    **spec.attributes,
                    "session_id": conversation,
                    "turn": number,
                },
                error=spec.error,
            )
            spans = [root]
            for index in members[1:]:
                child = plan[index]
                parent = child.parent if child.parent in position else turn
                spans.append(replace(child, parent=position[parent]))
            plans.append(TracePlan(f"turn {number}", spans, conversation, str(prompt), response))
        return plans


def _close_plan(plan: list[SpanSpec], end_time: float) -> list[SpanSpec]:
    """Give every span an end and make each parent cover its children (clock skew between records)."""
    for spec in plan:
        if spec.end is None:
            spec.end = end_time
        spec.end = max(spec.end, spec.start)
    for spec in reversed(plan[1:]):
        parent = plan[spec.parent if spec.parent is not None else 0]
        assert spec.end is not None and parent.end is not None
        parent.start = min(parent.start, spec.start)
        parent.end = max(parent.end, spec.end)
    return plan


def _short_tag(value: str) -> str:
    return value if len(value) <= TAG_MAX else value[: TAG_MAX - 1] + "…"


def _flag_value(args: Any, flag: str) -> str | None:
    """The value of `--flag VALUE` or `--flag=VALUE` in an argument list."""
    if not isinstance(args, list):
        return None
    items: Iterable[Any] = args
    previous = None
    for item in items:
        text = str(item)
        if previous == flag:
            return text
        if text.startswith(flag + "="):
            return text.split("=", 1)[1]
        previous = text
    return None
