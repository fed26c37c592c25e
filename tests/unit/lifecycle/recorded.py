"""The hook payloads the pinned CLI posted: tests/data/hooks/lifecycle.json (tests/data/record_hooks.py)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from claude_tui.lifecycle.events import HookEvent, parse_hook

DATA = Path(__file__).resolve().parents[2] / "data" / "hooks" / "lifecycle.json"
BASE = 1_800_000_000.0
"""Recorded times are seconds since the recording started; events get them on top of this."""


@cache
def recording() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return data


def payloads(process: int) -> list[dict[str, Any]]:
    return [item["payload"] for item in recording()["processes"][process]["items"] if "payload" in item]


def events(process: int) -> list[HookEvent]:
    made = []
    for item in recording()["processes"][process]["items"]:
        if "payload" in item:
            event = parse_hook(item["payload"], BASE + item["t"])
            assert event is not None
            made.append(event)
    return made


def first_session_id() -> str:
    return str(recording()["first_session_id"])
