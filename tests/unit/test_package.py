"""The package ships the product only, and its dependencies say the truth.

- every module under `claude_tui/` is reachable from what the product runs (the `claude-tui` entry point,
  `python -m claude_tui`, and every subcommand module): code that only tests or benchmarks import belongs
  in `tests/support/` or `benchmarks/`;
- the third-party packages the product imports are exactly its declared runtime dependencies.

Imports inside functions count (the lazy ones are most of the product's); the import graph is grimp's.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import grimp

from claude_tui.commands import SUBCOMMANDS

ROOT = Path(__file__).resolve().parents[2]


PROCESS_ENTRY_POINTS = {"claude_tui.owner.__main__", "claude_tui.tracking.background"}
"""Modules the product runs as processes (`python -m ...`: the session owner, the logger process)."""


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("claude_tui", include_external_packages=True, cache_dir=None)


def test_every_module_is_reachable_from_the_product() -> None:
    graph = _graph()
    roots = {"claude_tui.launch", "claude_tui.__main__"}
    roots |= {target.split(":")[0] for target, _ in SUBCOMMANDS.values()}
    roots |= PROCESS_ENTRY_POINTS
    reached: set[str] = set()
    pending = list(roots)
    while pending:
        module = pending.pop()
        if module in reached or not module.startswith("claude_tui"):
            continue
        reached.add(module)
        pending += graph.find_modules_directly_imported_by(module)
        parts = module.split(".")
        pending += [".".join(parts[:i]) for i in range(1, len(parts))]  # a module's packages load first
    ours = {m for m in graph.modules if m.split(".")[0] == "claude_tui"}
    assert sorted(ours - reached) == [], "imported only by tests or benchmarks (or by nothing)"


def test_runtime_dependencies_are_what_the_product_imports() -> None:
    graph = _graph()
    imported = {
        module
        for module in graph.modules
        if "." not in module and module != "claude_tui" and module not in sys.stdlib_module_names
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[<>=!~ \[;]", spec, maxsplit=1)[0].lower().replace("-", "_") for spec in
                project["dependencies"]}  # fmt: skip
    # A distribution of a namespace package is imported by the namespace's name (opentelemetry-sdk).
    provides: dict[str, set[str]] = {}
    for module, distributions in importlib.metadata.packages_distributions().items():
        for distribution in distributions:
            provides.setdefault(distribution.lower().replace("-", "_"), set()).add(module)
    declared = {name if name in provides.get(name, {name}) else min(provides[name]) for name in declared}
    assert imported == declared


def test_every_benchmark_module_imports() -> None:
    """`python -m benchmarks` imports each of them; a helper moved elsewhere must not break one silently
    (bench_import imported bench_parse's copy of the JSONL reader after it moved to tests/support)."""
    import importlib

    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        if not path.stem.startswith("_"):
            importlib.import_module(f"benchmarks.{path.stem}")


APP_MODULE_LINES = 250
"""What issue 12 asks of `claude_tui/app.py`: the App wires parts (tabs, sessions, history, the store check)
that live in their own modules; a feature that grows it past this goes into a widget of its own."""


def test_the_app_module_only_wires_parts() -> None:
    lines = (ROOT / "claude_tui" / "app.py").read_text().count("\n")
    assert lines <= APP_MODULE_LINES, f"claude_tui/app.py has {lines} lines: move a concept into widgets/"
