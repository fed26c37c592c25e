"""`python -m claude_tui.owner [--fd N] [--socket PATH]`: run the session owner (normally started by
`claude-tui` itself, see `client.connect_or_start`)."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

from claude_tui.owner.protocol import listen_socket, socket_path
from claude_tui.owner.server import run_owner


def main() -> None:
    """Serve the socket handed over as `--fd` (bound by the process that started us), else bind it."""
    parser = argparse.ArgumentParser(prog="python -m claude_tui.owner")
    parser.add_argument("--fd", type=int, help="a listening socket inherited from the starting process")
    parser.add_argument("--socket", type=Path, help="the socket's path (default: this data dir's)")
    args = parser.parse_args()
    path = args.socket or socket_path()
    listen = socket.socket(fileno=args.fd) if args.fd is not None else listen_socket(path)
    run_owner(path, listen=listen)


main()
