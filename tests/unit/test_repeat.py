"""`python -m tests.support.repeat`: a test file N times, one line per run with the load, a summary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import repeat

FLIP = """
from pathlib import Path

def test_fails_on_the_second_run():
    runs = Path(__file__).with_name("runs")
    count = int(runs.read_text()) + 1 if runs.exists() else 1
    runs.write_text(str(count))
    assert count != 2, "the second run"
"""


def test_each_run_is_reported_with_its_load_and_a_failure_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    test_file = tmp_path / "test_flip.py"
    test_file.write_text(FLIP)
    logs = tmp_path / "logs"
    status = repeat.main([str(test_file), "-n", "3", "--burners", "0", "--logs", str(logs)])
    out = capsys.readouterr().out.splitlines()
    assert status == 1
    load = r"load +\d+\.\d\d- *\d+\.\d\d  burners 0"
    assert re.fullmatch(rf"run  1/3: PASS +\d+\.\d s  {load}", out[1]), out
    assert re.fullmatch(
        rf"run  2/3: FAIL \(FAILED .*test_fails_on_the_second_run.*\) +\d+\.\d s  {load}", out[2]
    )
    assert re.fullmatch(rf"run  3/3: PASS +\d+\.\d s  {load}", out[3]), out
    assert re.fullmatch(r"2/3 passed; load \d+\.\d\d-\d+\.\d\d \(1-minute average\)", out[4]), out
    assert [path.name for path in logs.iterdir()] == ["run-02.log"]
    assert "the second run" in (logs / "run-02.log").read_text()


def test_burners_run_only_during_the_loop(tmp_path: Path) -> None:
    test_file = tmp_path / "test_burning.py"
    test_file.write_text("import os\n\ndef test_load():\n    assert os.getloadavg()\n")
    burners = repeat.Burners()
    burners.set(2)
    processes = list(burners.processes)
    assert all(process.poll() is None for process in processes)
    burners.set(0)
    assert len(burners) == 0 and all(process.poll() is not None for process in processes)
    assert repeat.main([str(test_file), "-n", "1", "--burners", "2", "--logs", str(tmp_path / "logs")]) == 0
