"""RunSpool: layout and permissions, atomic summary, orphan detection that pid reuse cannot fool."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from claude_tui.tracking import spool as spool_module
from claude_tui.tracking.spool import OWNER_LOCK, RunSpool, list_spools, process_start_ticks


def _meta(**overrides: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "session_id": "0b6f3c2e-1111-4222-8333-444455556666",
        "start_time": 1764224230.5,
        "pid": os.getpid(),
        "command": "claude",
    }
    meta.update(overrides)
    return meta


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_create_lays_out_a_private_folder(tmp_path: Path) -> None:
    spool = RunSpool.create(_meta(), tmp_path)
    assert spool.path.parent == tmp_path
    assert spool.path.name == "20251127T061710Z-0b6f3c2e-1111-4222-8333-444455556666"
    assert _mode(spool.path) == 0o700
    assert _mode(spool.path / "meta.json") == 0o600
    assert json.loads((spool.path / "meta.json").read_text())["session_id"] == spool.session_id
    assert spool.recording_path == spool.path / "recording.cast"
    spool.append_events([{"type": "user_prompt", "ts": 1.0, "text": "hi"}])
    spool.append_events([{"type": "turn_end", "ts": 2.0, "duration": 1.0}, {"type": "turn_end", "ts": 3.0}])
    lines = (spool.path / "events.jsonl").read_text().splitlines()
    assert [json.loads(line)["ts"] for line in lines] == [1.0, 2.0, 3.0]
    assert _mode(spool.path / "events.jsonl") == 0o600
    written = spool.write_file("git/changes.diff", "diff --git a b\n")
    assert written.read_text() == "diff --git a b\n"
    assert _mode(written) == 0o600 and _mode(written.parent) == 0o700
    spool.close()


def test_default_root_is_the_data_dirs_spool_folder() -> None:
    spool = RunSpool.create(_meta())
    assert spool.path.parent == Path(os.environ["CLAUDE_TUI_HOME"]) / "spool"
    assert [s.path for s in list_spools()] == [spool.path]
    spool.close()


@pytest.mark.parametrize("relpath", ["../escape.txt", "/etc/passwd", "git/../../x", "."])
def test_write_file_refuses_paths_outside_the_spool(tmp_path: Path, relpath: str) -> None:
    spool = RunSpool.create(_meta(), tmp_path / "root")
    with pytest.raises(ValueError):
        spool.write_file(relpath, "x")
    spool.close()


def test_same_name_does_not_overwrite_another_spool(tmp_path: Path) -> None:
    first = RunSpool.create(_meta(), tmp_path)
    second = RunSpool.create(_meta(), tmp_path)
    assert first.path != second.path
    assert len(list_spools(tmp_path)) == 2
    first.close()
    second.close()


def test_finish_writes_the_summary_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spool = RunSpool.create(_meta(), tmp_path)
    assert spool.summary is None and not spool.is_finished

    def failing_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(spool_module.os, "replace", failing_replace)
    with pytest.raises(OSError):
        spool.finish({"end_time": 2.0, "exit_code": 0})
    # Nothing half-written is left behind: no summary, no temp file.
    assert not (spool.path / "summary.json").exists()
    assert [p.name for p in spool.path.iterdir() if p.name.startswith(".")] == []
    monkeypatch.undo()
    spool.finish({"end_time": 2.0, "exit_code": 0, "signal": None, "killed": False})
    assert spool.summary == {"end_time": 2.0, "exit_code": 0, "signal": None, "killed": False}
    assert _mode(spool.path / "summary.json") == 0o600
    assert spool.is_finished and not spool.is_orphan and not spool.is_live
    spool.close()


def test_live_while_the_owner_holds_it_orphan_once_released(tmp_path: Path) -> None:
    spool = RunSpool.create(_meta(), tmp_path)
    reopened = RunSpool.open(spool.path)
    assert reopened.is_live and not reopened.is_orphan
    spool.close()
    assert reopened.is_orphan and not reopened.is_live


def test_an_owner_killed_with_sigkill_leaves_an_orphan(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import os, sys, time
        from pathlib import Path
        from claude_tui.tracking.spool import RunSpool
        spool = RunSpool.create({{"session_id": "killed", "start_time": time.time(), "pid": os.getpid()}},
                                Path({str(tmp_path)!r}))
        print(spool.path, flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    path = Path(proc.stdout.readline().strip())
    spool = RunSpool.open(path)
    assert spool.is_live
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert spool.is_orphan
    assert [s.path for s in list_spools(tmp_path) if s.is_orphan] == [path]


def test_without_a_lock_file_a_reused_pid_does_not_look_alive(tmp_path: Path) -> None:
    # Our own pid is certainly alive; a different recorded start time means "same number, other process".
    ticks = process_start_ticks(os.getpid())
    assert ticks is not None
    spool = RunSpool.create(_meta(), tmp_path)
    spool.close()
    (spool.path / OWNER_LOCK).unlink()
    meta = json.loads((spool.path / "meta.json").read_text())
    assert meta["pid_start_ticks"] == ticks
    assert not RunSpool.open(spool.path).is_orphan  # same pid, same start: alive
    meta["pid_start_ticks"] = ticks - 1
    (spool.path / "meta.json").write_text(json.dumps(meta))
    assert RunSpool.open(spool.path).is_orphan
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    meta.update(pid=dead.pid, pid_start_ticks=None)
    (spool.path / "meta.json").write_text(json.dumps(meta))
    assert RunSpool.open(spool.path).is_orphan


def test_list_spools_skips_half_created_and_foreign_folders_not_broken_spools(tmp_path: Path) -> None:
    (tmp_path / ".20250101T000000Z-x.abc").mkdir()
    (tmp_path / "not-a-spool").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "meta.json").write_text("{not json")
    (tmp_path / "file.txt").write_text("x")
    first = RunSpool.create(_meta(session_id="a", start_time=100.0), tmp_path)
    second = RunSpool.create(_meta(session_id="b", start_time=50.0), tmp_path)
    spools = list_spools(tmp_path)
    assert [s.session_id for s in spools] == ["b", "a", "broken"]
    assert [s.meta_unreadable for s in spools] == [None, None, "meta.json is not valid JSON (9 bytes)"]
    assert list_spools(tmp_path / "missing") == []
    first.close()
    second.close()


def test_a_broken_meta_keeps_what_can_be_read_but_never_turns_redaction_off(tmp_path: Path) -> None:
    spool = RunSpool.create(
        _meta(cwd="/work", tracking_uri="sqlite:////s/m.db", redact=False, tags={"redact": False}), tmp_path
    )
    spool.close()
    meta = spool.path / "meta.json"
    text = meta.read_text()
    meta.write_text(text[: text.index('"tags"')] + '"tags": {"cwd": "/elsewhere", ')  # cut in the middle
    (recovered,) = list_spools(tmp_path)
    assert recovered.path == spool.path and recovered.is_orphan
    assert recovered.session_id == "0b6f3c2e-1111-4222-8333-444455556666"
    assert recovered.meta["cwd"] == "/work"  # the top-level one, not the tag of that name
    assert recovered.meta["tracking_uri"] == "sqlite:////s/m.db"
    assert recovered.meta["start_time"] == 1764224230.5
    assert recovered.meta["redact"] is True


@pytest.mark.parametrize(
    ("name", "start", "session_id"),
    [
        (
            "20251127T061710Z-0b6f3c2e-1111-4222-8333-444455556666",
            1764224230.0,
            "0b6f3c2e-1111-4222-8333-444455556666",
        ),
        (
            "20251127T061710Z-0b6f3c2e-1111-4222-8333-444455556666-2",
            1764224230.0,
            "0b6f3c2e-1111-4222-8333-444455556666",
        ),
        ("20251127T061710Z-no-session-id", 1764224230.0, "no-session-id"),
        ("something-else", None, "something-else"),
    ],
)
def test_recovery_reads_the_folder_name(
    tmp_path: Path, name: str, start: float | None, session_id: str
) -> None:
    (tmp_path / name).mkdir()
    (tmp_path / name / "recording.cast").write_text("")
    recovered = RunSpool.recover(tmp_path / name, "no meta.json")
    assert (recovered.session_id, recovered.meta.get("start_time")) == (session_id, start)


def test_last_activity_is_the_newest_file(tmp_path: Path) -> None:
    spool = RunSpool.create(_meta(start_time=time.time() - 3600), tmp_path)
    spool.append_events([{"type": "turn_end", "ts": 1.0, "duration": 1.0}])
    later = time.time() + 100
    os.utime(spool.events_path, (later, later))
    assert spool.last_activity() == pytest.approx(later)
    assert spool.files() == ["events.jsonl", "meta.json"]
    spool.close()
