"""Rebuild the committed test data from the real Claude Code CLI running against the offline stub.

    .venv/bin/python -m tests.data.regenerate            # everything (from the project root)
    .venv/bin/python -m tests.data.regenerate failing    # only some scenarios (non-interactive part)

Writes, replacing what is there:

- `transcripts/<scenario>/projects/<dir>/<session>.jsonl` (+ `<session>/subagents/agent-*.jsonl`): the
  `CLAUDE_CONFIG_DIR/projects` tree the CLI wrote while running every prompt of the scenario with
  `-p ... --output-format stream-json` (later prompts `--resume` the same session);
- `streams/claude_interactive.bin`: the raw bytes of an interactive 120x40 session (classic renderer) of the
  realistic scenario through both prompts and `/exit`, read from the PTY; `streams/claude_interactive/` its
  projects tree; `streams/claude_interactive_fullscreen.bin` the same with the alt-screen renderer;
- `manifest.json`: per data set the session id, work dir, prompts, CLI version and terminal size.

Work dirs live under a fixed path (`/tmp/claude-tui-testdata/<name>/work`) and session ids are derived from
the scenario name, so paths inside the data are stable between regenerations; timestamps and ids made by
the CLI are not.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from claude_tui.claude_code import find_claude_binary
from claude_tui.claude_env import ClaudeEnvironment
from claude_tui.scenarios import load_scenario, scenario_names, scenario_prompts
from claude_tui.stub_api import StubServer
from tests.support.claude_cli import InteractiveClaude

DATA = Path(__file__).resolve().parent
SCRATCH = Path("/tmp/claude-tui-testdata")
COLS, ROWS = 120, 40
NAMESPACE = uuid.UUID("6f1c1f1e-2b0c-4d5e-9a55-7e3a1c2d9b00")


def session_id_for(name: str) -> str:
    """A stable session id per data set, so regenerated files keep their names."""
    return str(uuid.uuid5(NAMESPACE, name))


def fresh_env(name: str, stub: StubServer, renderer: str = "default") -> ClaudeEnvironment:
    root = SCRATCH / name
    shutil.rmtree(root, ignore_errors=True)
    return ClaudeEnvironment.create(root, stub.url, renderer=renderer)


def copy_projects(env: ClaudeEnvironment, target: Path) -> list[str]:
    """Copy the CLI's projects tree (files only) to `target`; return the copied paths, relative."""
    shutil.rmtree(target, ignore_errors=True)
    copied = []
    for path in sorted(env.projects_dir.rglob("*")):
        if path.is_file():
            rel = path.relative_to(env.config_dir)
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / rel)
            copied.append(str(rel))
    return copied


def claude_version() -> str:
    binary = find_claude_binary()
    if binary is None:
        sys.exit("no claude binary: run `make setup`")
    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60)
    return done.stdout.strip()


def regenerate_transcripts(name: str) -> dict[str, Any]:
    scenario = load_scenario(name)
    prompts = scenario_prompts(scenario)
    session_id = session_id_for(name)
    with StubServer(scenario) as stub:
        env = fresh_env(name, stub)
        for done in env.run_session(prompts, session_id, timeout=300):
            if done.returncode != 0:
                sys.exit(f"{name}: claude exited {done.returncode}: {done.stderr[-500:]}")
        files = copy_projects(env, DATA / "transcripts" / name)
    return {"session_id": session_id, "work_dir": str(env.work_dir), "prompts": prompts, "files": files}


def regenerate_interactive(name: str, renderer: str) -> dict[str, Any]:
    scenario = load_scenario("realistic")
    prompts = scenario_prompts(scenario)
    session_id = session_id_for(name)
    with StubServer(scenario) as stub:
        env = fresh_env(name, stub, renderer=renderer)
        with InteractiveClaude(env, cols=COLS, rows=ROWS, session_id=session_id) as claude:
            if not claude.wait_for_text("❯", timeout=60):
                sys.exit(f"{name}: no prompt box:\n{claude.screen_text()}")
            for prompt in prompts:
                claude.submit(prompt)
                if not claude.wait_for_turn_end(timeout=120):
                    sys.exit(f"{name}: the turn did not end:\n{claude.screen_text()}")
            status = claude.exit()
        if status != 0:
            sys.exit(f"{name}: /exit gave status {status}")
        streams = DATA / "streams"
        streams.mkdir(parents=True, exist_ok=True)
        (streams / f"{name}.bin").write_bytes(bytes(claude.output))
        files = copy_projects(env, streams / name) if renderer == "default" else []
    return {
        "session_id": session_id,
        "work_dir": str(env.work_dir),
        "prompts": prompts,
        "scenario": "realistic",
        "renderer": renderer,
        "cols": COLS,
        "rows": ROWS,
        "bytes": len(claude.output),
        "files": files,
    }


def main(argv: list[str]) -> None:
    names = argv or scenario_names()
    manifest_path = DATA / "manifest.json"
    manifest: dict[str, Any] = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest["claude_version"] = claude_version()
    manifest.setdefault("transcripts", {})
    for name in names:
        print(f"transcripts/{name} ...", flush=True)
        manifest["transcripts"][name] = regenerate_transcripts(name)
    if not argv:
        manifest["streams"] = {}
        for name, renderer in (
            ("claude_interactive", "default"),
            ("claude_interactive_fullscreen", "fullscreen"),
        ):
            print(f"streams/{name}.bin ...", flush=True)
            manifest["streams"][name] = regenerate_interactive(name, renderer)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    shutil.rmtree(SCRATCH, ignore_errors=True)
    print("done")


if __name__ == "__main__":
    main(sys.argv[1:])
