"""`python -m benchmarks`: one failing benchmark is reported, the others still run, one combined table."""

from __future__ import annotations

import importlib
import sys
import tempfile
import types
from pathlib import Path

import pytest

# benchmarks/ is a top-level folder of the repository, not part of the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
runner = importlib.import_module("benchmarks.__main__")


def test_failure_of_one_benchmark_does_not_stop_the_others(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    good = types.ModuleType("benchmarks.bench_good")
    good.main = lambda argv: [{"case": "x", "MB/s": 3.5}]  # type: ignore[attr-defined]
    bad = types.ModuleType("benchmarks.bench_bad")

    def explode() -> list[dict[str, object]]:
        raise RuntimeError("boom")

    bad.main = explode  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "benchmarks.bench_good", good)
    monkeypatch.setitem(sys.modules, "benchmarks.bench_bad", bad)
    monkeypatch.setattr(runner, "discover", lambda: ["bench_bad", "bench_good"])
    assert runner.main([]) == 1
    out = capsys.readouterr().out
    table = out.split("## All benchmarks")[1]
    assert "| benchmark | case | MB/s |" in table
    assert "| bench_bad | FAILED after 0 s: RuntimeError: boom |" in table
    assert "| bench_good | x | 3.5 |" in table


def test_unknown_name_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main(["no-such-benchmark"]) == 2
    assert "no benchmark matches" in capsys.readouterr().err


def test_every_benchmark_module_has_a_main() -> None:
    assert "bench_terminal" in runner.discover()
    for name in runner.discover():
        source = (runner.HERE / f"{name}.py").read_text()
        assert "def main(" in source, name


def test_startup_cpu_compares_trees(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m benchmarks.startup_cpu TREE...`: one row per tree, measured on a real start of the app;
    nothing it started still runs when it returns (the killed app's logger process wrote into the temporary
    folder while it was removed: "Directory not empty", once under load)."""
    startup_cpu = importlib.import_module("benchmarks.startup_cpu")
    bench_startup = importlib.import_module("benchmarks.bench_startup")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    here = Path(__file__).resolve().parents[2]
    rows = startup_cpu.main(["--rounds", "1", str(here)])
    assert bench_startup.processes_naming(str(scratch)) == []
    assert list(scratch.iterdir()) == []
    assert [row["tree"] for row in rows] == [str(here)]
    assert 0 < rows[0]["cpu_s"] < rows[0]["median_s"] + 5 and rows[0]["runs"] == 1
    assert str(here) in capsys.readouterr().out
    with pytest.raises(SystemExit):
        startup_cpu.main([str(tmp_path)])  # no claude_tui package there
