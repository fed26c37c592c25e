"""An import-linter contract type the built-in ones lack: "these modules load X only inside functions".

`make lint` runs import-linter (`lint-imports`, configured in pyproject.toml), which puts the project root on
`sys.path` and loads this module through `contract_types`. import-linter counts every import, wherever it
is; claude-tui's rule for its heaviest dependencies is finer: importing a module must never load mlflow (or
Textual, on the command-line path), while a function may import it when it runs. So this contract follows
only the imports that run when a module is imported (module level, including `try:`/`if` blocks there;
`if TYPE_CHECKING:` ones are already left out of the graph), through every module of the package they
reach, and reports each chain from a source module to a forbidden one.
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
from functools import cache
from pathlib import Path
from typing import Any

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output
from importlinter.domain.helpers import module_expressions_to_modules

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


@cache
def _module_file(name: str) -> Path | None:
    root_name, _, rest = name.partition(".")
    spec = importlib.util.find_spec(root_name)
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations)), *rest.split(".")) if rest else None
    if base is None:
        return Path(spec.origin) if spec.origin else None
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache
def _lazy_lines(name: str) -> frozenset[int]:
    """The line numbers of the import statements inside functions of module `name`."""
    path = _module_file(name)
    if path is None:
        return frozenset()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, _FUNCTIONS):
            lines.update(
                inner.lineno for inner in ast.walk(node) if isinstance(inner, ast.Import | ast.ImportFrom)
            )
    return frozenset(lines)


def _eager_imports(graph: ImportGraph, module: str) -> set[str]:
    """What importing `module` imports at once: its module-level imports and its parent packages."""
    found = {
        imported
        for imported in graph.find_modules_directly_imported_by(module)
        if any(
            detail["line_number"] not in _lazy_lines(module)
            for detail in graph.get_import_details(importer=module, imported=imported)
        )
    }
    parts = module.split(".")
    found.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return found


class LazyImportContract(Contract):
    """Importing any of `source_modules` (packages include their modules) loads none of `lazy_modules`.

    Configuration options:
        - source_modules: modules (or packages) that must be cheap to import.
        - lazy_modules: modules they may import only inside functions, directly or through others.
    """

    type_name = "lazy"

    source_modules = fields.SetField(subfield=fields.ModuleExpressionField())
    lazy_modules = fields.SetField(subfield=fields.ModuleExpressionField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        sources: set[str] = set()
        for module in module_expressions_to_modules(graph, self.source_modules):  # type: ignore[arg-type]
            sources.add(module.name)
            sources.update(graph.find_descendants(module.name))
        lazy = {m.name for m in module_expressions_to_modules(graph, self.lazy_modules)}  # type: ignore[arg-type]
        chains: dict[tuple[str, str], list[str]] = {}  # one chain per last step: the import to move
        for source in sorted(sources):
            output.verbose_print(verbose, f"Following the module-level imports of {source}...")
            came_from: dict[str, str | None] = {source: None}
            pending = [source]
            while pending:
                module = pending.pop(0)
                if any(module == m or module.startswith(m + ".") for m in lazy):
                    chain = [module]
                    while (parent := came_from[chain[-1]]) is not None:
                        chain.append(parent)
                    chains.setdefault((chain[1], chain[0]), chain[::-1])
                    break
                for imported in sorted(_eager_imports(graph, module)):
                    if imported not in came_from:
                        came_from[imported] = module
                        pending.append(imported)
        return ContractCheck(kept=not chains, metadata={"chains": list(chains.values())})

    def render_broken_contract(self, check: ContractCheck) -> None:
        chains: list[Any] = check.metadata["chains"]
        for chain in chains:
            output.print_error(f"importing {chain[0]} loads {chain[-1]}:", bold=True)
            for importer, imported in itertools.pairwise(chain):
                output.indent_cursor()
                output.print_error(f"{importer} -> {imported} (at module level)")
            output.new_line()
