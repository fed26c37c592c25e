"""A real logged session, `claude-tui ui start`, headless Chromium on the URL claude-tui gives for the run.

Chromium is Debian's (/usr/bin/chromium) driven by Playwright's Python package with `executable_path`: no
browser download. The test saves a screenshot of the run page in its tmp dir.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from claude_tui.history.query import RunQuery
from claude_tui.history.ui_server import UiServer, compare_url, pgid_alive, run_url
from claude_tui.tracking.logger import log_spool
from tests.support.synthetic import SAMPLE_SESSIONS, log_sessions

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def claude_tui(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claude_tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
    )


def test_run_page_in_chromium(
    real_session: Callable[[str], Any], make_spool: Callable[..., Any], store_uri: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    session = real_session("realistic")
    logged = log_spool(make_spool(session), tracking_uri=store_uri)
    row = RunQuery(store_uri, "claude-sessions").search().rows[0]
    assert row.run_id == logged.run_id
    # The run is named after the first prompt (shortened with an ellipsis by the logger).
    run_name = row.name
    assert session.scenario["prompts"][0].startswith(run_name.rstrip("…"))
    details = RunQuery(store_uri, "claude-sessions").details(logged.run_id)
    other_name = SAMPLE_SESSIONS[3].prompt
    other_id = log_sessions(store_uri, "claude-sessions", [SAMPLE_SESSIONS[3]], artifacts=False)[0]

    started = claude_tui("ui", "start", "--tracking-uri", store_uri)
    server = UiServer(store_uri)
    state = server.remembered()
    try:
        assert started.returncode == 0, started.stderr[-2000:]
        match = re.search(r"MLflow UI running at (http://127\.0\.0\.1:\d+)", started.stdout)
        assert match, started.stdout
        base = match.group(1)
        assert state is not None and state.url == base and pgid_alive(state.pgid)
        # A second start reuses the running server.
        again = claude_tui("ui", "start", "--tracking-uri", store_uri)
        assert again.returncode == 0 and f"already running at {base}" in again.stdout
        status = claude_tui("ui", "status", "--tracking-uri", store_uri)
        assert (status.returncode, status.stdout.strip()) == (0, base)

        url = run_url(base, logged.experiment_id, logged.run_id)  # what the History pane's `o` opens
        screenshot = tmp_path / "mlflow-run.png"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1800})
                page.goto(url, wait_until="domcontentloaded", timeout=60_000)
                page.get_by_text(run_name).first.wait_for(timeout=60_000)
                page.get_by_text("commands_executed").first.wait_for(timeout=60_000)
                page.wait_for_timeout(1500)
                text = page.inner_text("body")
                page.screenshot(path=str(screenshot), full_page=True)
                # MLflow's compare page for the two runs (what the History pane's `m` opens).
                page.goto(compare_url(base, logged.experiment_id, [logged.run_id, other_id]), timeout=60_000)
                page.get_by_text(other_name).first.wait_for(timeout=60_000)
                page.wait_for_timeout(1500)
                compare_text = page.inner_text("body")
                page.screenshot(path=str(tmp_path / "mlflow-compare.png"), full_page=True)
            finally:
                browser.close()
        assert run_name in text
        for key in ("commands_executed", "tool_uses", "errors_encountered", "input_tokens", "success"):
            assert key in text, key
        # The metric values the store holds are on the page next to their names.
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        commands = details.metrics["commands_executed"]
        index = lines.index("commands_executed")
        assert f"{commands:g}" in lines[index + 1 : index + 3]
        assert screenshot.stat().st_size > 10_000
        assert other_name in compare_text and run_name in compare_text
        assert "Comparing 2 Runs" in compare_text
        (tmp_path / "page.txt").write_text(text)
    finally:
        stopped = claude_tui("ui", "stop", "--tracking-uri", store_uri)
    assert stopped.returncode == 0 and "Stopped MLflow UI" in stopped.stdout
    assert state is not None
    deadline = time.monotonic() + 10
    while pgid_alive(state.pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pgid_alive(state.pgid), "a process of the UI server's group outlived `ui stop`"
    after = claude_tui("ui", "status", "--tracking-uri", store_uri)
    assert (after.returncode, after.stdout.strip()) == (1, "MLflow UI is not running")
    assert not server.state_path.exists()
    log = Path(state.log_path).read_text()
    assert "MLFLOW" in log.upper()
    json.dumps(state.__dict__)  # the state file format stays plain JSON


def test_sessions_page_shows_the_conversation_turn_by_turn(mlflow_server: str, tmp_path: Path) -> None:
    """MLflow's own session page (issue 17; in MLflow 3.17 *Sessions* lists them under *Traces*, grouped by
    session, and opens each at `chat-sessions/<id>`): the imported two-prompt session, turn by turn, each with
    its prompt and Claude's answer."""
    import shutil

    from mlflow import MlflowClient
    from playwright.sync_api import sync_playwright

    data = tmp_path / "transcripts"
    shutil.copytree(Path(__file__).resolve().parent.parent / "data" / "transcripts" / "realistic", data)
    imported = claude_tui("import", str(data), "--min-age", "0", "--tracking-uri", mlflow_server)
    assert imported.returncode == 0 and "imported 1" in imported.stdout, imported.stdout + imported.stderr
    client = MlflowClient(mlflow_server)
    experiment_id = client.get_experiment_by_name("claude-sessions").experiment_id
    (run,) = client.search_runs([experiment_id])
    session_id = run.data.tags["claude.session_id"]
    traces = client.search_traces(locations=[experiment_id], run_id=run.info.run_id, include_spans=False)
    turns = sorted((t.info.request_time, t.info.request_preview, t.info.response_preview) for t in traces)
    assert len(turns) == 2 and all(answer for _, _, answer in turns)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1400})
            url = f"{mlflow_server}/#/experiments/{experiment_id}/chat-sessions/{session_id}"
            page.goto(url, wait_until="domcontentloaded", timeout=60_000)
            page.get_by_text("Turn 2").first.wait_for(timeout=90_000)
            page.wait_for_timeout(1500)
            text = page.inner_text("body")
            page.screenshot(path=str(tmp_path / "mlflow-session.png"), full_page=True)
        finally:
            browser.close()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert session_id in lines and "Turn 1" in lines and "Turn 2" in lines and "Turn 3" not in lines

    # Each turn: its prompt (the request) and Claude's last answer of the turn (the response), in order.
    # (The page renders them as markdown: the answer's `code` loses its backticks.)
    def position(part: str) -> int:
        start = part.replace("`", "")[:40]
        return next(n for n, line in enumerate(lines) if line.startswith(start))

    positions = [position(part) for _, prompt, answer in turns for part in (prompt, answer)]
    assert positions == sorted(positions), positions
