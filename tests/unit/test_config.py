"""Settings file and alert thresholds."""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_tui.config import Alert, AlertMonitor, ConfigError, Settings, load_settings


@pytest.mark.parametrize(
    ("text", "name", "op", "threshold", "metric"),
    [
        ("errors>=3", "errors", ">=", 3.0, "errors_encountered"),
        (" cost > 2.5 ", "cost", ">", 2.5, "cost_usd"),
        ("duration>=3600", "duration", ">=", 3600.0, "duration_seconds"),
        ("tools=10", "tools", "=", 10.0, "tool_uses"),
    ],
)
def test_alert_parse(text: str, name: str, op: str, threshold: float, metric: str) -> None:
    alert = Alert.parse(text)
    assert (alert.name, alert.op, alert.threshold, alert.metric) == (name, op, threshold, metric)


@pytest.mark.parametrize("text", ["errors", "errors>=", "bogus>=1", ">=3", "errors>=three", "errors=>3"])
def test_alert_parse_rejects(text: str) -> None:
    with pytest.raises(ConfigError):
        Alert.parse(text)


def test_alert_str_round_trips() -> None:
    assert str(Alert.parse("errors>=3")) == "errors>=3"
    assert str(Alert.parse("cost>2.5")) == "cost>2.5"


def test_monitor_fires_once_per_alert() -> None:
    monitor = AlertMonitor([Alert.parse("errors>=2"), Alert.parse("cost>1")])
    assert monitor.check({"errors_encountered": 1, "cost_usd": None}) == []
    fired = monitor.check({"errors_encountered": 2, "cost_usd": 0.5})
    assert [str(a) for a in fired] == ["errors>=2"]
    assert monitor.check({"errors_encountered": 5, "cost_usd": 0.5}) == []
    assert [str(a) for a in monitor.check({"errors_encountered": 5, "cost_usd": 1.5})] == ["cost>1"]
    assert monitor.fired_metrics() == {"errors_encountered", "cost_usd"}


def test_settings_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        'tracking_uri = "http://127.0.0.1:5000"\nexperiment = "mine"\nredact = false\n'
        "[alerts]\nerrors = 3\ncost = 2.5\n"
    )
    settings = load_settings(path)
    assert settings.tracking_uri == "http://127.0.0.1:5000"
    assert settings.experiment == "mine"
    assert settings.redact is False
    assert [str(a) for a in settings.alerts] == ["errors>=3", "cost>=2.5"]


def test_missing_settings_file_gives_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "absent.toml")
    assert settings.tracking_uri is None and settings.experiment == "claude-sessions" and settings.redact


@pytest.mark.parametrize(
    "content", ["experiment = [", "[alerts]\nerrors = 'many'", "alerts = 3", "[alerts]\nbogus = 1"]
)
def test_broken_settings_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(content)
    with pytest.raises(ConfigError):
        load_settings(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('redact = "no"', "redact must be true or false (no quotes), got 'no'"),
        ("experiment = 5", "experiment must be a name in quotes, got 5"),
        ('experiment = ""', "experiment: the experiment name is empty"),
        ("tracking_uri = 5", "tracking_uri must be a URI in quotes, got 5"),
        (
            'experimnet = "x"',
            "unknown setting 'experimnet' "
            "(known: tracking_uri, experiment, redact, worktree_dir, notify, notify_command, hooks, alerts, "
            "user, content, tags)",
        ),
        ('content = "some"', 'content must be "full" or "metadata", got \'some\''),
        (
            'locked = ["tracking_uri"]',
            "unknown setting 'locked' (only the organisation's file sets it) "
            "(known: tracking_uri, experiment, redact, worktree_dir, notify, notify_command, hooks, alerts, "
            "user, content, tags)",
        ),
        ("[tags]\nteam = 3", '[tags] must be a table of KEY = "value"'),
        (
            "[alerts]\nbogus = 1",
            "unknown alert 'bogus': choose from errors, cost, duration, tools, commands, tokens",
        ),
    ],
)
def test_a_wrong_value_is_named_with_its_key(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(content + "\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert str(error.value) == f"{path}: {message}"


def test_an_unchanged_file_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text('experiment = "a"\n')
    first = load_settings(path)
    import tomllib

    monkeypatch.setattr(tomllib, "loads", lambda text: pytest.fail("parsed again"))
    assert load_settings(path) is first
    path.write_text('experiment = "bb"\n')  # another size: read again
    monkeypatch.undo()
    assert load_settings(path).experiment == "bb"


def test_notification_and_hook_settings(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('notify = false\nnotify_command = "notify-send x"\nhooks = false\n')
    settings = load_settings(path)
    assert (settings.notify, settings.notify_command, settings.hooks) == (False, "notify-send x", False)
    assert (Settings().notify, Settings().notify_command, Settings().hooks) == (True, None, True)
    for bad in ('notify = "no"\n', "hooks = 1\n", "notify_command = 3\n"):
        path.write_text(bad)
        with pytest.raises(ConfigError, match=bad.split(" ")[0]):
            load_settings(path)


def test_the_organisation_file_comes_first_and_the_user_file_adds(tmp_path: Path) -> None:
    system, user = tmp_path / "system.toml", tmp_path / "user.toml"
    system.write_text(
        'tracking_uri = "http://org"\nexperiment = "org"\ncontent = "metadata"\nrequired_tags = ["team"]\n'
        '[tags]\norg = "payments"\n[alerts]\ncost = 5\n'
    )
    user.write_text('experiment = "mine"\n[tags]\nteam = "core"\n[alerts]\nerrors = 3\n')
    settings = load_settings(user, system_path=system)
    assert (settings.tracking_uri, settings.experiment, settings.content) == (
        "http://org",
        "mine",
        "metadata",
    )
    assert settings.tags == {"org": "payments", "team": "core"}
    assert settings.required_tags == ["team"] and not settings.locked
    assert [str(a) for a in settings.alerts] == ["cost>=5", "errors>=3"]


@pytest.mark.parametrize(
    ("user_text", "refused"),
    [
        ('tracking_uri = "http://mine"', "tracking_uri"),
        ("redact = false", "redact"),
        ('content = "full"', "content"),
        ('[tags]\norg = "mine"', "tags"),
        ('tracking_uri = "http://org"\nredact = true\n[tags]\norg = "payments"\nteam = "x"', None),
    ],
)
def test_a_locked_key_cannot_be_changed_by_the_user_file(
    tmp_path: Path, user_text: str, refused: str | None
) -> None:
    system, user = tmp_path / "system.toml", tmp_path / "user.toml"
    system.write_text(
        'tracking_uri = "http://org"\nredact = true\ncontent = "metadata"\n'
        'locked = ["tracking_uri", "redact", "content", "tags"]\n[tags]\norg = "payments"\n'
    )
    user.write_text(user_text + "\n")
    if refused is None:  # the same values are no change
        assert load_settings(user, system_path=system).tags == {"org": "payments", "team": "x"}
        return
    with pytest.raises(ConfigError) as error:
        load_settings(user, system_path=system)
    assert str(error.value) == (
        f"{user}: {refused} is locked by {system} (the organisation's settings); remove it from your file"
    )


def test_locked_options_and_required_tags(tmp_path: Path) -> None:
    system = tmp_path / "system.toml"
    system.write_text(
        'experiment = "org"\nrequired_tags = ["team"]\nlocked = ["experiment", "tags"]\n[tags]\norg = "p"\n'
    )
    settings = load_settings(tmp_path / "absent.toml", system_path=system)
    settings.check_option("experiment", None, "--experiment")
    settings.check_option("experiment", "org", "--experiment")
    settings.check_option("tracking_uri", "http://x", "--tracking-uri")  # not locked
    with pytest.raises(ConfigError, match=r"^--experiment: experiment is locked to 'org' by .*system.toml"):
        settings.check_option("experiment", "mine", "--experiment")
    settings.check_tags({"team": "core"})
    with pytest.raises(ConfigError, match=r"^--tag org: the tag is locked to 'p' by "):
        settings.check_tags({"team": "core", "org": "q"})
    with pytest.raises(ConfigError, match=r"require the tag 'team': give --tag team=VALUE"):
        settings.check_tags({"team": " "})
