"""Record ``claude_session.bin``: the real Claude Code CLI (interactive, 120x40) against the offline stub.

Run from the repository root (needs the pinned CLI from ``make setup``):

    .venv/bin/python tests/data/streams/record_claude.py

Two prompts are typed: one answered with a Bash tool call and text, one with a failing Bash call; then
``/exit``. Everything the CLI wrote to its terminal is saved, byte for byte.
"""

from __future__ import annotations

import os
import select
import tempfile
import time
from pathlib import Path

import ptyprocess

from claude_tui.claude_env import ClaudeEnvironment
from claude_tui.stub_api import StubServer

HERE = Path(__file__).resolve().parent

SCENARIO = {
    "turns": [
        {
            "match": "show the status",
            "steps": [
                [{"text": "Let me check."}, {"tool": "Bash", "input": {"command": "git status"}}],
                [{"text": "The tree is **clean**.\n\n| file | state |\n|---|---|\n| hello.py | ok |"}],
            ],
        },
        {
            "match": "list a missing folder",
            "steps": [
                [{"tool": "Bash", "input": {"command": "ls /nonexistent-folder", "description": "List"}}],
                [{"text": "That folder does not exist. 中文 and emoji 🎉 render too."}],
            ],
        },
    ]
}


def _pump(proc: ptyprocess.PtyProcess, out: bytearray, seconds: float, until: bytes | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(proc.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            out += chunk
            if until is not None and until in out[-20000:]:
                return


def main() -> None:
    """Record the session into ``claude_session.bin``."""
    with tempfile.TemporaryDirectory() as tmp, StubServer(SCENARIO) as stub:
        env = ClaudeEnvironment.create(tmp, stub.url, files={"hello.py": "print('hi')\n"})
        proc = ptyprocess.PtyProcess.spawn(
            env.argv(), cwd=str(env.work_dir), env=env.env(), dimensions=(40, 120)
        )
        out = bytearray()
        _pump(proc, out, 20, until="\u276f".encode())
        _pump(proc, out, 2)
        for prompt, wait_for in (("show the status", b"clean"), ("list a missing folder", b"does not exist")):
            proc.write(prompt.encode())
            _pump(proc, out, 1)
            proc.write(b"\r")
            _pump(proc, out, 60, until=wait_for)
            _pump(proc, out, 3)
        proc.write(b"/exit")
        _pump(proc, out, 1)
        proc.write(b"\r")
        _pump(proc, out, 10)
        proc.close(force=True)
    (HERE / "claude_session.bin").write_bytes(bytes(out))
    print(f"claude_session.bin: {len(out)} bytes")


if __name__ == "__main__":
    main()
