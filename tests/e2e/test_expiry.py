"""Nothing expires unseen (issue 17, item 8): sessions on disk that Claude Code deletes within 7 days of its
clean-up (`cleanupPeriodDays`) and that are not in the store are reported once, with the import command."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from claude_tui.cli import main
from claude_tui.paths import own_command
from claude_tui.tracking import expiry
from tests.support.transcripts import DAY, MANIFEST, install

pytestmark = pytest.mark.slow


def cli(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def test_expiring_sessions_not_in_the_store_are_reported_once(store_uri: str) -> None:
    config_dir = Path(os.environ["CLAUDE_CONFIG_DIR"])
    (config_dir / "settings.json").write_text('{"cleanupPeriodDays": 20}')
    logged = install(config_dir, "failing", age_days=0)
    assert cli("import", str(logged), "--tracking-uri", store_uri, "--min-age", "0").exit_code == 0
    os.utime(logged, (time.time() - 15 * DAY,) * 2)  # in the store: never reported
    install(config_dir, "realistic", age_days=15)  # deleted in 5 days, not in the store
    install(config_dir, "git_compound", age_days=10)  # 10 days left: not yet

    result = cli("sync", "--tracking-uri", store_uri)
    assert result.exit_code == 0, result.output
    line = (
        "1 Claude Code session is not in MLflow and will be deleted by Claude Code within 7 days "
        f"(cleanupPeriodDays = 20): run `{own_command()} import --all` to keep them"
    )
    assert result.stderr.strip().endswith(line), result.stderr
    # Once: neither the next sync nor another command says it again.
    assert line not in cli("sync", "--tracking-uri", store_uri).stderr
    assert "Claude Code session" not in cli("export", "--format", "json", "--tracking-uri", store_uri).stderr

    # A session that comes within the margin later: a quiet (background) sync finds it, the next command
    # prints it, once.
    os.utime(
        next(config_dir.glob(f"projects/*/{MANIFEST['git_compound']['session_id']}.jsonl")),
        (time.time() - 14 * DAY,) * 2,
    )
    assert cli("sync", "-q", "--tracking-uri", store_uri).stderr == ""
    first = cli("export", "--format", "json", "--tracking-uri", store_uri)
    assert first.stderr == f"claude-tui: {line}\n"
    assert cli("export", "--format", "json", "--tracking-uri", store_uri).stderr == ""


@pytest.mark.parametrize(
    ("settings", "days"),
    [
        (None, 30),
        ('{"cleanupPeriodDays": 10}', 10),
        ('{"cleanupPeriodDays": 0}', 30),
        ('{"cleanupPeriodDays": "ten"}', 30),
        ("not json", 30),
        ("[1]", 30),
    ],
)
def test_cleanup_days_from_claude_settings(tmp_path: Path, settings: str | None, days: int) -> None:
    if settings is not None:
        (tmp_path / "settings.json").write_text(settings)
    assert expiry.cleanup_days(tmp_path) == days


def test_at_risk_is_within_the_margin_of_the_clean_up(tmp_path: Path) -> None:
    now = time.time()
    for name, age in (("realistic", 24), ("failing", 22.9), ("git_compound", 40)):
        install(tmp_path, name, age)
    found = {item.session_id: item for item in expiry.at_risk(tmp_path, now)}
    assert set(found) == {MANIFEST["realistic"]["session_id"], MANIFEST["git_compound"]["session_id"]}
    assert found[MANIFEST["realistic"]["session_id"]].deleted_at == pytest.approx(now + 6 * DAY, abs=5)
