"""Search logged sessions in an MLflow store and read one run's details.

`RunQuery` passes filter strings to `MlflowClient.search_runs` verbatim, so everything the MLflow UI's search
bar accepts works here too (`metrics.success = 1`, `params.procedure_name = "close-issue" AND ...`). Results
come back as small frozen dataclasses so the widgets never touch MLflow entities. mlflow is imported inside
the methods: they run in thread workers, never on the UI thread.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claude_tui.tracking import schema

SESSION_FILTER = schema.SESSION_FILTER
"""The filter every query adds: only claude-tui sessions, even if the experiment holds other runs."""

DEFAULT_ORDER = ("attributes.start_time DESC",)
"""Newest first."""

PAGE_SIZE = 100
"""Rows per page: one screenful and a half, cheap to fetch from a 10,000-run store."""


class HistoryError(Exception):
    """Base class for errors the history package reports with a one-line message."""


class InvalidFilterError(HistoryError):
    """MLflow rejected a filter or order-by expression; `message` is MLflow's own text."""

    def __init__(self, expression: str, message: str) -> None:
        super().__init__(message)
        self.expression = expression
        self.message = message


class StoreUnavailableError(HistoryError):
    """The tracking store could not be opened or queried (bad URI, server down, unreadable file)."""


def today_start_ms(now: dt.datetime | None = None) -> int:
    """Epoch milliseconds of the local midnight that began the day of `now` (default: the current time)."""
    now = now or dt.datetime.now().astimezone()
    if now.tzinfo is None:
        now = now.astimezone()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return int(midnight.timestamp() * 1000)


def _today_filter() -> str:
    return f"attributes.start_time >= {today_start_ms()}"


QUICK_FILTERS: dict[str, Callable[[], str]] = {
    "failed": lambda: f"{schema.search_metric(schema.SUCCESS)} = 0",
    "errors": lambda: f"{schema.search_metric(schema.ERRORS_ENCOUNTERED)} > 0",
    "today": _today_filter,
}
"""Quick filter name -> a function building its MLflow filter (a function because "today" moves)."""


def mine_filter(user: str) -> str:
    """The sessions attributed to `user` (`tags.mlflow.user`, issue 17's attribution)."""
    quoted = user.replace("\\", "\\\\").replace("'", "\\'")
    return f"{schema.search_tag(schema.TAG_USER)} = '{quoted}'"


def is_shared_store(tracking_uri: str) -> bool:
    """Whether the store is a server or database a team shares (not a local sqlite file or folder)."""
    return "://" in tracking_uri and not tracking_uri.startswith(("sqlite:", "file:"))


def default_mine_user(tracking_uri: str, cwd: str | None = None) -> str | None:
    """Who "mine" means when History opens on a shared store: the settings' `user`, else git's `user.email`;
    None for a local store (one person's sessions, and runs logged before attribution have no user) and when
    neither is set (a login name alone is too often `root` or `ubuntu` on a team's server)."""
    if not is_shared_store(tracking_uri):
        return None
    from claude_tui.tracking.gitinfo import user_email
    from claude_tui.tracking.record import configured_user

    return configured_user() or user_email(cwd or os.getcwd())


def combine_filters(*parts: str | None) -> str:
    """Join non-empty filter expressions with AND (MLflow's search syntax has no OR)."""
    return " AND ".join(part.strip() for part in parts if part and part.strip())


@dataclass(frozen=True)
class RunRow:
    """One session as a row of the history table (what the search results carry, nothing more)."""

    run_id: str
    experiment_id: str
    name: str
    start_time: int | None
    """Epoch milliseconds."""
    end_time: int | None
    status: str
    duration_seconds: float | None
    commands: float | None
    tools: float | None
    errors: float | None
    success: float | None
    procedure: str | None
    issue: str | None
    input_tokens: float | None
    output_tokens: float | None
    cost_usd: float | None

    @property
    def tokens(self) -> float | None:
        """Input plus output tokens, or None when neither was logged."""
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)


@dataclass(frozen=True)
class RunPage:
    """One page of search results and the token for the next (None on the last page)."""

    rows: list[RunRow]
    next_page_token: str | None


@dataclass(frozen=True)
class RunDetails:
    """Everything the details pane shows for one run."""

    row: RunRow
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    artifacts: list[str]
    """Artifact file paths relative to the run's root, depth first."""
    transcript: str | None
    """The text of `transcript/clean.txt`, or None when the run has none."""
    series: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    """Metric key -> [(step, value)] sorted by step, for `schema.SERIES_KEYS` that have a history."""


# Column id -> the MLflow order_by clauses that sort by it. "tokens" is input+output, which MLflow cannot
# sort by; ordering by input then output tokens is the nearest the store offers.
_metric, _param = schema.search_metric, schema.search_param
SORT_KEYS: dict[str, tuple[str, ...]] = {
    "start": ("attributes.start_time",),
    "name": ("attributes.run_name",),
    "duration": (_metric(schema.DURATION_SECONDS),),
    "commands": (_metric(schema.COMMANDS_EXECUTED),),
    "tools": (_metric(schema.TOOL_USES),),
    "errors": (_metric(schema.ERRORS_ENCOUNTERED),),
    "ok": (_metric(schema.SUCCESS),),
    "procedure": (_param(schema.PARAM_PROCEDURE), _param(schema.PARAM_ISSUE)),
    "tokens": (_metric(schema.INPUT_TOKENS), _metric(schema.OUTPUT_TOKENS)),
    "cost": (_metric(schema.COST_USD),),
}


def order_by_for(column: str, descending: bool) -> list[str]:
    """MLflow order_by clauses for a history-table column id (see `SORT_KEYS`), newest first as tiebreak."""
    direction = "DESC" if descending else "ASC"
    clauses = [f"{clause} {direction}" for clause in SORT_KEYS[column]]
    if column != "start":
        clauses.append("attributes.start_time DESC")
    return clauses


def run_name(name: str, params: Mapping[str, str]) -> str:
    """The run's name; one logged without a prompt (older runs say `(no prompt)`) is named by its program
    and work dir."""
    from claude_tui.tracking.record import NO_PROMPT, unnamed_run_name

    if name.strip() and name != NO_PROMPT:
        return name
    return unnamed_run_name(params.get(schema.PARAM_COMMAND), params.get(schema.PARAM_CWD))


def row_from_run(run: Any) -> RunRow:
    """Convert an `mlflow.entities.Run` into a `RunRow`."""
    info, data = run.info, run.data
    metrics: Mapping[str, float] = data.metrics
    params: Mapping[str, str] = data.params
    tags: Mapping[str, str] = data.tags
    duration = metrics.get(schema.DURATION_SECONDS)
    if duration is None and info.start_time and info.end_time:
        duration = (info.end_time - info.start_time) / 1000
    return RunRow(
        run_id=info.run_id,
        experiment_id=str(info.experiment_id),
        name=run_name(info.run_name or tags.get(schema.TAG_RUN_NAME) or "", params),
        start_time=info.start_time,
        end_time=info.end_time,
        status=info.status,
        duration_seconds=duration,
        commands=metrics.get(schema.COMMANDS_EXECUTED),
        tools=metrics.get(schema.TOOL_USES),
        errors=metrics.get(schema.ERRORS_ENCOUNTERED),
        success=metrics.get(schema.SUCCESS),
        procedure=params.get(schema.PARAM_PROCEDURE) or None,
        issue=params.get(schema.PARAM_ISSUE) or None,
        input_tokens=metrics.get(schema.INPUT_TOKENS),
        output_tokens=metrics.get(schema.OUTPUT_TOKENS),
        cost_usd=metrics.get(schema.COST_USD),
    )


# MlflowClient construction for a sqlite store runs schema checks (~1 s); one client per URI per process.
_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def _client(tracking_uri: str) -> Any:
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(tracking_uri)
        if client is None:
            from claude_tui.tracking.store import tracking_client

            client = tracking_client(tracking_uri)
            _CLIENTS[tracking_uri] = client
        return client


def _is_bad_request(exc: Exception) -> bool:
    code = getattr(exc, "error_code", "")
    return code in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST")


class RunQuery:
    """Searches the sessions of one experiment in one tracking store.

    Args:
        tracking_uri: any MLflow tracking URI (`sqlite:///...`, `http://host:port`, a file store path).
        experiment: the experiment name; a store without it simply has no sessions.
        session_only: add `schema.SESSION_FILTER` (`tags.type = "claude_session"`) to every filter.
    """

    def __init__(self, tracking_uri: str, experiment: str, *, session_only: bool = True) -> None:
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.session_only = session_only
        self._experiment_id: str | None = None

    @property
    def client(self) -> Any:
        """The shared `MlflowClient` for this store (created on first use)."""
        try:
            return _client(self.tracking_uri)
        except Exception as exc:
            raise StoreUnavailableError(
                _store_line("cannot open tracking store", self.tracking_uri, exc)
            ) from exc

    def experiment_id(self) -> str | None:
        """The experiment's id, or None when the store has no such experiment (yet)."""
        if self._experiment_id is None:
            self._check_reachable()
            try:
                experiment = self.client.get_experiment_by_name(self.experiment)
            except HistoryError:
                raise
            except Exception as exc:
                raise StoreUnavailableError(
                    _store_line("cannot read tracking store", self.tracking_uri, exc)
                ) from exc
            if experiment is not None:
                self._experiment_id = str(experiment.experiment_id)
        return self._experiment_id

    def warm(self) -> None:
        """Import mlflow, open the store and look the experiment up, so the first search is quick.

        Call it from a thread worker (e.g. once the live session is running) to take the ~2-3 s of
        `import mlflow` and store start-up off the History tab's first open. Errors are left for later.
        """
        try:
            self.experiment_id()
        except HistoryError:
            pass

    def _check_reachable(self) -> None:
        # MLflow's REST client retries a refused connection with backoff for minutes; ask once, quickly.
        from claude_tui.history.ui_server import answers, is_remote

        if is_remote(self.tracking_uri) and not answers(self.tracking_uri, timeout=5.0):
            raise StoreUnavailableError(f"cannot reach tracking server {self.tracking_uri}")

    def full_filter(self, filter_string: str = "") -> str:
        """The filter actually sent: the user's expression plus the session-only clause."""
        return combine_filters(SESSION_FILTER if self.session_only else None, filter_string)

    def search(
        self,
        filter_string: str = "",
        *,
        order_by: Sequence[str] | None = None,
        max_results: int = PAGE_SIZE,
        page_token: str | None = None,
    ) -> RunPage:
        """One page of sessions matching `filter_string` (MLflow search syntax, passed verbatim).

        Raises:
            InvalidFilterError: MLflow rejected the filter or the order_by clauses.
            StoreUnavailableError: the store could not be read.
        """
        experiment_id = self.experiment_id()
        if experiment_id is None:
            self.validate(filter_string)
            return RunPage([], None)
        try:
            runs = self.client.search_runs(
                [experiment_id],
                filter_string=self.full_filter(filter_string),
                order_by=list(order_by or DEFAULT_ORDER),
                max_results=max_results,
                page_token=page_token,
            )
        except Exception as exc:
            raise self._translate(filter_string, exc) from exc
        token = runs.token
        if isinstance(token, bytes):  # the sqlalchemy store hands out bytes; keep the API to str
            token = token.decode("ascii")
        return RunPage([row_from_run(run) for run in runs], token or None)

    def iter_runs(self, filter_string: str = "", *, page_size: int = 1000) -> Iterable[Any]:
        """Every matching `mlflow.entities.Run`, newest first, fetched page by page."""
        experiment_id = self.experiment_id()
        if experiment_id is None:
            self.validate(filter_string)
            return
        token: str | None = None
        while True:
            try:
                page = self.client.search_runs(
                    [experiment_id],
                    filter_string=self.full_filter(filter_string),
                    order_by=list(DEFAULT_ORDER),
                    max_results=page_size,
                    page_token=token,
                )
            except Exception as exc:
                raise self._translate(filter_string, exc) from exc
            yield from page
            token = page.token
            if not token:
                return

    def validate(self, filter_string: str) -> None:
        """Raise `InvalidFilterError` if MLflow rejects `filter_string` (no store access needed).

        Parsing alone accepts e.g. `metrics.x === 1`; the stores check comparators afterwards with the same
        `SearchUtils.is_*` helpers, so those run here too.
        """
        from mlflow.utils.search_utils import SearchUtils

        try:
            for clause in SearchUtils.parse_search_filter(self.full_filter(filter_string)):
                kind, key, comparator = clause.get("type"), clause.get("key"), clause.get("comparator")
                SearchUtils.is_metric(kind, comparator)
                SearchUtils.is_param(kind, comparator)
                SearchUtils.is_tag(kind, comparator)
                SearchUtils.is_dataset(kind, comparator)
                SearchUtils.is_string_attribute(kind, key, comparator)
                SearchUtils.is_numeric_attribute(kind, key, comparator)
        except Exception as exc:
            raise InvalidFilterError(filter_string, _message(exc)) from exc

    def details(self, run_id: str) -> RunDetails:
        """Params, metrics, tags, artifact list, clean transcript and metric series of one run."""
        client = self.client
        try:
            run = client.get_run(run_id)
        except Exception as exc:
            raise StoreUnavailableError(f"cannot read run {run_id}: {_message(exc)}") from exc
        artifacts = self.list_artifacts(run_id)
        transcript = None
        if "transcript/clean.txt" in artifacts:
            transcript = self.read_text(run_id, "transcript/clean.txt")
        series: dict[str, list[tuple[int, float]]] = {}
        for key in schema.SERIES_KEYS:
            if key not in run.data.metrics:
                continue
            try:
                history = client.get_metric_history(run_id, key)
            except Exception:
                continue  # a missing series only costs the chart, not the details
            series[key] = sorted((int(m.step), float(m.value)) for m in history)
        return RunDetails(
            row=row_from_run(run),
            params=dict(sorted(run.data.params.items())),
            metrics=dict(sorted(run.data.metrics.items())),
            tags=dict(sorted(run.data.tags.items())),
            artifacts=artifacts,
            transcript=transcript,
            series=series,
        )

    def list_artifacts(self, run_id: str) -> list[str]:
        """Every artifact file of a run, as paths relative to the run's artifact root."""
        found: list[str] = []
        pending: list[str | None] = [None]
        while pending:
            path = pending.pop()
            try:
                infos = self.client.list_artifacts(run_id, path)
            except Exception:
                continue  # an unreadable folder hides its files, the rest still shows
            for info in infos:
                if info.is_dir:
                    pending.append(info.path)
                else:
                    found.append(info.path)
        return sorted(found)

    def download(self, run_id: str, path: str, dst: Path) -> Path:
        """Download one artifact into folder `dst` and return the local file's path."""
        dst.mkdir(parents=True, exist_ok=True)
        local = self.client.download_artifacts(run_id, path, str(dst))
        return Path(local)

    def read_text(self, run_id: str, path: str) -> str | None:
        """The text of one artifact, or None if it cannot be read."""
        import tempfile

        try:
            with tempfile.TemporaryDirectory(prefix="claude-tui-artifact-") as tmp:
                return self.download(run_id, path, Path(tmp)).read_text(encoding="utf-8", errors="replace")
        except Exception:
            return None

    def read_bytes(self, run_id: str, path: str) -> bytes | None:
        """The bytes of one artifact, or None if it cannot be read."""
        import tempfile

        try:
            with tempfile.TemporaryDirectory(prefix="claude-tui-artifact-") as tmp:
                return self.download(run_id, path, Path(tmp)).read_bytes()
        except Exception:
            return None

    def _translate(self, filter_string: str, exc: Exception) -> HistoryError:
        if isinstance(exc, HistoryError):
            return exc
        if _is_bad_request(exc):
            return InvalidFilterError(filter_string, _message(exc))
        return StoreUnavailableError(_store_line("cannot search", self.tracking_uri, exc))


def _store_line(what: str, store: str, exc: Exception) -> str:
    """A known store failure (unauthorized, forbidden, unreachable, ...) in `tracking.errors`' one line,
    else `<what> <store>: <MLflow's message>`."""
    from claude_tui.tracking.errors import describe

    failure = describe(exc, store)
    if failure.cause is not None:
        return failure.line
    return f"{what} {store}: {_message(exc)}"


_PY_SET = re.compile(r"'?\{('[^'{}]*'(?:, '[^'{}]*')*)\}'?")
"""A Python set of strings inside MLflow's message (`Valid keys are '{'status', 'run_id', ...}'`)."""


def _message(exc: Exception) -> str:
    """MLflow's message on one line; a set of names in it (printed in hash order) becomes a sorted list."""
    message = " ".join(str(getattr(exc, "message", None) or exc).split())

    def listed(match: re.Match[str]) -> str:
        # MLflow lists aliases that differ only in case ('Created', 'created'): one of each.
        names = sorted({name.strip().strip("'").lower() for name in match.group(1).split(", ")})
        return ", ".join(names)

    return _PY_SET.sub(listed, message)


def resolve_tracking_uri(tracking_uri: str | None) -> str:
    """The store to read: `tracking_uri` if given, else the tracking package's resolver, else the default.

    `claude_tui.tracking.store.resolve_tracking_uri` is the logger's own rule (so History reads where
    sessions are written); until it exists, `paths.default_tracking_uri()` is the same rule.
    """
    if tracking_uri:
        return tracking_uri
    try:
        from claude_tui.tracking.store import resolve_tracking_uri as tracking_resolve
    except ImportError:
        from claude_tui.paths import default_tracking_uri

        return default_tracking_uri()
    resolved: str = tracking_resolve(None)
    return resolved
