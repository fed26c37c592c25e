"""claude-tui at team scale, measured: MLflow's own server on PostgreSQL with basic auth (issue 17, item 6).

One `mlflow server --app-name basic-auth` on a PostgreSQL cluster started for the run, artifacts proxied by
the server (`tests.support.team_server`, the e2e tests' set-up), one user per team member. Three parts:

- **live**: N sessions ending together. Each is the spool a live session leaves (meta, a recording cut from a
  real recorded Claude session, events, summary, and its transcript: a real CLI transcript with fresh ids, as
  `bench_import` builds them); all N are handed at the same instant to N logger processes
  (`python -m claude_tui.tracking.background`, what the owner starts when a session ends), each as its own
  user. Per session: from the hand-off (the program's exit) to the logger's line saying the store confirmed
  the run, its artifacts and its trace.
- **import**: M sessions imported concurrently: `--importers` `claude-tui import` processes at once, each
  member importing their share. Per session: from the imports' start to the line saying it is imported.
- **history**: a store of `--history-runs` runs (written straight into PostgreSQL with MLflow's own schema:
  through the REST API it would take hours here), then History's first page as a member opens it ("mine",
  the default on a shared store, and everyone's), a filter and the next page, all through the server: the
  server filters and pages, the client holds one page.

For both loads: p50/p95, errors, runs lost (sessions without a run) and duplicates (sessions with more than
one run), both of which must be 0. The load average is printed beside each row.

Run: `.venv/bin/python benchmarks/bench_team.py [--live 20] [--imports 200] [--importers 20]
[--history-runs 100000]` (`--history-runs 0` skips the History part).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_import import build_sessions  # noqa: E402 - after the path is set

STREAM = ROOT / "tests" / "data" / "streams" / "claude_session.bin"
EXPERIMENT = "team-bench"
PASSWORD = "bench-password-0123"


def load() -> str:
    """The 1-minute load average, for the table."""
    return f"{os.getloadavg()[0]:.1f}"


def percentiles(values: list[float]) -> tuple[float, float]:
    """p50 and p95 (nearest rank) of `values` (0, 0 for none)."""
    if not values:
        return 0.0, 0.0
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return statistics.median(ordered), p95


def live_spool(root: Path, transcript: Path, user: str) -> Path:
    """The spool a finished live session leaves, for `transcript` (its session id kept)."""
    from claude_tui.parsing import TranscriptTail, event_to_dict, stats_for_transcript
    from claude_tui.tracking.spool import RunSpool

    session_id = transcript.stem
    events = TranscriptTail(transcript).poll(final=True)
    stamps = [e.ts for e in events if getattr(e, "ts", None)]
    start = min(stamps) if stamps else time.time() - 600
    end = max(stamps) if stamps else start + 600
    meta = {
        "session_id": session_id,
        "argv": ["claude", "--session-id", session_id],
        "command": "claude",
        "args": [],
        "cwd": str(root),
        "start_time": start,
        "git": {"commit": None, "branch": "main", "dirty": None},
        "tracking_uri": None,
        "experiment": EXPERIMENT,
        "tags": {"bench": "team"},
        "redact": True,
        "user": user,
        "claude_config_dir": str(transcript.parents[2]),
        "transcript_path": str(transcript),
        "pid": 0,
        "claude_version": "2.1.328",
        "terminal": {"cols": 120, "rows": 40},
    }
    spool = RunSpool.create(meta, root)
    sample = STREAM.read_bytes()[:65536].decode("utf-8", errors="replace")
    lines = [json.dumps({"version": 2, "width": 120, "height": 40, "timestamp": int(start)})]
    lines += [json.dumps([i * 0.5, "o", sample[i * 1024 : (i + 1) * 1024]]) for i in range(64)]
    spool.recording_path.write_text("\n".join(lines) + "\n")
    spool.append_events(event_to_dict(e) for e in events)
    spool.finish(
        {
            "end_time": end,
            "exit_code": 0,
            "signal": None,
            "killed": False,
            "stats": stats_for_transcript(transcript).to_dict(),
            "stats_source": "transcript",
        }
    )
    spool.close()
    return spool.path


def member_env(team: Any, name: str, home: Path) -> dict[str, str]:
    """A member's environment: the server, their credentials, their own data dir, no settings file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "CLAUDE_TUI_"))}
    home.mkdir(parents=True, exist_ok=True)
    return {
        **env,
        **team.env(name),
        "CLAUDE_TUI_HOME": str(home),
        "CLAUDE_TUI_CONFIG": str(home / "none.toml"),
        "CLAUDE_TUI_SYSTEM_CONFIG": str(home / "none-system.toml"),
    }


def store_session_runs(team: Any, session_ids: set[str]) -> Counter[str]:
    """How many runs each of `session_ids` has in the store (as the admin, one paged search)."""
    from claude_tui.tracking import schema
    from claude_tui.tracking.importer import SEARCH_PAGE
    from claude_tui.tracking.store import tracking_client

    with as_admin():
        client = tracking_client(team.url)
        experiment = client.get_experiment_by_name(EXPERIMENT)
        counts: Counter[str] = Counter()
        token = None
        while experiment is not None:
            page = client.search_runs(
                [experiment.experiment_id], schema.HAS_SESSION_ID, max_results=SEARCH_PAGE, page_token=token
            )
            for run in page:
                sid = run.data.tags.get(schema.TAG_SESSION_ID)
                if sid in session_ids and run.info.status != "RUNNING":
                    counts[sid] += 1
            token = page.token
            if not token:
                break
        return counts


def team_admin_password() -> str:
    from tests.support.team_server import ADMIN_PASSWORD

    return ADMIN_PASSWORD


def as_admin() -> Any:
    """MLflow's client acts as the server's admin inside this context (the previous values come back)."""
    from unittest import mock

    admin = {"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": team_admin_password()}
    return mock.patch.dict(os.environ, admin)


def outcome_row(
    part: str, count: int, latencies: list[float], errors: int, runs: Counter[str], kept: int
) -> dict[str, Any]:
    """The table row of one load part; `kept`: sessions without a run whose data stays for a retry (a live
    session's spool, for `claude-tui sync`; an imported transcript, for the next import)."""
    p50, p95 = percentiles(latencies)
    lost = count - len(runs) - kept
    duplicates = sum(1 for n in runs.values() if n > 1)
    return {
        "part": part,
        "sessions": count,
        "p50 s": f"{p50:.1f}",
        "p95 s": f"{p95:.1f}",
        "errors": errors,
        "kept for a retry": kept,
        "runs lost": lost,
        "duplicates": duplicates,
        "load": load(),
    }


def measure_live(team: Any, work: Path, transcripts: list[Path]) -> dict[str, Any]:
    """N logger processes at once, one per finished live session; per session, hand-off to confirmation."""
    from claude_tui.tracking.background import logger_argv

    spools, envs = [], []
    for index, transcript in enumerate(transcripts):
        name = f"live{index:02d}"
        team.create_user(name, PASSWORD)
        envs.append(member_env(team, name, work / "homes" / name))
        spools.append(live_spool(work / "spools" / name, transcript, f"{name}@team.example"))
    grant_all(team, [f"live{i:02d}" for i in range(len(transcripts))])
    started = time.monotonic()
    procs = [
        subprocess.Popen(logger_argv(spool), env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        for spool, env in zip(spools, envs, strict=True)
    ]
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def follow(proc: subprocess.Popen[bytes]) -> None:
        nonlocal errors
        out, _ = proc.communicate(timeout=1800)
        elapsed = time.monotonic() - started
        line = (out.decode(errors="replace").strip().splitlines() or ["{}"])[-1]
        with lock:
            if proc.returncode == 0 and json.loads(line).get("run_id"):
                latencies.append(elapsed)
            else:
                errors += 1
                print(f"live logger failed: {line}", file=sys.stderr)

    follow_all(procs, follow)
    runs = store_session_runs(team, {t.stem for t in transcripts})
    kept = sum(
        1 for t, spool in zip(transcripts, spools, strict=True) if t.stem not in runs and spool.is_dir()
    )
    return outcome_row(f"live, N={len(transcripts)}", len(transcripts), latencies, errors, runs, kept)


def measure_imports(team: Any, work: Path, transcripts: list[Path], importers: int) -> dict[str, Any]:
    """`importers` `claude-tui import` processes at once over M transcripts; per session, start to imported
    (its line in the importer's output)."""
    names = [f"import{i:02d}" for i in range(importers)]
    for name in names:
        team.create_user(name, PASSWORD)
    grant_all(team, names)
    shares = [transcripts[i::importers] for i in range(importers)]
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    started = time.monotonic()
    procs = []
    for name, share in zip(names, shares, strict=True):
        env = member_env(team, name, work / "homes" / name)
        argv = [sys.executable, "-m", "claude_tui", "import", *map(str, share)]
        argv += ["--experiment", EXPERIMENT, "--min-age", "0", "--jobs", "1"]
        procs.append(subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT))

    def follow(proc: subprocess.Popen[bytes]) -> None:
        nonlocal errors
        assert proc.stdout is not None
        failed = 0  # this importer's error lines
        for raw in proc.stdout:
            line = raw.decode(errors="replace").strip()
            with lock:
                if line.startswith("imported"):
                    latencies.append(time.monotonic() - started)
                elif line.startswith(("failed", "FAIL", "error")) or "Traceback" in line:
                    failed += 1
                    print(f"import: {line}", file=sys.stderr)
        proc.wait()
        with lock:  # an importer that failed without an error line still counts once
            errors += max(failed, 1 if proc.returncode != 0 else 0)

    follow_all(procs, follow)
    runs = store_session_runs(team, {t.stem for t in transcripts})
    kept = sum(1 for t in transcripts if t.stem not in runs and t.is_file())
    part = f"import, M={len(transcripts)} ({importers} importers)"
    return outcome_row(part, len(transcripts), latencies, errors, runs, kept)


def follow_all(
    procs: list[subprocess.Popen[bytes]], follow: Callable[[subprocess.Popen[bytes]], None]
) -> None:
    """`follow(proc)` for every process at once, each in its own thread; returns when all are done."""
    threads = [threading.Thread(target=follow, args=(proc,)) for proc in procs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def grant_all(team: Any, names: list[str]) -> None:
    """Create the experiment (as the admin) and give every member EDIT on it."""
    from claude_tui.tracking.store import get_or_create_experiment

    with as_admin():
        experiment_id = get_or_create_experiment(EXPERIMENT, team.url)
    for name in names:
        team.grant_experiment(str(experiment_id), name, "EDIT")


# -- History on a big store ----------------------------------------------------------------------------------

TEAM_SIZE = 200
"""Members the History store's runs are spread over (issue 17: a team of 200 makes ~500,000 runs a year)."""
HISTORY_EXPERIMENT = "team-history"


def bulk_insert(team: Any, experiment_id: str, count: int, folder: Path) -> float:
    """`count` runs in the logger's shape written straight into PostgreSQL with MLflow's own schema (`COPY`
    of runs, tags, params and latest metrics; no metric history, no artifacts); returns the seconds taken."""
    import datetime as dt
    import random

    from tests.support.synthetic import SyntheticSession

    rng = random.Random(17)
    start = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp() * 1000)
    files = {
        name: (folder / f"{name}.tsv").open("w", encoding="utf-8")
        for name in ("runs", "tags", "params", "latest_metrics")
    }

    def row(name: str, *values: Any) -> None:
        files[name].write("\t".join(str(v).replace("\t", " ").replace("\n", " ") for v in values) + "\n")

    t0 = time.perf_counter()
    for index in range(count):
        session = SyntheticSession(
            prompt=f"session {index}: {rng.choice(['fix', 'refactor', 'test'])} module {index % 97}",
            start_ms=start + index * 300_000,
            duration_seconds=float(rng.randint(20, 3600)),
            errors=rng.choice([0, 0, 0, 1, 2, 5]),
            success=rng.choice([1, 1, 1, 0]),
            issue=str(rng.randint(1, 900)) if rng.random() < 0.5 else "",
            cost_usd=round(rng.uniform(0.001, 2.0), 4),
            user=f"u{index % TEAM_SIZE:03d}@team.example",
            repository=f"repo-{index % 17}",
            branch=rng.choice(["main", "feature/x", "fix/y"]),
        )
        run_id = uuid.uuid4().hex
        end_ms = session.start_ms + int(session.duration_seconds * 1000)
        tags = session.tags()
        row(
            "runs", run_id, tags["mlflow.runName"], "UNKNOWN", "", "", session.user,
            "FINISHED" if session.success else "FAILED", session.start_ms, end_ms, "", "active",
            f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts", experiment_id,
        )  # fmt: skip
        for key, value in tags.items():
            row("tags", key, value, run_id)
        for key, value in session.params().items():
            row("params", key, value, run_id)
        for key, value in session.metrics().items():
            row("latest_metrics", key, float(value), end_ms, 0, "false", run_id)
    for handle in files.values():
        handle.close()
    columns = {
        "runs": "run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, "
        "end_time, source_version, lifecycle_stage, artifact_uri, experiment_id",
        "tags": "key, value, run_uuid",
        "params": "key, value, run_uuid",
        "latest_metrics": "key, value, timestamp, step, is_nan, run_uuid",
    }
    for name, cols in columns.items():
        team.postgres.psql("mlflow", f"\\copy {name} ({cols}) FROM '{folder / (name + '.tsv')}'")
    team.postgres.psql("mlflow", "ANALYZE")
    return time.perf_counter() - t0


async def pane_timings(uri: str) -> dict[str, float]:
    """History as member u000 opens it on the big store: first rows ("mine", the default on a shared store),
    everyone's (key 4), with errors (key 2), and the next page; with the client already made."""
    import asyncio

    from textual.app import App, ComposeResult

    from claude_tui.history.query import PAGE_SIZE, RunQuery, mine_filter
    from claude_tui.widgets.history import HistoryPane

    query = RunQuery(uri, HISTORY_EXPERIMENT)
    query.warm()  # "once the client is loaded": mlflow imported, client made
    out: dict[str, float] = {}
    for label, expression in (("mine", mine_filter("u000@team.example")), ("everyone's", "")):
        t = time.perf_counter()
        query.search(expression, max_results=PAGE_SIZE)
        out[f"first page, {label}: the bare search"] = time.perf_counter() - t

    class Bench(App[None]):
        def compose(self) -> ComposeResult:
            yield HistoryPane(uri, HISTORY_EXPERIMENT)

    async def idle(pane: HistoryPane, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not (pane.loaded and pane.idle):
            if pane.error or time.monotonic() > deadline:
                raise RuntimeError(f"History did not load: {pane.error or 'timed out'}")
            await asyncio.sleep(0.005)

    app = Bench()
    t0 = time.perf_counter()
    async with app.run_test(size=(150, 40)):
        pane = app.query_one(HistoryPane)
        await idle(pane)
        out["first rows, mine"] = time.perf_counter() - t0
        assert pane.quick == {"mine"} and pane.rows, (pane.quick, pane.error)
        out["mine rows"] = len(pane.rows)
        for quick, label in (("mine", "everyone's (key 4)"), ("errors", "with errors (key 2)")):
            before = pane._generation
            t1 = time.perf_counter()
            pane.action_quick(quick)  # what the key does (a key could land in the filter box while it loads)
            assert pane._generation != before
            await idle(pane)
            out[label] = time.perf_counter() - t1
        rows = len(pane.rows)
        t2 = time.perf_counter()
        pane._load_more()
        await idle(pane)
        out["next page"] = time.perf_counter() - t2
        assert len(pane.rows) > rows
        out["rows held"] = len(pane.rows)
    return out


def measure_history(team: Any, work: Path, count: int) -> list[dict[str, Any]]:
    """Fill the store with `count` runs, then time History through the server as one member."""
    import asyncio
    import resource

    from claude_tui.tracking.store import get_or_create_experiment

    member = "u000"
    team.create_user(member, PASSWORD)
    with as_admin():
        experiment_id = str(get_or_create_experiment(HISTORY_EXPERIMENT, team.url))
    team.grant_experiment(experiment_id, member, "READ")
    folder = work / "bulk"
    folder.mkdir()
    seconds = bulk_insert(team, experiment_id, count, folder)
    stored = int(
        team.postgres.psql("mlflow", f"SELECT count(*) FROM runs WHERE experiment_id = {experiment_id}")
    )
    settings = work / "u000.toml"
    settings.write_text(f'user = "{member}@team.example"\n')
    os.environ.update({**team.env(member), "CLAUDE_TUI_CONFIG": str(settings)})
    timings = asyncio.run(pane_timings(team.url))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = [
        {
            "part": f"history: {stored:,} runs written into PostgreSQL",
            "seconds": f"{seconds:.0f}",
            "load": load(),
        }
    ]
    for key, value in timings.items():
        shown = f"{value:.0f}" if key in ("mine rows", "rows held") else f"{value:.2f}"
        rows.append({"part": f"history: {key}", "seconds": shown, "load": load()})
    rows.append({"part": "history: peak RSS of the client, MB", "seconds": f"{rss:.0f}", "load": load()})
    return rows


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live", type=int, default=20, help="N: live sessions ending together")
    parser.add_argument("--imports", type=int, default=200, help="M: sessions imported concurrently")
    parser.add_argument("--importers", type=int, default=20, help="import processes sharing the M sessions")
    parser.add_argument(
        "--history-runs", type=int, default=100_000, help="runs in the History store (0: skip)"
    )
    parser.add_argument("--workers", type=int, default=1, help="mlflow server workers")
    args = parser.parse_args(argv)
    import signal

    # Stopped from outside (a timeout): the server and the PostgreSQL cluster are stopped all the same.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    import faulthandler

    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` prints where a long run is

    from claude_tui.tracking.errors import silence_store_logging
    from tests.support.team_server import team_server

    silence_store_logging()
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, {platform.platform()}; load {load()}")
    transcripts = build_sessions(args.live + args.imports)
    rows: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="claude-tui-bench-team-") as tmp,
        team_server(workers=args.workers) as team,
    ):
        work = Path(tmp)
        if args.live:
            rows.append(measure_live(team, work, transcripts[: args.live]))
            print(rows[-1], flush=True)
        if args.imports:
            rows.append(measure_imports(team, work, transcripts[args.live :], args.importers))
            print(rows[-1], flush=True)
        if args.history_runs:
            rows += measure_history(team, work, args.history_runs)
    for kind in ("sessions", "seconds"):
        table = [row for row in rows if kind in row]
        if not table:
            continue
        columns = list(table[0])
        print("| " + " | ".join(columns) + " |")
        print("|" + "|".join(" --- " for _ in columns) + "|")
        for row in table:
            print("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
        print()
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
