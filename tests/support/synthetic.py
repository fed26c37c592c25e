"""Synthetic logged sessions in exactly the shape `tracking.logger` writes, for tests, demos and benchmarks.

`log_sessions` goes through the public MlflowClient (batched: one `log_batch` and a few `log_text` per run);
`bulk_insert_sessions` writes straight into a sqlite store's tables (created by MLflow first) so the
10,000-run benchmark store builds in seconds instead of minutes.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claude_tui.tracking import schema


@dataclass(frozen=True)
class SyntheticSession:
    """What one fake session looks like; every field lands in the run as the logger would log it."""

    prompt: str
    start_ms: int
    duration_seconds: float = 42.0
    commands: int = 3
    tools: dict[str, int] = field(default_factory=lambda: {"Bash": 3, "Read": 1})
    errors: int = 0
    success: int = 1
    procedure: str = ""
    issue: str = ""
    input_tokens: int = 1200
    output_tokens: int = 340
    cost_usd: float = 0.0123
    model: str = "claude-sonnet-4-5"
    git_operations: int = 1
    session_id: str = ""
    source: str = schema.SOURCE_LIVE
    user: str = ""
    """`mlflow.user` (and MLflow's `user_id`) when given."""
    repository: str = ""
    """`git.repository` when given."""
    branch: str = "main"

    @property
    def sid(self) -> str:
        """The session id (derived from the prompt and start time when not given, so it is stable)."""
        return self.session_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.prompt}@{self.start_ms}"))

    @property
    def tool_uses(self) -> int:
        """All tool calls."""
        return sum(self.tools.values())

    def params(self) -> dict[str, str]:
        """The run's params."""
        return {
            schema.PARAM_SESSION_ID: self.sid,
            schema.PARAM_COMMAND: "claude",
            schema.PARAM_ARGS: json.dumps([self.prompt]),
            schema.PARAM_CWD: "/work/project",
            schema.PARAM_PROCEDURE: self.procedure,
            schema.PARAM_ISSUE: self.issue,
            schema.PARAM_MODEL: self.model,
            schema.PARAM_PERMISSION_MODE: "acceptEdits",
        }

    def tags(self) -> dict[str, str]:
        """The run's tags."""
        return {
            schema.TAG_TYPE: schema.SESSION_TYPE,
            schema.TAG_RUN_NAME: self.prompt[:80],
            schema.TAG_SESSION_ID: self.sid,
            schema.TAG_SOURCE_NAME: schema.SOURCE_NAME,
            schema.TAG_GIT_BRANCH: self.branch,
            schema.TAG_GIT_COMMIT: "0123456789abcdef0123456789abcdef01234567",
            schema.TAG_SOURCE: self.source,
        } | {
            key: value
            for key, value in ((schema.TAG_USER, self.user), (schema.TAG_REPOSITORY, self.repository))
            if value
        }

    def metrics(self) -> dict[str, float]:
        """The run's final metric values."""
        active = round(self.duration_seconds * 0.6, 1)
        values: dict[str, float] = {
            schema.COMMANDS_EXECUTED: self.commands,
            schema.GIT_OPERATIONS: self.git_operations,
            schema.TOOL_USES: self.tool_uses,
            schema.ERRORS_ENCOUNTERED: self.errors,
            schema.USER_PROMPTS: 1,
            schema.FILES_READ: self.tools.get("Read", 0),
            schema.FILES_MODIFIED: self.tools.get("Edit", 0) + self.tools.get("Write", 0),
            schema.SUBAGENT_TOOL_USES: 0,
            schema.SUCCESS: self.success,
            schema.EXIT_CODE: 0 if self.success else 1,
            schema.DURATION_SECONDS: self.duration_seconds,
            schema.ACTIVE_SECONDS: active,
            schema.INPUT_TOKENS: self.input_tokens,
            schema.OUTPUT_TOKENS: self.output_tokens,
            schema.CACHE_READ_TOKENS: self.input_tokens * 3,
            schema.CACHE_CREATION_TOKENS: self.input_tokens // 2,
            schema.COST_USD: self.cost_usd,
            schema.MALFORMED_LINES: 0,
        }
        for tool, count in self.tools.items():
            values[schema.tool_metric(tool)] = count
        return values

    def series(self) -> dict[str, list[tuple[int, float]]]:
        """Cumulative counts over time (step = whole seconds since start), ending at the final values."""
        finals = {
            schema.TOOL_USES: self.tool_uses,
            schema.ERRORS_ENCOUNTERED: self.errors,
            schema.COMMANDS_EXECUTED: self.commands,
        }
        steps = max(1, int(self.duration_seconds))
        out: dict[str, list[tuple[int, float]]] = {}
        for key, final in finals.items():
            points = [(0, 0.0)]
            for i in range(1, final + 1):
                points.append((max(1, steps * i // (final + 1)), float(i)))
            points.append((steps, float(final)))
            out[key] = points
        return out

    def clean_transcript(self) -> str:
        """A plausible `transcript/clean.txt`."""
        lines = [f"❯ {self.prompt}", ""]
        for i in range(self.commands):
            lines.append(f"● Bash(echo step {i + 1})")
            lines.append(f"  ⎿  step {i + 1}")
        if self.errors:
            lines.append("● Bash(false)")
            lines.append("  ⎿  Error: Exit code 1")
        lines.append("")
        lines.append("● Done." if self.success else "● Gave up.")
        return "\n".join(lines) + "\n"

    def cast(self) -> str:
        """A small asciicast v2 recording of the clean transcript, one line every 0.1 s."""
        header = {"version": 2, "width": 80, "height": 24, "timestamp": self.start_ms // 1000}
        events = [json.dumps(header)]
        for i, line in enumerate(self.clean_transcript().splitlines()):
            events.append(json.dumps([round(0.1 * (i + 1), 3), "o", line + "\r\n"]))
        return "\n".join(events) + "\n"


def log_sessions(
    tracking_uri: str,
    experiment: str,
    sessions: Sequence[SyntheticSession],
    *,
    artifact_location: str | None = None,
    artifacts: bool = True,
) -> list[str]:
    """Log each session as one finished run through MlflowClient; returns the run ids in order."""
    from mlflow.entities import Metric, Param, RunTag

    from claude_tui.tracking.store import tracking_client

    client = tracking_client(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    experiment_id = (
        found.experiment_id
        if found is not None
        else client.create_experiment(experiment, artifact_location=artifact_location)
    )
    run_ids: list[str] = []
    for session in sessions:
        tags = session.tags()
        run = client.create_run(
            experiment_id, start_time=session.start_ms, tags=tags, run_name=tags[schema.TAG_RUN_NAME]
        )
        run_id = run.info.run_id
        end_ms = session.start_ms + int(session.duration_seconds * 1000)
        metrics = [Metric(key, float(value), end_ms, 0) for key, value in session.metrics().items()]
        # The series share keys with the final values; their last point is the final value.
        for key, points in session.series().items():
            metrics = [m for m in metrics if m.key != key]
            metrics += [Metric(key, value, session.start_ms + step * 1000, step) for step, value in points]
        client.log_batch(
            run_id,
            metrics=metrics,
            params=[Param(k, v) for k, v in session.params().items()],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )
        if artifacts:
            client.log_text(run_id, session.clean_transcript(), "transcript/clean.txt")
            client.log_text(run_id, session.cast(), "transcript/raw.cast")
            client.log_text(
                run_id, json.dumps({"sessionId": session.sid}) + "\n", f"claude/{session.sid}.jsonl"
            )
            client.log_text(run_id, '{"type": "prompt", "ts": 0}\n', "events.jsonl")
            client.log_text(run_id, json.dumps(session.metrics(), indent=1), "summary.json")
            client.log_text(run_id, "", "git/changes.diff")
            client.log_text(run_id, "", "git/commits.txt")
        client.set_terminated(run_id, "FINISHED" if session.success else "FAILED", end_time=end_ms)
        run_ids.append(run_id)
    return run_ids


def bulk_insert_sessions(
    tracking_uri: str, experiment: str, sessions: Sequence[SyntheticSession], *, artifact_root: Path
) -> int:
    """Insert sessions directly into a sqlite store's tables (no artifacts, no series); returns the count.

    MLflow creates the schema and the experiment first, so the result is a normal store that MLflow,
    its server and the History pane read like any other.
    """
    from claude_tui.tracking.store import tracking_client

    if not tracking_uri.startswith("sqlite:///"):
        raise ValueError("bulk_insert_sessions needs a sqlite:/// tracking URI")
    client = tracking_client(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    experiment_id = (
        found.experiment_id
        if found is not None
        else client.create_experiment(experiment, artifact_location=str(artifact_root))
    )
    db_path = tracking_uri[len("sqlite:///") :]
    runs: list[tuple[Any, ...]] = []
    params: list[tuple[Any, ...]] = []
    tags: list[tuple[Any, ...]] = []
    metrics: list[tuple[Any, ...]] = []
    for session in sessions:
        run_id = uuid.uuid4().hex
        end_ms = session.start_ms + int(session.duration_seconds * 1000)
        status = "FINISHED" if session.success else "FAILED"
        name = session.tags()[schema.TAG_RUN_NAME]
        runs.append(
            (run_id, name, "UNKNOWN", "", "", "unknown", status, session.start_ms, end_ms, "", "active",
             f"{artifact_root}/{run_id}/artifacts", int(experiment_id))
        )  # fmt: skip
        params += [(k, v, run_id) for k, v in session.params().items()]
        tags += [(k, v, run_id) for k, v in session.tags().items()]
        metrics += [(k, float(v), end_ms, 0, 0, run_id) for k, v in session.metrics().items()]
    with sqlite3.connect(db_path) as db:
        db.executemany(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status,"
            " start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            runs,
        )
        db.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?,?,?)", params)
        db.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?,?,?)", tags)
        db.executemany(
            "INSERT INTO metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?,?,?,?,?,?)",
            metrics,
        )
        db.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?,?,?,?,?,?)",
            metrics,
        )
    return len(runs)


def _utc_ms(day: int, hour: int, minute: int = 0) -> int:
    import datetime as dt

    return int(dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC).timestamp() * 1000)


SAMPLE_SESSIONS: tuple[SyntheticSession, ...] = (
    SyntheticSession(
        "close-issue 123", _utc_ms(2, 9), 95.0, commands=12, tools={"Bash": 12, "Read": 3, "Edit": 2},
        procedure="close-issue", issue="123", input_tokens=5200, output_tokens=1800, cost_usd=0.081,
    ),
    SyntheticSession(
        "extract-best-frame clip.mp4", _utc_ms(2, 14, 30), 20.0, commands=4, tools={"Bash": 4},
        errors=2, success=0, procedure="extract-best-frame", cost_usd=0.012,
    ),
    SyntheticSession(
        "extract-best-frame intro.mov", _utc_ms(3, 11), 31.5, commands=15, tools={"Bash": 15, "Read": 1},
        errors=1, procedure="extract-best-frame", input_tokens=3100, output_tokens=900, cost_usd=0.044,
    ),
    SyntheticSession(
        "close-issue 77", _utc_ms(4, 16, 45), 300.0, commands=9, tools={"Bash": 9, "Read": 6, "Edit": 1},
        errors=3, success=0, procedure="close-issue", issue="77", input_tokens=9100, output_tokens=2500,
        cost_usd=1.25,
    ),
    SyntheticSession(
        "refactor the transcript parser", _utc_ms(5, 8, 15), 12.0, commands=2, tools={"Read": 4, "Edit": 3},
        input_tokens=800, output_tokens=260, cost_usd=0.007,
    ),
    SyntheticSession(
        "write the docs for issue 123", _utc_ms(6, 10), 45.0, commands=11, tools={"Bash": 11, "Write": 2},
        issue="123", input_tokens=2400, output_tokens=1500, cost_usd=0.036,
    ),
)  # fmt: skip
"""Six sessions that between them match every search example of the seed (and miss each one somewhere)."""


_m, _p = schema.search_metric, schema.search_param
SEED_FILTERS: list[tuple[str, Callable[[SyntheticSession], bool]]] = [
    (f"{_m(schema.SUCCESS)} = 1", lambda s: s.success == 1),
    (f"{_m(schema.ERRORS_ENCOUNTERED)} > 0", lambda s: s.errors > 0),
    (f"{_m(schema.COMMANDS_EXECUTED)} > 10", lambda s: s.commands > 10),
    (f"{_m(schema.DURATION_SECONDS)} > 30", lambda s: s.duration_seconds > 30),
    (schema.SESSION_FILTER, lambda s: True),
    (f'{_p(schema.PARAM_ISSUE)} = "123"', lambda s: s.issue == "123"),
    (f'{_p(schema.PARAM_PROCEDURE)} = "close-issue"', lambda s: s.procedure == "close-issue"),
    (
        f'{_p(schema.PARAM_PROCEDURE)} = "extract-best-frame" AND {_m(schema.SUCCESS)} = 0',
        lambda s: s.procedure == "extract-best-frame" and s.success == 0,
    ),
]
"""The seed's search examples (`test_tracking_schema` pins their spelling), each with the predicate that
says which synthetic sessions must match it (shared by the store and the History pane tests)."""
