"""An isolated environment for running the real Claude Code CLI offline, for tests and `claude-tui demo`.

`ClaudeEnvironment.create(root, base_url)` lays out, under `root`:

- `config/`  - the `CLAUDE_CONFIG_DIR`, with a `.claude.json` that marks onboarding done, the dark theme
  chosen, the work dir trusted and the API key approved (without these the interactive CLI stops at
  "Unable to connect to Anthropic services" or "Not logged in");
- `home/`    - `HOME`, so nothing the CLI or git does reads or writes the real home;
- `work/`    - the work dir, a git repository with one commit.

`env()` gives the variables to run `claude` with (pointing `ANTHROPIC_BASE_URL` at the stub), `argv()` the
command line of a scripted run, and `transcript_path(session_id)` where the CLI wrote the session.
Pure stdlib. The interactive driver the tests use (pexpect + pyte) is `tests/support/claude_cli.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_tui.claude_code import ENV_CLAUDE_BIN, PROJECTS, SUBAGENTS, find_claude_binary, find_transcript

if TYPE_CHECKING:
    from claude_tui.stub_api import StubServer

FAKE_API_KEY = "sk-ant-api03-offline-stub-key-0000000000000000000000000000000000000000-AAAAAA"
"""The API key passed to the CLI; the stub accepts anything, the CLI only needs one it has approved."""

SCRIPTED_TOOLS: tuple[str, ...] = (
    "Bash",
    "Read",
    "Write",
    "Edit",
    "Glob",
    "Grep",
    "Task",
    "Agent",
    "TodoWrite",
    "NotebookEdit",
)
"""Tools allowed without a permission prompt in scripted runs (sub-agents run as `Task`/`Agent`)."""

SCRIPTED_FLAGS: tuple[str, ...] = ("--permission-mode", "acceptEdits", "--allowedTools", *SCRIPTED_TOOLS)
"""Flags for unattended runs: no permission prompts, and no classifier side query per tool call."""

DEFAULT_FILES: dict[str, str] = {
    "README.md": "# greeter\n\nA tiny project that greets people.\n",
    "app.py": (
        'def greet(name):\n    return "Hello " + name\n\n\n'
        'if __name__ == "__main__":\n    print(greet("world"))\n'
    ),
}
"""The work dir's initial commit; the bundled scenarios read and edit these files."""

STUB_URL_VARIABLES: tuple[str, ...] = (
    "ANTHROPIC_BASE_URL",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
)
"""The variables that hold the stub's URL: the API's base URL, and the proxy every other host goes through
(the stub refuses and records such requests)."""


def stub_url_env(base_url: str) -> dict[str, str]:
    """The variables that point the CLI at the stub at `base_url` (`STUB_URL_VARIABLES`)."""
    return dict.fromkeys(STUB_URL_VARIABLES, base_url)


# Inherited from the caller's environment (everything else is left out so the user's own Claude, proxy and
# MLflow settings cannot leak into a test run).
_PASSTHROUGH = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT")


def claude_json(work_dir: Path, api_key: str) -> dict[str, Any]:
    """The `.claude.json` contents that let the CLI start straight into its prompt box, offline."""
    return {
        "hasCompletedOnboarding": True,
        "theme": "dark",
        "numStartups": 1,
        "autoUpdates": False,
        "customApiKeyResponses": {"approved": [api_key[-20:]], "rejected": []},
        "projects": {
            str(work_dir): {
                "hasTrustDialogAccepted": True,
                "hasCompletedProjectOnboarding": True,
                "allowedTools": [],
            }
        },
    }


def _git(work_dir: Path, env: Mapping[str, str], *args: str) -> None:
    subprocess.run(["git", *args], cwd=work_dir, env=dict(env), check=True, capture_output=True, timeout=60)


@dataclass
class ClaudeEnvironment:
    """An isolated config dir, home and git work dir for one or more runs of the real CLI."""

    root: Path
    """The folder holding `config/`, `home/` and `work/`."""
    base_url: str
    """Where the CLI sends API requests (the stub's URL)."""
    api_key: str = FAKE_API_KEY
    claude_bin: Path | None = field(default_factory=find_claude_binary)
    term: str = "xterm-256color"
    renderer: str = "default"
    """The CLI's `tui` setting: "default" (main screen, output scrolls away) or "fullscreen" (alt screen)."""
    stub: StubServer | None = field(default=None, repr=False)
    """The stub serving `base_url`, when the caller started one (the test fixture does)."""

    @property
    def config_dir(self) -> Path:
        """`CLAUDE_CONFIG_DIR`: `.claude.json`, `projects/<dir>/<session>.jsonl`, settings."""
        return self.root / "config"

    @property
    def home(self) -> Path:
        """`HOME` for the CLI and git."""
        return self.root / "home"

    @property
    def work_dir(self) -> Path:
        """The CLI's working directory: a git repository with an initial commit."""
        return self.root / "work"

    @property
    def tmp_dir(self) -> Path:
        """`TMPDIR`: the CLI keeps background-task output and shell snapshots here."""
        return self.root / "tmp"

    @property
    def projects_dir(self) -> Path:
        """Where the CLI writes transcripts."""
        return self.config_dir / PROJECTS

    @classmethod
    def create(
        cls,
        root: str | Path,
        base_url: str,
        *,
        files: Mapping[str, str] | None = None,
        api_key: str = FAKE_API_KEY,
        claude_bin: Path | None = None,
        renderer: str = "default",
    ) -> ClaudeEnvironment:
        """Lay out config, home and a committed git work dir under `root` (created if missing).

        `files` (relative path -> text) are written into the work dir before the initial commit; `renderer`
        is the CLI's `tui` setting ("default" or "fullscreen").
        """
        root = Path(root).resolve()
        env = cls(root=root, base_url=base_url, api_key=api_key, renderer=renderer)
        if claude_bin is not None:
            env.claude_bin = claude_bin
        for folder in (env.config_dir, env.home, env.work_dir, env.tmp_dir):
            folder.mkdir(parents=True, exist_ok=True)
        env.write_config()
        env.init_git(DEFAULT_FILES if files is None else files)
        return env

    def write_config(self) -> None:
        """Write `.claude.json` and a `settings.json` that keeps the CLI quiet and offline."""
        (self.config_dir / ".claude.json").write_text(
            json.dumps(claude_json(self.work_dir, self.api_key), indent=2)
        )
        settings = {
            "autoUpdates": False,
            "includeCoAuthoredBy": False,
            "cleanupPeriodDays": 3650,
            # 2.1.328 picks its alt-screen "fullscreen" renderer on its own (a trial); pin the choice so
            # captures and screen tests do not depend on it.
            "tui": self.renderer,
        }
        (self.config_dir / "settings.json").write_text(json.dumps(settings, indent=2))

    def init_git(self, files: Mapping[str, str]) -> None:
        """Make the work dir a git repository whose first commit holds `files`."""
        genv = self.env()
        for rel, text in files.items():
            path = self.work_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        if not (self.work_dir / ".git").exists():
            _git(self.work_dir, genv, "init", "-q", "-b", "main")
        _git(self.work_dir, genv, "add", "-A")
        _git(self.work_dir, genv, "commit", "-q", "--allow-empty", "-m", "Initial commit")

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The complete environment for `claude` (and git) in this sandbox; nothing else is inherited."""
        env = {key: os.environ[key] for key in _PASSTHROUGH if key in os.environ}
        env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
        env.setdefault("LANG", "C.UTF-8")
        env.update(
            {
                "HOME": str(self.home),
                "TMPDIR": str(self.tmp_dir),
                "USER": os.environ.get("USER", "claude"),
                "TERM": self.term,
                "COLORTERM": "truecolor",
                "CLAUDE_CONFIG_DIR": str(self.config_dir),
                "ANTHROPIC_API_KEY": self.api_key,
                "DISABLE_AUTOUPDATER": "1",
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                # 2.1.328 still fetches these at interactive start-up despite the two switches above: the
                # official plugin marketplace (downloads.claude.ai, github.com) and the model catalog.
                "CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL": "1",
                "CLAUDE_CODE_MODEL_CATALOG": "off",
                "DISABLE_TELEMETRY": "1",
                "DISABLE_ERROR_REPORTING": "1",
                "DISABLE_BUG_COMMAND": "1",
                "CLAUDE_CODE_ENABLE_TELEMETRY": "0",
                # Anything that is not for 127.0.0.1 goes to the stub as proxy, which refuses and records it.
                **stub_url_env(self.base_url),
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
                "GIT_AUTHOR_NAME": "Claude TUI Test",
                "GIT_AUTHOR_EMAIL": "test@example.invalid",
                "GIT_COMMITTER_NAME": "Claude TUI Test",
                "GIT_COMMITTER_EMAIL": "test@example.invalid",
                "GIT_CONFIG_NOSYSTEM": "1",
            }
        )
        if extra:
            env.update(extra)
        return env

    def argv(
        self,
        prompt: str | None = None,
        *,
        session_id: str | None = None,
        extra: Sequence[str] = (),
    ) -> list[str]:
        """The command line of a scripted run: non-interactive stream-json with `prompt`, else interactive."""
        if self.claude_bin is None:
            raise FileNotFoundError(f"no claude binary found (set ${ENV_CLAUDE_BIN} or run `make setup`)")
        argv = [str(self.claude_bin)]
        if session_id:
            argv += ["--session-id", session_id]
        argv += list(SCRIPTED_FLAGS)
        if prompt is not None:
            argv += ["-p", prompt, "--output-format", "stream-json", "--verbose"]
        argv += list(extra)
        return argv

    def run(
        self,
        prompt: str,
        *,
        session_id: str | None = None,
        resume: str | None = None,
        timeout: float = 180.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run one non-interactive scripted prompt in the work dir and wait for it.

        `session_id` starts a session with that id; `resume` continues an existing one (same transcript).
        """
        extra = ["--resume", resume] if resume else []
        return subprocess.run(
            self.argv(prompt, session_id=session_id, extra=extra),
            cwd=self.work_dir,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def run_session(
        self, prompts: Sequence[str], session_id: str, *, timeout: float = 180.0
    ) -> list[subprocess.CompletedProcess[str]]:
        """Run several prompts as one session (the first starts `session_id`, the rest resume it).

        Stops after the first run that fails; check each result's `returncode`.
        """
        results: list[subprocess.CompletedProcess[str]] = []
        for index, prompt in enumerate(prompts):
            if index == 0:
                done = self.run(prompt, session_id=session_id, timeout=timeout)
            else:
                done = self.run(prompt, resume=session_id, timeout=timeout)
            results.append(done)
            if done.returncode != 0:
                break
        return results

    def transcript_path(self, session_id: str) -> Path | None:
        """The transcript of a session, if the CLI wrote one (`projects/*/<session_id>.jsonl`)."""
        return find_transcript(self.config_dir, session_id)

    def transcripts(self) -> list[Path]:
        """All main-session transcripts the CLI wrote (not the files under `<session>/subagents/`)."""
        return sorted(self.projects_dir.glob("*/*.jsonl"))

    def subagent_transcripts(self, session_id: str) -> list[Path]:
        """The sub-agent transcripts of a session (`projects/*/<session_id>/subagents/*.jsonl`)."""
        return sorted(self.projects_dir.glob(f"*/{session_id}/{SUBAGENTS}/*.jsonl"))
