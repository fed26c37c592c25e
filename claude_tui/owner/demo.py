"""A `claude-tui demo` session in the owner: the stand-in for the Anthropic API it talks to, and its scratch
folders, live as long as the session, like every other session's program (docs/sessions.md).

`claude-tui demo` lays out the scratch folders (`claude_env.ClaudeEnvironment`: Claude's config dir, a home,
a committed git work dir) and asks the owner to start the session with a `demo` entry in its `spawn`
request. The owner serves the scenario on 127.0.0.1 (`stub_api.StubServer`, in a thread of its own) and
points Claude at it, so a window that detaches leaves the demo running and `claude-tui attach` shows it.
Once the session is over (logged, or not) the stub stops and the folders go, unless `--keep` asked to keep
them or the session could not be logged: its spool still points at the transcript in them, for
`claude-tui sync`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_tui.claude_env import stub_url_env

if TYPE_CHECKING:
    from claude_tui.stub_api import StubServer

__all__ = ["DemoSandbox"]


class DemoSandbox:
    """One demo session's stub server and scratch folders, in the owner.

    Args:
        root: the scratch folder `claude-tui demo` laid out (`ClaudeEnvironment.root`).
        stub: the stub serving the scenario (running).
        keep: leave the folders when the session is over (`--keep`).
    """

    def __init__(self, root: Path, stub: StubServer, *, keep: bool = False) -> None:
        self.root = root
        self.stub = stub
        self.keep = keep

    @classmethod
    def start(cls, request: dict[str, Any]) -> DemoSandbox:
        """Serve the scenario a `spawn` request's `demo` entry names (`scenario`, `root`, `keep`).

        Raises:
            KeyError: no such bundled scenario.
            ValueError: `root` is not a demo's scratch folder.
            OSError: the stub could not listen.
        """
        from claude_tui.scenarios import load_scenario
        from claude_tui.stub_api import StubServer

        root = Path(str(request.get("root") or ""))
        if not root.is_absolute() or not (root / "config" / ".claude.json").is_file():
            raise ValueError(f"{root} is not a demo's scratch folder")
        script = load_scenario(str(request.get("scenario") or ""))
        return cls(root, StubServer(script).start(), keep=bool(request.get("keep")))

    def env(self) -> dict[str, str]:
        """The environment overrides that point Claude at this stub."""
        return stub_url_env(self.stub.url)

    def close(self, *, keep_files: bool = False) -> None:
        """Stop the stub; remove the folders unless they are to be kept (`keep`, or `keep_files`: the
        session was not logged). Blocking (the stub's thread is joined): run it off the event loop."""
        self.stub.stop()
        if not (self.keep or keep_files):
            shutil.rmtree(self.root, ignore_errors=True)
