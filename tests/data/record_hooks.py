"""Record the hooks the real Claude Code CLI posts, into `tests/data/hooks/lifecycle.json`.

    .venv/bin/python -m tests.data.record_hooks

Three processes of the pinned interactive CLI (120x40) against the stub with `tests/data/hooks/scenario.json`,
every hook of `claude_tui.lifecycle.hooks.hook_settings` registered (and posted to a `claude_tui.lifecycle`
endpoint), `--allowedTools` without plain `Bash` so that `python3` asks for permission:

1. `--session-id A`: a prompt with Bash `ls`; `/clear`; a Read; `python3` approved (Enter); `python3` denied
   (Esc); an `Agent` sub-agent that runs `ls`; `/resume` back to A; a prompt; `/exit`.
2. `--resume A`: a prompt; `/exit`.
3. `--continue`: a prompt; `/exit`.
4. `--resume A --fork-session --session-id F`: a prompt; `/exit`.

Each process's payloads are kept whole, in arrival order, with `marks` (what the script did, and when) and
`started_at` (wall clock just before it was spawned); the endpoint's port and secret are replaced by `PORT`
and `SECRET`. The transcripts they wrote go to `tests/data/hooks/projects/` (A holds the records of three
processes, F starts with a copy of A's history). Ids and times differ between recordings.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from claude_tui.claude_code import find_claude_binary
from claude_tui.claude_env import ClaudeEnvironment
from claude_tui.lifecycle.endpoint import HOOK_ROUTE, Endpoint, Reply
from claude_tui.lifecycle.hooks import hook_settings
from claude_tui.stub_api import StubServer
from tests.support.claude_cli import InteractiveClaude

DATA = Path(__file__).resolve().parent / "hooks"
SCRATCH = Path("/tmp/claude-tui-testdata/hooks")
ALLOWED = ("Read", "Edit", "Write", "Agent", "Task", "Bash(ls)", "Bash(ls:*)")


class Recorder:
    """Collects the payloads posted to one session's hook route, and marks of what the script did."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.routes = endpoint.session()
        self.routes.handle(HOOK_ROUTE, self._posted)
        self.started = time.monotonic()
        self.items: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def _posted(self, body: bytes, headers: Any) -> Reply:
        with self.lock:
            self.items.append({"t": self.elapsed(), "payload": json.loads(body)})
        return Reply()

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 3)

    def mark(self, what: str) -> None:
        with self.lock:
            self.items.append({"t": self.elapsed(), "mark": what})
        print(f"{self.elapsed():7.2f} {what}", flush=True)


def start(env: ClaudeEnvironment, recorder: Recorder, extra: list[str]) -> InteractiveClaude:
    settings = json.dumps(hook_settings(recorder.routes.url(HOOK_ROUTE), sys.executable))
    flags = ["--permission-mode", "acceptEdits", "--allowedTools", *ALLOWED, "--settings", settings, *extra]
    env.argv = lambda prompt=None, *, session_id=None, extra=(): [str(env.claude_bin), *flags]  # type: ignore[method-assign]
    claude = InteractiveClaude(env).start()
    if not claude.wait_for_text("❯", 60):
        sys.exit("the CLI did not draw its prompt")
    claude.pump(1.5)
    recorder.mark("ready")
    return claude


def turn(claude: InteractiveClaude, recorder: Recorder, prompt: str) -> None:
    claude.submit(prompt)
    if not claude.wait_for_turn_end(90):
        sys.exit(f"turn did not end: {prompt}")
    recorder.mark(f"turn ended: {prompt}")


def process_one(env: ClaudeEnvironment, recorder: Recorder, session_id: str, prompts: list[str]) -> None:
    claude = start(env, recorder, ["--session-id", session_id])
    turn(claude, recorder, prompts[0])
    claude.submit("/clear")
    claude.pump(3)
    recorder.mark("cleared")
    turn(claude, recorder, prompts[1])
    claude.submit(prompts[2])
    if not claude.wait_for_text("Do you want to proceed?", 30):
        print(claude.screen_text())
        sys.exit("no permission prompt")
    recorder.mark("permission asked")
    claude.pump(1)
    claude.type("\r")
    claude.wait_for_turn_end(60)
    recorder.mark("permission given")
    claude.submit(prompts[3])
    if not claude.wait_for_text("Do you want to proceed?", 30):
        sys.exit("no second permission prompt")
    recorder.mark("permission asked")
    claude.pump(1)
    claude.type("\x1b")
    claude.pump(3)
    recorder.mark("permission denied")
    turn(claude, recorder, prompts[4])
    claude.pump(8)  # the background agent's completion and the follow-up request
    recorder.mark("agent done")
    claude.submit("/resume")
    claude.pump(3)
    claude.type("\r")
    claude.pump(4)
    recorder.mark("resumed the first conversation")
    turn(claude, recorder, "Go on where we were")
    claude.exit()
    recorder.mark("exited")


def process_again(env: ClaudeEnvironment, recorder: Recorder, extra: list[str]) -> None:
    claude = start(env, recorder, extra)
    turn(claude, recorder, "Go on where we were")
    claude.exit()
    recorder.mark("exited")


def scrub(items: list[dict[str, Any]], url_prefix: str, secret: str) -> list[dict[str, Any]]:
    text = json.dumps(items).replace(url_prefix, "http://127.0.0.1:PORT").replace(secret, "SECRET")
    return json.loads(text)  # type: ignore[no-any-return]


def main() -> None:
    scenario = json.loads((DATA / "scenario.json").read_text())
    prompts = scenario["prompts"]
    binary = find_claude_binary()
    if binary is None:
        sys.exit("no claude binary: run `make setup`")
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60)
    shutil.rmtree(SCRATCH, ignore_errors=True)
    endpoint = Endpoint()
    endpoint.serve()
    session_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "claude-tui/hooks"))
    fork_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "claude-tui/hooks/fork"))
    processes: list[dict[str, Any]] = []
    with StubServer(scenario) as stub:
        env = ClaudeEnvironment.create(SCRATCH, stub.url)
        runs = [
            ("--session-id A; /clear; permission given and denied; Agent; /resume A", None),
            ("--resume A", ["--resume", session_id]),
            ("--continue", ["--continue"]),
            (
                "--resume A --fork-session --session-id F",
                ["--resume", session_id, "--fork-session", "--session-id", fork_id],
            ),
        ]
        for what, extra in runs:
            recorder = Recorder(endpoint)
            started_at = time.time()
            if extra is None:
                process_one(env, recorder, session_id, prompts)
            else:
                process_again(env, recorder, extra)
            time.sleep(0.5)
            items = scrub(recorder.items, endpoint.base_url, recorder.routes.secret)
            processes.append({"what": what, "started_at": started_at, "items": items})
        target = DATA / "projects"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(env.projects_dir, target, ignore=shutil.ignore_patterns("memory"))
    endpoint.close()
    out = {
        "claude_version": version.stdout.strip(),
        "first_session_id": session_id,
        "fork_session_id": fork_id,
        "work_dir": str(SCRATCH / "work"),
        "processes": processes,
    }
    text = json.dumps(out, indent=1, ensure_ascii=False).replace(
        str(SCRATCH), "/tmp/claude-tui-testdata/hooks"
    )
    (DATA / "lifecycle.json").write_text(text + "\n")
    print(f"wrote {DATA / 'lifecycle.json'}")


if __name__ == "__main__":
    main()
