"""The MLflow schema of a claude-tui session run: every tag, param and metric name, and the series keys.

One module, so what `tracking.record`/`tracking.logger` write is what `history` (search, details, export,
compare), `tracking.importer` and the synthetic runs of the tests read. The searches the original
`claude-with-tracking` wrapper promised work verbatim: `tags.type = "claude_session"`,
`metrics.errors_encountered > 0`, `params.issue_number = "123"`, `params.procedure_name = "close-issue"`,
`metrics.success = 1` (see docs/tracking.md).

The metric names of the stats are the stat names of `parsing.stats` (`SessionStats.to_dict`), taken from
there; the schema only says which stats become metrics and which params. The metrics of the CLI's own
telemetry are those of `parsing.otlp` (`CliTelemetry.to_dict`).
"""

from __future__ import annotations

from claude_tui.parsing.otlp import METRIC_NAMES as TELEMETRY_KEYS
from claude_tui.parsing.stats import STAT_KEYS

# -- tags ----------------------------------------------------------------------------------------------------

TAG_TYPE = "type"
SESSION_TYPE = "claude_session"
"""`tags.type = "claude_session"` marks a claude-tui session among other runs of an experiment."""
TAG_RUN_NAME = "mlflow.runName"
"""The first prompt, shortened (MLflow shows it as the run's name)."""
TAG_SESSION_ID = "claude.session_id"
"""Claude Code's session id: what makes logging idempotent (one session, one run)."""
TAG_SOURCE_NAME = "mlflow.source.name"
SOURCE_NAME = "claude-tui"
TAG_GIT_BRANCH = "git.branch"
TAG_GIT_COMMIT = "git.commit"
TAG_GIT_WORKTREE = "git.worktree"
"""The folder of the git worktree the session ran in (`--worktree`); its branch is `git.branch`."""
TAG_CLAUDE_VERSION = "claude.version"
TAG_UNPRICED_MODELS = "cost.unpriced_models"
"""Why a run has no `cost_usd`: the models genai-prices has no price for (comma-separated)."""
TAG_LOGGING_WARNINGS = "claude.logging_warnings"
"""What was dropped or cut to fit MLflow's limits when the run was logged (`tracking.limits`)."""
TAG_META_UNREADABLE = "claude.meta_unreadable"
"""Why a spool was logged without its meta.json (`tracking.spool.RunSpool.recover`); absent otherwise."""
TAG_TELEMETRY = "claude.telemetry"
"""Whether the CLI's own telemetry is in the run (the `cli_*` metrics): `TELEMETRY_RECEIVED`, `TELEMETRY_USER`
or `TELEMETRY_MISSING`; no tag for a program that is not Claude Code, or a session run without it."""
TELEMETRY_RECEIVED = "received"
TELEMETRY_USER = "user exporter"
"""The user's own telemetry export was configured; claude-tui left it untouched and received none."""
TELEMETRY_MISSING = "missing"
"""claude-tui asked the CLI for its telemetry and none arrived (a CLI that exports none, a killed session)."""
TAG_USER = "mlflow.user"
"""Who ran the session: the settings' `user`, else git's `user.email` in the work dir, else the login name.
MLflow also sets the run's `user_id` from it, and its UI filters on it."""
TAG_HOST = "host"
"""The machine the session ran on."""
TAG_GIT_REMOTE = "git.remote"
"""The repository's remote URL (origin), without any credentials."""
TAG_REPOSITORY = "git.repository"
"""The repository's short name (from its remote, else its folder)."""
TAG_SESSION_IDS = "claude.session_ids"
"""Every conversation the tracked process held, comma-separated, in order (one per /clear, /resume to
another, fork); the first is `claude.session_id`."""
TAG_RESUMED_FROM = "claude.resumed_from"
"""The earlier conversations the process went on with (`--resume`, `--continue`, /resume, a fork's origin)."""
TAG_RESUMED_FROM_RUN = "claude.resumed_from_run"
"""The runs that hold those conversations' earlier parts, when they were logged."""
TAG_RUN_KEY = "claude_tui.run_key"
"""What makes logging idempotent: the id claude-tui gave the tracked process (its spool's session id). Equal
to `claude.session_id` unless the process began by resuming an earlier conversation, whose run already
holds that session id."""
TAG_SOURCE = "source"
SOURCE_LIVE = "live"
"""`source` of a session run in the app."""
SOURCE_IMPORT = "import"
"""`source` of a session imported from a transcript on disk (`claude-tui import`)."""

TAGS = (
    TAG_TYPE,
    TAG_RUN_NAME,
    TAG_SESSION_ID,
    TAG_SOURCE_NAME,
    TAG_GIT_BRANCH,
    TAG_GIT_COMMIT,
    TAG_GIT_WORKTREE,
    TAG_CLAUDE_VERSION,
    TAG_UNPRICED_MODELS,
    TAG_META_UNREADABLE,
    TAG_LOGGING_WARNINGS,
    TAG_TELEMETRY,
    TAG_USER,
    TAG_HOST,
    TAG_GIT_REMOTE,
    TAG_REPOSITORY,
    TAG_SOURCE,
    TAG_SESSION_IDS,
    TAG_RESUMED_FROM,
    TAG_RESUMED_FROM_RUN,
    TAG_RUN_KEY,
)
"""Every tag claude-tui sets (the user's `--tag`s come on top)."""

# -- params --------------------------------------------------------------------------------------------------

PARAM_SESSION_ID = "session_id"
PARAM_COMMAND = "command"
PARAM_ARGS = "args"
PARAM_CWD = "cwd"
PARAM_PROCEDURE = "procedure_name"
"""From the first prompt (`close-issue 583` -> `close-issue`) unless `--procedure` says otherwise."""
PARAM_ISSUE = "issue_number"
"""From the first prompt (`close-issue 583`, `#583`, `issue 583`) unless `--issue` says otherwise."""
PARAM_MODEL = "model"
PARAM_PERMISSION_MODE = "permission_mode"

PARAMS = (
    PARAM_SESSION_ID,
    PARAM_COMMAND,
    PARAM_ARGS,
    PARAM_CWD,
    PARAM_PROCEDURE,
    PARAM_ISSUE,
    PARAM_MODEL,
    PARAM_PERMISSION_MODE,
)
"""Every param a session run can carry."""

# -- metrics -------------------------------------------------------------------------------------------------

NOT_METRICS = frozenset(
    {
        "tool_uses_by_name",  # one metric per tool instead: `tool_uses.<Tool>` (`tool_metric`)
        "models",  # text; the main one is the `model` param
        "first_prompt",  # text; the run name
        PARAM_PROCEDURE,  # text; params
        PARAM_ISSUE,
        "turns",  # shown by `claude-tui stats`, not logged
        "unpriced_models",  # text; the `cost.unpriced_models` tag
        "unknown_records_by_type",  # shown by `claude-tui stats`; the run logs the total, `unknown_records`
    }
)
"""Stats of `parsing.stats.STAT_KEYS` that are not logged as metrics of their own."""

STAT_METRICS: tuple[str, ...] = tuple(key for key in STAT_KEYS if key not in NOT_METRICS)
"""The stats logged as metrics (when they have a value: an unpriced model has no `cost_usd`)."""


def _metric(name: str, among: tuple[str, ...] = STAT_METRICS) -> str:
    """`name`, checked to be one of the metrics `among` (the stats of parsing.stats by default)."""
    if name not in among:  # pragma: no cover - caught at import, by every test
        raise ValueError(f"{name!r} is not a metric claude-tui logs")
    return name


TOOL_USES = _metric("tool_uses")
SUBAGENT_TOOL_USES = _metric("subagent_tool_uses")
COMMANDS_EXECUTED = _metric("commands_executed")
GIT_OPERATIONS = _metric("git_operations")
ERRORS_ENCOUNTERED = _metric("errors_encountered")
USER_PROMPTS = _metric("user_prompts")
FILES_READ = _metric("files_read")
FILES_MODIFIED = _metric("files_modified")
INPUT_TOKENS = _metric("input_tokens")
OUTPUT_TOKENS = _metric("output_tokens")
CACHE_READ_TOKENS = _metric("cache_read_tokens")
CACHE_CREATION_TOKENS = _metric("cache_creation_tokens")
ACTIVE_SECONDS = _metric("active_seconds")
COST_USD = _metric("cost_usd")
MALFORMED_LINES = _metric("malformed_lines")
UNKNOWN_RECORDS = _metric("unknown_records")

TELEMETRY_METRICS: tuple[str, ...] = TELEMETRY_KEYS
"""The CLI's own accounting, from its telemetry, logged beside the transcript's (when it arrived)."""


CLI_COST_USD = _metric("cli_cost_usd", TELEMETRY_METRICS)
"""What the CLI itself says the session cost (its `cost-state` figure), USD."""
CLI_INPUT_TOKENS = _metric("cli_input_tokens", TELEMETRY_METRICS)
CLI_OUTPUT_TOKENS = _metric("cli_output_tokens", TELEMETRY_METRICS)
CLI_CACHE_READ_TOKENS = _metric("cli_cache_read_tokens", TELEMETRY_METRICS)
CLI_CACHE_CREATION_TOKENS = _metric("cli_cache_creation_tokens", TELEMETRY_METRICS)
API_REQUESTS = _metric("api_requests", TELEMETRY_METRICS)
"""API requests the CLI made (side requests and `/compact`'s summary included)."""
API_ERRORS = _metric("api_errors", TELEMETRY_METRICS)
"""API requests that failed for good, after the CLI's retries."""
TTFT_MS_P50 = _metric("ttft_ms_p50", TELEMETRY_METRICS)
TTFT_MS_P95 = _metric("ttft_ms_p95", TELEMETRY_METRICS)
"""Time to the first token of a reply, median and 95th percentile (nearest rank), milliseconds."""

SUCCESS = "success"
"""1 when the program exited 0 and was not killed, else 0; none for an import (its end is unknown)."""
EXIT_CODE = "exit_code"
DURATION_SECONDS = "duration_seconds"
"""Seconds from the session's start to its end."""

OUTCOME_METRICS = (SUCCESS, EXIT_CODE, DURATION_SECONDS)
"""Metrics about how the session ended, beside the stats."""

PERMISSION_DENIALS = _metric("permission_denials")
WAITING_SECONDS = "waiting_seconds"
"""Time the program waited for the person (a permission, a question, the CLI's notification)."""
WORKING_SECONDS = "working_seconds"
"""Time it worked (from a prompt to its turn's end, without the waits)."""
PERMISSION_REQUESTS = "permission_requests"
CONVERSATIONS = "conversations"
"""How many conversations the process held."""

LIFECYCLE_METRICS = (WAITING_SECONDS, WORKING_SECONDS, PERMISSION_REQUESTS, CONVERSATIONS)
"""Metrics from the session's lifecycle (hooks, or the terminal where there are none): live sessions only."""

TOOL_METRIC_PREFIX = TOOL_USES + "."


def tool_metric(tool: str) -> str:
    """The metric of one tool's uses: `tool_uses.<Tool>`, the name made safe for MLflow.

    MLflow allows letters, digits and `_-. /` in a key; anything else becomes `_`.
    """
    safe = "".join(c if c.isalnum() or c in "_-./ " else "_" for c in tool) or "_"
    return TOOL_METRIC_PREFIX + safe


SERIES_KEYS = (TOOL_USES, ERRORS_ENCOUNTERED, COMMANDS_EXECUTED)
"""Metrics also logged as a time series (cumulative, step = seconds since the session started)."""

# -- the trace -----------------------------------------------------------------------------------------------

ROOT_SPAN = SESSION_TYPE
"""The name of a session trace's root span (its children: a span per turn, LLM and TOOL spans)."""
TRACE_SOURCE_RUN = "mlflow.sourceRun"
"""Trace metadata linking the trace to its run (MLflow's key: the trace shows in the run's Traces tab);
the root span also carries the `claude.session_id` tag."""

TRACE_USER = "mlflow.trace.user"
"""Trace metadata: the session's user (MLflow's Sessions page and user filters read it)."""
TRACE_SESSION = "mlflow.trace.session"
"""Trace metadata: the Claude session id; MLflow's Sessions page groups a session's traces by it."""
TRACE_GIT_COMMIT = "mlflow.source.git.commit"
TRACE_GIT_BRANCH = "mlflow.source.git.branch"
TRACE_GIT_REPO_URL = "mlflow.source.git.repoURL"
"""Trace metadata MLflow fills from the logging process's own directory; set from the session's instead."""
TRACE_SOURCE_NAME = "mlflow.source.name"
TRACE_TAG_KEY = "claude.turn"
"""Trace tag: which trace of its run this is (`turn 3`, or `session` for a session without a prompt)."""

# -- searching -----------------------------------------------------------------------------------------------


def search_tag(name: str) -> str:
    """A tag as MLflow's search syntax names it (a dotted key needs backticks)."""
    return f"tags.`{name}`" if "." in name else f"tags.{name}"


def search_metric(name: str) -> str:
    """A metric as MLflow's search syntax and `order_by` name it."""
    return f"metrics.`{name}`" if "." in name else f"metrics.{name}"


def search_param(name: str) -> str:
    """A param as MLflow's search syntax and `order_by` name it."""
    return f"params.`{name}`" if "." in name else f"params.{name}"


SESSION_FILTER = f'{search_tag(TAG_TYPE)} = "{SESSION_TYPE}"'
"""The filter that keeps claude-tui sessions: `tags.type = "claude_session"`."""

HAS_SESSION_ID = f"{search_tag(TAG_SESSION_ID)} != ''"
"""Runs that carry a session id (a logged or half-logged session)."""


def session_filter(session_id: str) -> str:
    """The filter for one session's run: ``tags.`claude.session_id` = '<id>'``."""
    escaped = session_id.replace("\\", "\\\\").replace("'", "\\'")
    return f"{search_tag(TAG_SESSION_ID)} = '{escaped}'"


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def run_key_filter(key: str) -> str:
    """The filter for the run of one tracked process: ``tags.`claude_tui.run_key` = '<key>'``."""
    return f"{search_tag(TAG_RUN_KEY)} = '{_quoted(key)}'"


def holds_conversation_filter(session_id: str) -> str:
    """Runs whose process held the conversation `session_id` after its first (`claude.session_ids`)."""
    return f"{search_tag(TAG_SESSION_IDS)} LIKE '%{_quoted(session_id)}%'"
