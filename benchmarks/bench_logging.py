"""Time to log a long session to a local sqlite MLflow store: batched (`log_spool`) vs one call per value.

The session is synthetic but shaped like the real thing: a 1-hour Claude Code transcript in the CLI's own
record format (20 turns, 500 tool calls, every 10th failing, usage repeated on each record of a message),
its `events.jsonl`, and a 5 MB asciicast recording made of a real recorded Claude session's output. Each
variant logs the same spool into its own pre-created store (the embedded store exists after the first
session); mlflow is imported before timing (its import is reported separately). Median of 3 runs each,
run side by side. Target: batched < 5 s.

Run: `.venv/bin/python benchmarks/bench_logging.py [--runs 3]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STREAM = ROOT / "tests" / "data" / "streams" / "claude_session.bin"
HOUR = 3600.0
TOOLS = 500
TURNS = 20
RECORDING_BYTES = 5 * 1024 * 1024


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1000):03d}Z"


def write_transcript(path: Path, session_id: str, start: float, cwd: str) -> None:
    """A 1-hour transcript with `TOOLS` tool calls over `TURNS` turns, in the CLI's record format."""
    common = {
        "sessionId": session_id,
        "version": "2.1.328",
        "gitBranch": "main",
        "cwd": cwd,
        "userType": "external",
    }
    per_turn = TOOLS // TURNS
    step = HOUR / (TURNS * (per_turn + 2))
    ts = start + 1.0
    lines: list[str] = []
    tool_names = ["Bash", "Read", "Edit", "Bash", "Grep", "Bash", "Write", "Read", "Glob", "Bash"]
    n = 0
    for turn in range(TURNS):
        lines.append(
            json.dumps(
                {
                    **common,
                    "type": "user",
                    "uuid": str(uuid.uuid4()),
                    "timestamp": _iso(ts),
                    "message": {"role": "user", "content": f"close-issue {500 + turn}: step {turn}"},
                    "permissionMode": "acceptEdits",
                }
            )
        )
        turn_start = ts
        for _ in range(per_turn):
            ts += step
            n += 1
            name = tool_names[n % len(tool_names)]
            tool_id = f"toolu_{n:024d}"
            message_id = f"msg_{n:024d}"
            usage = {
                "input_tokens": 4000 + n,
                "output_tokens": 40 + n % 50,
                "cache_read_input_tokens": 3000,
                "cache_creation_input_tokens": 100,
            }
            tool_input: dict[str, Any] = (
                {"command": f"git status && pytest tests/test_{n}.py -q", "description": "Run the tests"}
                if name == "Bash"
                else {"file_path": f"{cwd}/src/module_{n % 40}.py"}
                if name in ("Read", "Edit", "Write")
                else {"pattern": f"def func_{n}"}
            )
            for block in (
                {"type": "text", "text": f"Now step {n}: checking the code."},
                {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input},
            ):
                lines.append(
                    json.dumps(
                        {
                            **common,
                            "type": "assistant",
                            "uuid": str(uuid.uuid4()),
                            "timestamp": _iso(ts),
                            "requestId": f"req_{n:024d}",
                            "message": {
                                "id": message_id,
                                "role": "assistant",
                                "model": "claude-sonnet-4-5",
                                "content": [block],
                                "stop_reason": "tool_use",
                                "usage": usage,
                            },
                        }
                    )
                )
            ts += step / 2
            failed = n % 10 == 0
            output = ("Exit code 1\nFAILED tests/test_x.py::test_y - assert 1 == 2\n" if failed else "") + (
                "collected 12 items\n" + "." * 12 + "\n12 passed in 0.31s\n"
            ) * 8
            lines.append(
                json.dumps(
                    {
                        **common,
                        "type": "user",
                        "uuid": str(uuid.uuid4()),
                        "timestamp": _iso(ts),
                        "message": {
                            "role": "user",
                            "content": [
                                {
                                    "type": "tool_result",
                                    "tool_use_id": tool_id,
                                    "content": output,
                                    "is_error": failed,
                                }
                            ],
                        },
                        "toolUseResult": {"stdout": output, "stderr": ""},
                    }
                )
            )
        ts += step
        lines.append(
            json.dumps(
                {
                    **common,
                    "type": "system",
                    "subtype": "turn_duration",
                    "uuid": str(uuid.uuid4()),
                    "timestamp": _iso(ts),
                    "durationMs": int((ts - turn_start) * 1000),
                }
            )
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def build_spool(root: Path, work: Path) -> Path:
    """The spool an hour-long session leaves: meta, 5 MB recording, events.jsonl, git files, summary."""
    from claude_tui.parsing import TranscriptTail, event_to_dict
    from claude_tui.tracking.spool import RunSpool

    session_id = str(uuid.uuid4())
    start = time.time() - HOUR - 5
    config = work / "claude-config"
    transcript = config / "projects" / "-bench" / f"{session_id}.jsonl"
    write_transcript(transcript, session_id, start, str(work))
    meta = {
        "session_id": session_id,
        "argv": ["claude", "--session-id", session_id],
        "command": "claude",
        "args": ["close-issue 500"],
        "cwd": str(work),
        "start_time": start,
        "git": {"commit": "0" * 40, "branch": "main", "dirty": False},
        "tracking_uri": None,
        "experiment": "bench",
        "tags": {"bench": "logging"},
        "procedure_name": None,
        "issue_number": None,
        "redact": True,
        "claude_config_dir": str(config),
        "transcript_path": str(transcript),
        "pid": 0,
        "claude_version": "2.1.328",
        "tui_version": "0.1.0",
        "terminal": {"cols": 120, "rows": 40},
    }
    spool = RunSpool.create(meta, root)
    sample = STREAM.read_bytes().decode("utf-8", errors="replace")
    header = {"version": 2, "width": 120, "height": 40, "timestamp": int(start)}
    lines = [json.dumps(header)]
    chunk = 4096
    datas: list[str] = []
    size = 0
    while size < RECORDING_BYTES:
        offset = (len(datas) * chunk) % max(1, len(sample) - chunk)
        datas.append(sample[offset : offset + chunk])
        size += len(json.dumps(datas[-1], ensure_ascii=False).encode()) + 20
    for i, data in enumerate(datas):
        lines.append(json.dumps([round(i * HOUR / len(datas), 6), "o", data], ensure_ascii=False))
    spool.recording_path.write_text("\n".join(lines) + "\n")
    spool.append_events(event_to_dict(e) for e in TranscriptTail(transcript).poll(final=True))
    spool.write_file("clean.txt", "\n".join(f"line {i} of the session's scrollback" for i in range(10_000)))
    spool.write_file("git/changes.diff", "diff --git a/x b/x\n" + "+added line\n" * 5000)
    spool.write_file("git/commits.txt", "commit abc\n    Fix the bug\n")
    spool.finish({"end_time": start + HOUR, "exit_code": 0, "signal": None, "killed": False})
    spool.close()
    return spool.path


def new_store(folder: Path) -> str:
    """A pre-created sqlite store (migrations done), as the embedded store is after the first session."""
    from claude_tui.tracking.store import get_or_create_experiment

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    get_or_create_experiment("bench", uri)
    return uri


def log_batched(spool_path: Path, uri: str) -> dict[str, float]:
    """claude-tui's logger; returns seconds per stage."""
    from claude_tui.tracking.logger import log_spool

    marks: list[tuple[str, float]] = [("start", time.perf_counter())]
    log_spool(
        spool_path,
        tracking_uri=uri,
        experiment="bench",
        remove=False,
        progress=lambda stage, _f: marks.append((stage, time.perf_counter())),
    )
    stages = {name: marks[i + 1][1] - t for i, (name, t) in enumerate(marks[:-1])}
    stages["total"] = marks[-1][1] - marks[0][1]
    return stages


def log_naive(spool_path: Path, uri: str) -> dict[str, float]:
    """The same run with one client call per param, tag, metric point and artifact file."""
    from mlflow import MlflowClient

    from claude_tui.tracking.logger import emit_traces, stage_artifacts
    from claude_tui.tracking.record import SessionRecord
    from claude_tui.tracking.spool import RunSpool

    started = time.perf_counter()
    spool = RunSpool.open(spool_path)
    record = SessionRecord.from_spool(spool)
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("bench")
    assert experiment is not None
    experiment_id = experiment.experiment_id
    run = client.create_run(experiment_id, start_time=int(record.start_time * 1000))
    run_id = run.info.run_id
    for key, text in record.tags().items():
        client.set_tag(run_id, key, text)
    for key, text in record.params().items():
        client.log_param(run_id, key, text)
    for key, number, step, ts in record.series():
        client.log_metric(run_id, key, number, int(ts * 1000), step)
    for key, number in record.metrics().items():
        client.log_metric(run_id, key, number, int(record.end_time * 1000), record.final_step())
    with tempfile.TemporaryDirectory() as staging:
        for rel in stage_artifacts(spool, record, Path(staging)):
            folder = str(Path(rel).parent)
            client.log_artifact(run_id, str(Path(staging) / rel), None if folder == "." else folder)
    emit_traces(uri, experiment_id, run_id, record)
    client.set_terminated(run_id, end_time=int(record.end_time * 1000))
    return {"total": time.perf_counter() - started}


def main(runs: int = 3) -> list[dict[str, Any]]:
    """Build the session, log it `runs` times per variant (alternating), print a markdown table."""
    import logging

    import_started = time.perf_counter()
    import mlflow  # noqa: F401

    import_seconds = time.perf_counter() - import_started
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-logging-") as tmp:
        base = Path(tmp)
        spool_path = build_spool(base / "spools", base / "work")
        recording_mb = (spool_path / "recording.cast").stat().st_size / 1e6
        transcript_mb = sum(p.stat().st_size for p in (base / "work").rglob("*.jsonl")) / 1e6
        results: dict[str, list[dict[str, float]]] = {
            "batched (log_spool)": [],
            "naive (one call per value)": [],
        }
        for i in range(runs):
            for name, func in (
                ("batched (log_spool)", log_batched),
                ("naive (one call per value)", log_naive),
            ):
                folder = base / f"store-{name.split()[0]}-{i}"
                folder.mkdir()
                uri = new_store(folder)
                results[name].append(func(spool_path, uri))
    rows: list[dict[str, Any]] = []
    for name, samples in results.items():
        totals = [s["total"] for s in samples]
        rows.append(
            {
                "variant": name,
                "median_s": statistics.median(totals),
                "min_s": min(totals),
                "max_s": max(totals),
                "runs": len(totals),
            }
        )
    print(
        f"Session: 1 h, {TOOLS} tool calls, {recording_mb:.1f} MB recording, "
        f"{transcript_mb:.1f} MB transcript; "
        f"`import mlflow` {import_seconds:.2f} s (not included)\n"
    )
    print("| variant | median (s) | min (s) | max (s) | runs |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(
            f"| {row['variant']} | {row['median_s']:.2f} | {row['min_s']:.2f} | {row['max_s']:.2f} "
            f"| {row['runs']} |"
        )
    batched = results["batched (log_spool)"]
    stage_names = [k for k in batched[0] if k != "total"]
    print("\nBatched, median seconds per stage (a stage ends when the next one starts):\n")
    print("| stage | median (s) |")
    print("| --- | ---: |")
    for stage in stage_names:
        value = statistics.median(s.get(stage, 0.0) for s in batched)
        print(f"| {stage} | {value:.2f} |")
        rows.append({"variant": f"batched stage: {stage}", "median_s": value})
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    main(parser.parse_args().runs)
