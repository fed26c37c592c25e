"""The real Claude Code CLI driven as a person would (pexpect in a PTY, the screen read through pyte), and
helpers that read a transcript's JSONL: for tests, benchmarks and capturing test data.

`InteractiveClaude(env)` runs `claude` in a `ClaudeEnvironment` (claude_tui/claude_env.py): `start()`,
`submit(prompt)`, `wait_for_turn_end()`, `wait_for_text(...)`, `exit()`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from claude_tui.claude_env import ClaudeEnvironment


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a transcript, one a line (a half-written last line or any other is skipped)."""
    records: list[dict[str, Any]] = []
    for line in path.read_bytes().splitlines():
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict):
            records.append(value)
    return records


def tool_calls(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `tool_use` blocks of a transcript's assistant records, in order (each id once)."""
    seen: set[str] = set()
    calls: list[dict[str, Any]] = []
    for record in records:
        message = record.get("message")
        if record.get("type") != "assistant" or not isinstance(message, dict):
            continue
        content = message.get("content")
        for block in content if isinstance(content, list) else []:
            if isinstance(block, dict) and block.get("type") == "tool_use" and block.get("id") not in seen:
                seen.add(str(block.get("id")))
                calls.append(block)
    return calls


def tool_results(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The `tool_result` blocks of a transcript's user records, by `tool_use_id`."""
    results: dict[str, dict[str, Any]] = {}
    for record in records:
        message = record.get("message")
        if record.get("type") != "user" or not isinstance(message, dict):
            continue
        content = message.get("content")
        for block in content if isinstance(content, list) else []:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                results[str(block.get("tool_use_id"))] = block
    return results


_TITLE = re.compile(rb"\x1b\][02];([^\x07\x1b]*)")
IDLE_TITLE_MARK = "✳"
"""Claude Code's window title starts with this when it waits for input (a spinner glyph while busy)."""


class InteractiveClaude:
    """The real interactive CLI in a pseudo-terminal (pexpect), its screen read through pyte.

    For tests and for capturing test data: `start()`, `submit(prompt)`, `wait_for_turn_end()`,
    `wait_for_text(...)`, `exit()`. Every byte the CLI wrote is kept in `output`. pexpect and pyte are
    imported on `start()`, so importing this module stays stdlib-only.
    """

    def __init__(
        self,
        env: ClaudeEnvironment,
        *,
        cols: int = 120,
        rows: int = 40,
        session_id: str | None = None,
        extra: Sequence[str] = (),
    ) -> None:
        self.env = env
        self.cols = cols
        self.rows = rows
        self.session_id = session_id
        self.extra = list(extra)
        self.output = bytearray()
        """Everything the CLI wrote to the terminal, in order."""
        self.exit_status: int | None = None
        self._child: Any = None
        self._screen: Any = None
        self._stream: Any = None
        self._mark = 0
        self._eof = False

    def start(self) -> InteractiveClaude:
        """Spawn the CLI in the work dir on a `cols` x `rows` terminal."""
        import pexpect
        import pyte

        self._screen = pyte.Screen(self.cols, self.rows)
        self._stream = pyte.ByteStream(self._screen)
        argv = self.env.argv(session_id=self.session_id, extra=self.extra)
        self._child = pexpect.spawn(
            argv[0],
            argv[1:],
            cwd=str(self.env.work_dir),
            env=self.env.env(),
            dimensions=(self.rows, self.cols),
        )
        return self

    def pump(self, seconds: float) -> bool:
        """Read output for `seconds` (feeding the screen); False once the CLI has exited."""
        import pexpect

        deadline = time.monotonic() + seconds
        while not self._eof:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                data = self._child.read_nonblocking(65536, timeout=min(0.05, remaining))
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                self._eof = True
                break
            self.output.extend(data)
            self._stream.feed(data)
        return not self._eof

    @property
    def display(self) -> list[str]:
        """The screen, one string per row."""
        return list(self._screen.display)

    def screen_text(self) -> str:
        """The screen as text, rows joined by newlines."""
        return "\n".join(line.rstrip() for line in self.display)

    def wait_for_text(self, text: str, timeout: float = 30.0) -> bool:
        """Read until `text` is on the screen; False on timeout or exit."""
        deadline = time.monotonic() + timeout
        while text not in self.screen_text():
            if time.monotonic() > deadline or not self.pump(0.1):
                return text in self.screen_text()
        return True

    def titles_since_mark(self) -> list[str]:
        """Window titles the CLI set since the last `submit()`."""
        return [
            m.group(1).decode("utf-8", "replace") for m in _TITLE.finditer(bytes(self.output[self._mark :]))
        ]

    def wait_for_turn_end(self, timeout: float = 60.0, quiet: float = 1.5) -> bool:
        """Wait until, after being busy, the title is idle again and output has been quiet for `quiet` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            titles = self.titles_since_mark()
            busy_seen = any(t and not t.startswith(IDLE_TITLE_MARK) for t in titles)
            if busy_seen and titles[-1].startswith(IDLE_TITLE_MARK):
                before = len(self.output)
                if not self.pump(quiet):
                    return False
                if len(self.output) == before:
                    return True
            elif not self.pump(0.1):
                return False
        return False

    def type(self, text: str) -> None:
        """Send keystrokes (no Enter)."""
        self._child.send(text)

    def submit(self, text: str, timeout: float = 60.0) -> None:
        """Type `text`, wait until the prompt box shows it (`❯ text`: the CLI has read the keys), then press
        Enter. An Enter read in the same burst as the text is taken as part of a paste (a newline in the
        prompt), and a fixed pause before it is too short on a loaded machine."""
        self._mark = len(self.output)
        self.type(text)
        shown = text[:60]  # what fits on the prompt's first line; a longer prompt wraps

        def typed() -> bool:
            return any("\u276f" in line and shown in line for line in self.display)

        deadline = time.monotonic() + timeout
        while not typed():
            if time.monotonic() > deadline or not self.pump(0.1):
                screen = self.screen_text()
                raise AssertionError(f"the CLI did not show {shown!r} in its prompt box:\n{screen}")
        self._child.send("\r")

    def exit(self, timeout: float = 120.0) -> int | None:
        """Type `/exit` and wait for the CLI to end (`timeout` only bounds a hang); returns its exit status
        (None if it had to be killed). A sub-agent still running in the background makes the CLI ask first
        ("Background work is running"): Enter, its default ("Exit and stop tasks"), as a person answers."""
        self.submit("/exit")
        asked = False
        deadline = time.monotonic() + timeout
        while self.pump(0.2) and time.monotonic() < deadline:
            if not asked and "Background work is running" in self.screen_text():
                asked = True
                self._child.send("\r")
        return self.close()

    def close(self) -> int | None:
        """Stop the CLI if it is still running and reap it; returns the exit status."""
        if self._child is None:
            return self.exit_status
        if self._child.isalive():
            self._child.terminate(force=True)
        self._child.close()
        self.exit_status = self._child.exitstatus
        self._child = None
        return self.exit_status

    def __enter__(self) -> InteractiveClaude:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
