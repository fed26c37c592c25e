"""`claude-tui import` without a store: discovery rules, --since/--project filters, dry runs, bad input.

Transcripts are copies of the committed real CLI output in tests/data/transcripts (manifest.json says which
session, work dir and prompts each one has); corrupt and odd files are made here.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from claude_tui.claude_code import is_subagent_file, project_dir_name
from claude_tui.parsing import TranscriptTail, stats_for_transcript
from claude_tui.parsing.events import ToolResult
from claude_tui.tracking.importer import (
    ImportInputError,
    PrepareOptions,
    SessionOutcome,
    clean_text_from_events,
    discover_transcripts,
    import_sessions,
    parse_since,
    prepare_session,
)
from claude_tui.tracking.spool import RunSpool

DATA = Path(__file__).resolve().parent.parent / "data" / "transcripts"
MANIFEST = json.loads((DATA.parent / "manifest.json").read_text())["transcripts"]
NAMES = sorted(MANIFEST)


def transcript_of(root: Path, name: str) -> Path:
    session_id = MANIFEST[name]["session_id"]
    (path,) = root.glob(f"{name}/projects/*/{session_id}.jsonl")
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A writable copy of every committed transcript tree (`<scenario>/projects/<dir>/...`)."""
    root = tmp_path / "data"
    shutil.copytree(DATA, root)
    # Written a day ago, as transcripts on disk are: `copytree` keeps the checkout's times, and a new clone's
    # are under a minute old, which the import takes for a session still running (`--min-age`).
    day_ago = time.time() - 86400
    for path in root.rglob("*"):
        os.utime(path, (day_ago, day_ago))
    return root


def last_timestamp(path: Path) -> float:
    stamps = [e.ts for e in TranscriptTail(path).poll(final=True) if e.ts is not None]
    return max(stamps)


def by_kind(outcomes: list[SessionOutcome]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for outcome in outcomes:
        out.setdefault(outcome.kind, set()).add(outcome.session_id or outcome.path.name)
    return out


# -- discovery ------------------------------------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A Claude config dir: two projects, a sub-agent file, history.jsonl and a stray non-transcript."""
    root = tmp_path / "claude"
    one = root / "projects" / "-work-one"
    two = root / "projects" / "-work-two"
    (one / "s1" / "subagents").mkdir(parents=True)
    two.mkdir(parents=True)
    (one / "s1.jsonl").write_text("{}\n")
    (one / "s1" / "subagents" / "agent-a1.jsonl").write_text("{}\n")
    (one / "s1" / "subagents" / "agent-a1.meta.json").write_text("{}\n")
    (one / "notes.txt").write_text("not a transcript\n")
    (two / "s2.jsonl").write_text("{}\n")
    (two / "s3.jsonl").write_text("{}\n")
    (root / "history.jsonl").write_text("{}\n")
    return root


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["."], ["s1", "s2", "s3"]),  # a config dir: only projects/, never history.jsonl
        (["projects"], ["s1", "s2", "s3"]),
        (["projects/-work-one"], ["s1"]),  # a project folder: its sub-agent files are not sessions
        (["projects/-work-two/s3.jsonl"], ["s3"]),
        (["projects/-work-one/s1/subagents/agent-a1.jsonl"], ["s1"]),  # stands for its parent session
        (["projects/-work-one", "projects/-work-one/s1.jsonl", "."], ["s1", "s2", "s3"]),  # each once
    ],
)
def test_discovery(config: Path, args: list[str], expected: list[str]) -> None:
    found = discover_transcripts([config / a for a in args])
    assert sorted(p.stem for p in found) == expected
    assert all(p.is_absolute() and not is_subagent_file(p) for p in found)


def test_all_takes_the_config_dir(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    assert sorted(p.stem for p in discover_transcripts([], all_sessions=True)) == ["s1", "s2", "s3"]
    # A config dir without projects/ (Claude never ran) simply has no sessions.
    assert discover_transcripts([], all_sessions=True, config_dir=config / "projects" / "-work-two") == []


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("missing", "no such file or folder"),
        ("projects/-work-one/notes.txt", "not a transcript"),
    ],
)
def test_discovery_rejects_bad_paths(config: Path, arg: str, message: str) -> None:
    with pytest.raises(ImportInputError, match=message):
        discover_transcripts([config / arg])


def test_orphaned_subagent_file_is_an_error(config: Path) -> None:
    (config / "projects" / "-work-one" / "s1.jsonl").unlink()
    with pytest.raises(ImportInputError, match="sub-agent"):
        discover_transcripts([config / "projects/-work-one/s1/subagents/agent-a1.jsonl"])


# -- filter values ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01", datetime(2026, 11, 1).timestamp()),  # local midnight
        ("2026-11-01T09:30", datetime(2026, 11, 1, 9, 30).timestamp()),
        ("2026-11-01T09:30:00Z", datetime(2026, 11, 1, 9, 30, tzinfo=UTC).timestamp()),
        ("2026-11-01T09:30:00+02:00", datetime(2026, 11, 1, 7, 30, tzinfo=UTC).timestamp()),
        ("7d", 1_000_000.0 - 7 * 86400),
        ("12h", 1_000_000.0 - 12 * 3600),
        ("30m", 1_000_000.0 - 1800),
        ("90s", 1_000_000.0 - 90),
        ("2w", 1_000_000.0 - 14 * 86400),
    ],
)
def test_parse_since(text: str, expected: float) -> None:
    assert parse_since(text, now=1_000_000.0) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["yesterday", "", "7x", "2026-13-01", "-3d"])
def test_parse_since_rejects(text: str) -> None:
    with pytest.raises(ImportInputError, match="--since"):
        parse_since(text)


@pytest.mark.parametrize("name", NAMES)
def test_project_dir_name_matches_what_the_cli_wrote(name: str) -> None:
    work_dir = MANIFEST[name]["work_dir"]
    folder = Path(MANIFEST[name]["files"][-1]).parts[1]
    assert project_dir_name(work_dir) == folder


# -- preparing and filtering (dry runs: nothing is written) ----------------------------------------------


def test_dry_run_of_real_transcripts(data: Path, tmp_path: Path) -> None:
    store = tmp_path / "store" / "mlflow.db"
    summary = import_sessions([data], dry_run=True, tracking_uri=f"sqlite:///{store}", jobs=1)
    assert by_kind(summary.outcomes) == {"imported": {MANIFEST[n]["session_id"] for n in NAMES}}
    assert summary.dry_run and "would import 6" in summary.counts_line()
    assert not store.exists(), "a dry run must not create the store"
    from claude_tui.paths import data_dir

    assert not any(p.name.startswith(".import-") for p in data_dir().iterdir())
    assert not any((data_dir() / "spool").glob("*"))


def test_since_uses_the_last_record_then_the_mtime(data: Path) -> None:
    failing, realistic = transcript_of(data, "failing"), transcript_of(data, "realistic")
    cut = last_timestamp(failing) + 0.5
    assert last_timestamp(realistic) != cut
    # Files written just now (new mtimes), so only the records' times can tell.
    os.utime(failing)
    os.utime(realistic)
    summary = import_sessions([failing, realistic], since=cut, dry_run=True, jobs=1)
    expected_in = {MANIFEST["realistic"]["session_id"]} if last_timestamp(realistic) >= cut else set()
    assert {o.session_id for o in summary.imported} == expected_in
    assert MANIFEST["failing"]["session_id"] in {o.session_id for o in summary.filtered}
    summary = import_sessions([failing], since=cut - 1.0, dry_run=True, jobs=1)
    assert [o.session_id for o in summary.imported] == [MANIFEST["failing"]["session_id"]]
    # A file last written before --since is left out unread.
    os.utime(failing, (cut - 3600, cut - 3600))
    summary = import_sessions([failing], since=cut - 1.0, dry_run=True, jobs=1)
    assert [(o.kind, o.session_id, o.reason) for o in summary.outcomes] == [
        ("filtered", None, "older than --since")
    ]


def test_project_by_cwd(data: Path) -> None:
    work_dir = MANIFEST["git_compound"]["work_dir"]
    summary = import_sessions([data], project=work_dir, dry_run=True, jobs=1)
    assert [o.session_id for o in summary.imported] == [MANIFEST["git_compound"]["session_id"]]
    assert len(summary.filtered) == len(NAMES) - 1
    # A trailing slash or a `..` detour names the same directory.
    again = import_sessions([data], project=work_dir + "/sub/../", dry_run=True, jobs=1)
    assert [o.session_id for o in again.imported] == [MANIFEST["git_compound"]["session_id"]]


def test_project_by_folder_name_when_records_carry_no_cwd(tmp_path: Path) -> None:
    source = transcript_of(Path(DATA), "failing")
    lines = []
    for line in source.read_text().splitlines():
        record = json.loads(line)
        record.pop("cwd", None)
        lines.append(json.dumps(record))
    folder = tmp_path / "projects" / project_dir_name("/srv/app")
    folder.mkdir(parents=True)
    (folder / source.name).write_text("\n".join(lines) + "\n")
    other = tmp_path / "projects" / project_dir_name("/srv/other")
    other.mkdir()
    (other / "x.jsonl").write_text("\n".join(lines).replace(MANIFEST["failing"]["session_id"], "x") + "\n")
    summary = import_sessions([tmp_path], project="/srv/app", dry_run=True, jobs=1)
    assert [o.path for o in summary.imported] == [(folder / source.name).absolute()]
    assert [o.session_id for o in summary.filtered] == ["x"]


def test_bad_files_are_reported_and_the_rest_go_on(data: Path) -> None:
    folder = transcript_of(data, "failing").parent
    (folder / "garbage.jsonl").write_bytes(b"\x00\xff\xfe not json at all\n\x89PNG\r\n")
    (folder / "empty.jsonl").write_bytes(b"")
    (folder / "snapshots.jsonl").write_text(
        json.dumps({"type": "file-history-snapshot", "messageId": "m", "snapshot": {}}) + "\n"
    )
    summary = import_sessions([folder], dry_run=True, jobs=1)
    reasons = {o.path.name: (o.kind, o.reason) for o in summary.outcomes}
    assert reasons["garbage.jsonl"] == ("failed", "not a transcript: no records, 2 malformed line(s)")
    assert reasons["empty.jsonl"] == ("failed", "empty file (no transcript records)")
    assert reasons["snapshots.jsonl"] == ("skipped", "no conversation in it")
    assert [o.session_id for o in summary.imported] == [MANIFEST["failing"]["session_id"]]


def test_duplicates_sessions_waiting_in_the_spool_and_young_files_are_skipped(data: Path) -> None:
    failing, subagent = transcript_of(data, "failing"), transcript_of(data, "subagent")
    copy = data / "elsewhere" / failing.name
    copy.parent.mkdir()
    shutil.copy2(failing, copy)
    spool = RunSpool.create({"session_id": MANIFEST["subagent"]["session_id"], "start_time": time.time()})
    spool.close()
    summary = import_sessions([failing, copy, subagent], dry_run=True, jobs=1)
    reasons = [(o.kind, o.reason) for o in summary.outcomes]
    assert reasons == [
        ("imported", ""),
        ("skipped", f"same session as {failing.absolute()}"),
        ("skipped", "already in the store"),
    ]
    # A renamed copy (its name is no session id) is still known by the id in its records.
    renamed = data / "backup (1).jsonl"
    shutil.copy2(failing, renamed)
    summary = import_sessions([failing, renamed], dry_run=True, jobs=1)
    assert [(o.kind, o.session_id) for o in summary.outcomes] == [
        ("imported", MANIFEST["failing"]["session_id"]),
        ("skipped", MANIFEST["failing"]["session_id"]),
    ]
    # A transcript written to moments ago may belong to a session that is still running.
    os.utime(failing)
    young = import_sessions([failing], dry_run=True, jobs=1, min_age=3600)
    assert young.skipped[0].reason.startswith("may still be running")


def test_pool_gives_the_same_outcomes(data: Path) -> None:
    extra = data / "copies"
    for index in range(6):
        target = extra / f"p{index}"
        target.mkdir(parents=True)
        source = transcript_of(data, NAMES[index % len(NAMES)])
        text = source.read_text().replace(source.stem, f"copy-{index}")
        (target / f"copy-{index}.jsonl").write_text(text)
    (extra / "bad.jsonl").write_text("nope\n")
    serial = import_sessions([data], dry_run=True, jobs=1)
    pooled = import_sessions([data], dry_run=True, jobs=2)
    assert len(serial.outcomes) == len(NAMES) + 7
    assert [(o.path, o.kind, o.session_id, o.reason) for o in pooled.outcomes] == [
        (o.path, o.kind, o.session_id, o.reason) for o in serial.outcomes
    ]


def test_prepared_spool_is_what_a_tracked_session_leaves(data: Path, tmp_path: Path) -> None:
    path = transcript_of(data, "realistic")
    prepared = prepare_session(path, PrepareOptions(spool_root=tmp_path / "spools", now=time.time()))
    assert prepared.outcome.kind == "imported" and prepared.spool is not None
    spool = RunSpool.open(prepared.spool)
    events = TranscriptTail(path).poll(final=True)
    stamps = [e.ts for e in events if e.ts is not None]
    assert spool.meta["start_time"] == min(stamps)
    assert spool.meta["transcript_path"] == str(path)
    assert spool.summary is not None and spool.summary["end_time"] == max(stamps)
    assert spool.summary["stats"] == stats_for_transcript(path).to_dict()
    assert spool.summary["stats"]["tool_uses"] == sum(1 for e in events if type(e).__name__ == "ToolCall") > 0
    assert not spool.is_live and not spool.recording_path.exists()
    assert len(spool.events_path.read_text().splitlines()) == len(events)
    assert set(spool.files()) == {"meta.json", "events.jsonl", "clean.txt", "summary.json"}


def test_clean_text_shows_prompts_tools_and_errors() -> None:
    from claude_tui.scenarios import load_scenario

    path = transcript_of(DATA, "failing")
    text = clean_text_from_events(TranscriptTail(path).poll(final=True))
    scenario = load_scenario("failing")
    assert f"❯ {scenario['prompts'][0]}" in text
    commands = [
        item["input"]["command"]
        for turn in scenario["turns"]
        for step in turn["steps"]
        for item in step
        if item.get("tool") == "Bash"
    ]
    assert commands
    for command in commands:
        assert f"● Bash({command.splitlines()[0]})" in text
    errors = sum(1 for e in TranscriptTail(path).poll(final=True) if isinstance(e, ToolResult) and e.is_error)
    assert errors > 0 and text.count("⎿  Error: ") == errors


# -- the command's usage errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give a PATH"),
        (["/no/such/path"], "no such file or folder"),
        (["{data}", "--since", "soon"], "--since"),
        (["{data}", "--experiment", " "], "--experiment"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(data: Path, args: list[str], message: str) -> None:
    from claude_tui.commands.importer import import_sessions as command

    result = CliRunner().invoke(command, [a.format(data=data) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_dry_run_command_lists_sessions(data: Path, tmp_path: Path) -> None:
    from claude_tui.commands.importer import import_sessions as command

    store = tmp_path / "s"
    result = CliRunner().invoke(command, [str(data), "--dry-run", "--tracking-uri", str(store)])
    assert result.exit_code == 0, result.output
    for name in NAMES:
        assert f"would import {MANIFEST[name]['session_id']}" in result.output
    assert "would import 6, skipped 0, failed 0" in result.output
    assert not (store / "mlflow.db").exists()
