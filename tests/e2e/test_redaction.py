"""The `secrets` scenario's keys reach nothing MLflow stores (DB, artifacts, trace); the spool keeps them."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from claude_tui.tracking.logger import log_spool
from claude_tui.tracking.spool import RunSpool

pytestmark = pytest.mark.slow

STREAM = Path(__file__).resolve().parent.parent / "data" / "streams" / "claude_session.bin"


def store_bytes(store_dir: Path) -> dict[str, bytes]:
    """Every file of a local store (sqlite DB and its journal files, artifacts, trace files)."""
    return {str(p): p.read_bytes() for p in store_dir.rglob("*") if p.is_file()}


def secret_output(secrets: list[str]) -> list[bytes]:
    """Terminal output with every secret drawn, each split across two PTY reads, after a real session."""
    chunks = [STREAM.read_bytes()]
    for secret in secrets:
        line = f"\x1b[38;2;200;200;200m  ⎿  export VALUE={secret}\r\n".encode()
        cut = len(line) - len(secret) // 2 - 4
        chunks += [line[:cut], line[cut:]]
    return chunks


@pytest.mark.parametrize("redact", [True, False], ids=["redacted", "no-redact"])
def test_no_secret_reaches_the_store(
    real_session: Callable[[str], Any],
    make_spool: Callable[..., RunSpool],
    tmp_path: Path,
    redact: bool,
) -> None:
    import mlflow

    from claude_tui.tracking.store import global_tracking_uri

    session = real_session("secrets")
    secrets: list[str] = session.scenario["secrets"]
    raw_transcript = session.transcript.read_text()
    planted = [s for s in secrets if s in raw_transcript]
    assert len(planted) == len(secrets), set(secrets) - set(planted)  # the session really carries every one

    anthropic = secrets[0]
    spool = make_spool(
        session,
        output=secret_output(secrets),
        clean_text="\n".join(f"  ⎿  {s}" for s in secrets) + "\n",
        redact=redact,
        args=[f"--api-key={anthropic}", session.scenario["prompts"][0]],
        tags={"deploy_token": secrets[4], "note": f"uses {anthropic}"},
    )
    spool_text = "".join(
        p.read_text(errors="replace") for p in spool.path.rglob("*") if p.is_file() and p.suffix != ".lock"
    )
    assert all(s in spool_text for s in secrets)  # the spool keeps the raw bytes

    store_dir = tmp_path / "secret-store"
    uri = f"sqlite:///{store_dir / 'mlflow.db'}"
    logged = log_spool(spool, tracking_uri=uri, remove=False)
    with global_tracking_uri(uri):
        traces = mlflow.search_traces(
            locations=[logged.experiment_id], run_id=logged.run_id, return_type="list"
        )
    assert len(traces) == 1
    trace_json = traces[0].to_json()
    files = store_bytes(store_dir)
    assert any(name.endswith("raw.cast") for name in files)
    assert any(name.endswith(f"{session.session_id}.jsonl") for name in files)

    leaks = {
        secret: [name for name, data in files.items() if secret.encode() in data]
        + (["<trace>"] if secret in trace_json else [])
        for secret in secrets
    }
    if redact:
        found = {s: sorted({Path(w).name for w in where}) for s, where in leaks.items() if where}
        assert found == {}, f"{len(found)} of {len(secrets)} planted secrets reached the store: {found}"
        run = mlflow.MlflowClient(uri).get_run(logged.run_id)
        assert run.data.params["args"].startswith("--api-key=***REDACTED***")
        assert run.data.tags["deploy_token"] == "ghp_***REDACTED***"
        cast_name = next(name for name in files if name.endswith("raw.cast"))
        cast_lines = files[cast_name].decode().splitlines()
        assert all(isinstance(json.loads(line), dict | list) for line in cast_lines)  # still a valid cast
        assert "sk-ant-***REDACTED***" in files[cast_name].decode()
    else:
        # Opted out: the same scan finds them, so the scan above can see what it looks for.
        assert all(leaks.values()), {s: w for s, w in leaks.items() if not w}
    assert os.stat(spool.path).st_mode & 0o077 == 0
