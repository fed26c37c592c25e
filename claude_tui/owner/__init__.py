"""The session owner: one process per data dir that runs every session's program, as tmux's server does.

The owner (`server.OwnerServer`) holds each session's PTY, its emulator, its `TrackedSession` and its end;
UIs and commands are its clients (`client`), over a Unix socket in the data dir (`protocol`). A UI that
quits, or whose terminal closes, leaves the sessions running; `claude-tui attach` shows them again. The
owner never imports Textual or MLflow: a finished session is logged by a detached logger process.
Lifecycle and rules: docs/sessions.md.
"""
