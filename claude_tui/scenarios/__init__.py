"""Stub scenarios bundled with claude-tui, used by the tests and by `claude-tui demo`.

Each `<name>.json` is a scenario for `claude_tui.stub_api` (`{"turns": [{"match": ..., "steps": [...]}]}`).
The `prompts` list beside `turns` (ignored by the stub) names the human prompts to type, in order.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any


def scenario_names() -> list[str]:
    """Names of the bundled scenarios, sorted."""
    folder = resources.files(__name__)
    return sorted(
        entry.name.removesuffix(".json") for entry in folder.iterdir() if entry.name.endswith(".json")
    )


def scenario_path(name: str) -> Path:
    """The file of a bundled scenario; raises `KeyError` naming the known ones if there is none."""
    entry = resources.files(__name__) / f"{name}.json"
    if not name or "/" in name or not entry.is_file():
        raise KeyError(f"no bundled scenario {name!r} (known: {', '.join(scenario_names())})")
    return Path(str(entry))


def load_scenario(name: str) -> dict[str, Any]:
    """The parsed JSON of a bundled scenario."""
    data: dict[str, Any] = json.loads(scenario_path(name).read_text(encoding="utf-8"))
    return data


def scenario_prompts(name_or_scenario: str | dict[str, Any]) -> list[str]:
    """The human prompts to type for a scenario: its `prompts` list, else each turn's `match`, in order."""
    scenario = load_scenario(name_or_scenario) if isinstance(name_or_scenario, str) else name_or_scenario
    prompts = scenario.get("prompts")
    if isinstance(prompts, list) and all(isinstance(p, str) for p in prompts):
        return list(prompts)
    return [turn["match"] for turn in scenario.get("turns", [])]
