"""A tracked process's lifecycle: the endpoint Claude Code's hooks post to, the hooks claude-tui registers,
the typed events they become, and the state machine the session core folds them into.

- `endpoint`: one 127.0.0.1 HTTP listener per process, routing by a per-session secret (hooks, telemetry);
- `hooks`: the `--settings` JSON that registers our hooks, merged with the user's; whether policy blocks them;
- `events`: posted payloads as `HookEvent`s, and the bell/title/transcript signals that stand in for hooks;
- `state`: `Lifecycle`, the state (working / waiting for you / idle / ended), conversations and time.

Nothing here imports Textual or mlflow; `endpoint` and `hooks` are light enough for the entry point.
"""
