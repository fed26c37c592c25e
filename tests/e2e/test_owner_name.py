"""The session owner is named in `ps -e`, `top` and `pgrep` (issue 16 item 2): not `python`, and not the
window's `claude-tui ...` it was forked from."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from claude_tui.owner.client import connect_or_start
from claude_tui.owner.server import PROCESS_NAME


def test_the_owner_process_is_named(owner_processes: Callable[[], list[int]]) -> None:
    with connect_or_start() as client:  # starts `python -m claude_tui.owner`: this data dir has none
        pid = client.pid
        assert pid is not None and pid in owner_processes()
        assert Path(f"/proc/{pid}/comm").read_text().strip() == PROCESS_NAME == "claude-tui-own"
        client.shutdown()
