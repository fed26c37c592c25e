"""`claude-tui demo`: a tracked session of the real Claude Code CLI, offline, against the bundled stub."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import click

from claude_tui.commands.run import build_config, run_session, session_options


@click.command()
@click.option("--scenario", default="realistic", show_default=True, help="Bundled stub scenario to play.")
@click.option("--keep", is_flag=True, help="Keep the demo's temp config and work dir (printed at the end).")
@session_options
def demo(
    scenario: str,
    keep: bool,
    tracking_uri: str | None,
    experiment: str | None,
    tags: tuple[str, ...],
    alerts: tuple[str, ...],
    no_track: bool,
    no_redact: bool,
    notify_command: str | None,
    no_notify: bool,
) -> None:
    """Run the real `claude` against a local stand-in for the Anthropic API, tracked like any session.

    No account and no network: the CLI talks to a stub on 127.0.0.1 that plays a scripted coding session in
    a scratch git repository. The first prompt is submitted for you; the sidebar shows the follow-up prompt to
    type. /exit ends the session and it is logged to MLflow. The session owner runs it, stub and scratch
    folders included, like any session: ctrl+q asks whether to detach (`claude-tui attach` shows it again)
    or end it; its folders go once it is logged.
    """
    from claude_tui.claude_code import NPM_INSTALL_HINT, find_claude_binary
    from claude_tui.claude_env import DEFAULT_FILES, SCRIPTED_FLAGS, ClaudeEnvironment
    from claude_tui.scenarios import load_scenario, scenario_prompts

    try:
        script = load_scenario(scenario)
    except KeyError as exc:
        raise click.UsageError(str(exc.args[0])) from exc
    binary = find_claude_binary()
    if binary is None:
        click.echo(
            "claude-tui: the demo needs the pinned Claude Code CLI; run `make demo` (it installs it) or "
            f"`{NPM_INSTALL_HINT}`.",
            err=True,
        )
        sys.exit(2)
    prompts = scenario_prompts(script)
    root = Path(tempfile.mkdtemp(prefix="claude-tui-demo-"))
    try:
        # The owner serves the stub (its URL goes into the session's environment there) and removes `root`
        # once the session is logged, unless it is kept (`owner.demo`).
        env = ClaudeEnvironment.create(root, "", files=DEFAULT_FILES, claude_bin=binary)
        config = build_config(
            command=str(binary),
            prompt=prompts[0] if prompts else None,
            claude_args=list(SCRIPTED_FLAGS),
            cwd=env.work_dir,
            tracking_uri=tracking_uri,
            experiment=experiment,
            tags=(*tags, f"demo_scenario={scenario}"),
            alerts=alerts,
            no_track=no_track,
            no_redact=no_redact,
            env=env.env(),
            config_dir=env.config_dir,
            notify_command=notify_command,
            no_notify=no_notify,
        )
    except BaseException:  # a refused option (exit status 2), a failed `git init`: nothing started
        shutil.rmtree(root, ignore_errors=True)
        raise
    demo_request = {"scenario": scenario, "root": str(root), "keep": keep}
    status = run_session(config, hint=demo_hints(prompts), demo=demo_request)
    if status == 2 and not keep and not owner_has(config.session_id):
        shutil.rmtree(root, ignore_errors=True)  # the owner could not start it (the reason is printed)
    if keep:
        click.echo(f"Demo files kept in {root}")
    sys.exit(status)


def owner_has(session_id: str) -> bool:
    """Whether the session owner runs (or ran) the session: then its folders are the owner's to remove."""
    from claude_tui.owner.client import OwnerClient, OwnerError, OwnerNotRunning

    try:
        with OwnerClient.connect() as client:
            return any(s.get("id") == session_id for s in client.list_sessions())
    except (OwnerError, OwnerNotRunning, OSError):
        return False


def demo_hints(prompts: list[str]) -> list[str]:
    """The sidebar's advice, step by step: each follow-up prompt to type, then `/exit` (the first prompt is
    submitted for the user)."""
    done = "Now type /exit to end the session and log it."
    return [f"Next, type:\n  {prompt}\nThen /exit to end and log the session." for prompt in prompts[1:]] + [
        done
    ]
