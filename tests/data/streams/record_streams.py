"""Regenerate the byte-stream corpus used by the tmux fidelity tests and the terminal benchmark.

Each stream is what a real program wrote to a pseudo-terminal of the given size (recorded through a PTY,
so line endings are ``\\r\\n`` as a terminal receives them), except ``sequences_*.bin`` which are built here
byte by byte to cover every sequence the emulator must handle. Run from the repository root:

    .venv/bin/python tests/data/streams/record_streams.py [NAME.bin ...]   # all, or only these

The size of each stream is in ``sizes.json`` (the fidelity test replays it at that size).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ptyprocess

HERE = Path(__file__).resolve().parent

SIZES: dict[str, tuple[int, int]] = {
    name: (cols, rows) for name, (cols, rows) in json.loads((HERE / "sizes.json").read_text()).items()
}
"""Each stream's size, shared with the fidelity test through `sizes.json` (add a new stream there)."""


def record(
    argv: list[str], cols: int, rows: int, keys: list[tuple[float, bytes]], cwd: str | None = None
) -> bytes:
    """Run ``argv`` in a PTY of ``cols`` x ``rows``, send ``keys`` (delay, bytes), return all it wrote."""
    env = dict(os.environ, TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8", LESS="", PAGER="less")
    env.pop("LESSOPEN", None)
    proc = ptyprocess.PtyProcess.spawn(argv, cwd=cwd, env=env, dimensions=(rows, cols))
    out = bytearray()
    pending = list(keys)
    next_at = time.monotonic() + (pending[0][0] if pending else 0)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if pending and time.monotonic() >= next_at:
            proc.write(pending.pop(0)[1])
            if pending:
                next_at = time.monotonic() + pending[0][0]
        ready, _, _ = select.select([proc.fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(proc.fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif not proc.isalive() and not pending:
            break
    proc.close(force=True)
    return bytes(out)


CURSES_SCRIPT = r"""
import curses, time
def main(stdscr):
    curses.start_color(); curses.use_default_colors()
    curses.init_pair(1, curses.COLOR_RED, -1); curses.init_pair(2, curses.COLOR_BLACK, curses.COLOR_CYAN)
    h, w = stdscr.getmaxyx()
    for frame in range(6):
        stdscr.erase()
        stdscr.box()
        stdscr.addstr(0, 2, f" frame {frame} ", curses.color_pair(2) | curses.A_BOLD)
        for y in range(1, h - 1):
            text = f"row {y:02d} " + "*" * ((y * 7 + frame * 3) % (w - 12))
            stdscr.addstr(y, 1, text[: w - 2], curses.color_pair(1) if (y + frame) % 3 == 0 else 0)
        stdscr.refresh(); time.sleep(0.05)
    stdscr.addstr(h // 2, w // 2 - 4, "DONE", curses.A_REVERSE); stdscr.refresh(); time.sleep(0.1)
curses.wrapper(main)
print("after curses")
"""


def _sequences_private() -> bytes:
    """Every private-marker CSI and string type Claude Code sends, interleaved with text."""
    parts = [
        b"start\r\n",
        b"\x1b[>0q\x1b[?u\x1b]7501;?\x07\x1b[c",  # Claude's start-up queries
        b"a\x1b[<ub\x1b[>4;2mc\x1b[>4md\x1b[>5ue\x1b[=1;2uf\x1b[=5c\r\n",  # kitty / modifyOtherKeys
        b"\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\apc gone\r\n",  # APC graphics query
        b"\x1bP+q544e\x1b\\dcs gone\r\n\x1b^privacy\x1b\\pm gone\r\n\x1bXsos text\x1b\\sos gone\r\n",
        b"\x1b[?2026h\x1b[?2026lsync ignored\r\n",
        b"\x1b]0;\xe2\x9c\xb3 Claude Code\x07\x1b]2;other title\x1b\\title set\r\n",
        b"\x1b]8;;http://127.0.0.1/\x1b\\link\x1b]8;;\x1b\\ text\r\n",
        b"\x1b[?25l\x1b[?2004h\x1b[?1004h\x1b[?2031h\x1b[?1h\x1b=modes\r\n",
        b"\x1b[?1000h\x1b[?1002h\x1b[?1003h\x1b[?1006hmouse\r\n\x1b[?1003l\x1b[?1006l",
        b"bell\x07\x07 done\r\n",
        b"\x1b[4munder\x1b[24m \x1b[>4;2mnot underlined\r\n",
    ]
    return b"".join(parts)


def _sequences_sgr() -> bytes:
    out = bytearray()
    for i in range(8):
        out += f"\x1b[3{i}mfg{i}\x1b[4{i}mbg{i}\x1b[9{i}mbr{i}\x1b[10{i}mbb{i}\x1b[0m\r\n".encode()
    for n in range(0, 256, 17):
        out += f"\x1b[38;5;{n}m c{n} \x1b[48;5;{255 - n}m b \x1b[m".encode()
    out += b"\r\n"
    for r in range(0, 256, 51):
        out += f"\x1b[38;2;{r};{255 - r};128mtc\x1b[48:2::{r}:0:{r}mTC\x1b[0m".encode()
    out += b"\r\n"
    for code, name in [
        (1, "bold"),
        (2, "dim"),
        (3, "italic"),
        (4, "underline"),
        (5, "blink"),
        (7, "reverse"),
    ]:
        out += f"\x1b[{code}m{name}\x1b[0m ".encode()
    out += b"\x1b[9mstrike\x1b[29m \x1b[4:3mcurly\x1b[4:0m "
    out += b"\x1b[1;2;3;4;7;9mall\x1b[22;23;24;27;29mnone\x1b[m\r\n"
    return bytes(out)


def _sequences_edit() -> bytes:
    """Cursor moves, erases, insert/delete, scroll regions, tabs, wrap, charsets, save/restore, REP."""
    out = bytearray()
    for y in range(1, 15):
        out += f"line {y:02d} ".encode() + b"abcdefghijklmnopqrstuvwxyz0123456789" + b"\r\n"
    out += b"\x1b[3;5H\x1b[K\x1b[4;10H\x1b[1K\x1b[5;1H\x1b[2K"
    out += b"\x1b[6;3H\x1b[3@INS\x1b[7;3H\x1b[4P\x1b[8;3H\x1b[5X"
    out += b"\x1b[9;1H\x1b[2L\x1b[12;1H\x1b[1M"
    out += b"\x1b[2;6r\x1b[6;1H\r\nscrolled in region\r\n\x1b[2;1H\x1bMreverse\x1b[r"
    out += b"\x1b[13;1Ha\tb\tc\t\x1b[2Id\x1b[Ze"
    out += b"\x1b7\x1b[1;40Hsaved\x1b8restored\x1b[s\x1b[2;45Hscosc\x1b[u!"
    out += b"\x1b(0lqqk\x1b(B\x0e x \x0f\x1b[14;1Hrep\x1b[5b"
    out += b"\x1b[14;45Hwrap-around-the-edge\x1b[?7l\x1b[1;45Hnowrap-overwrites\x1b[?7h"
    out += b"\x1b[3S\x1b[1T\x1b[10;20H\x1b[0J"
    out += b"\x1b[1;1H\x1b[6n\x1b[5n"
    return bytes(out)


def _cjk_emoji() -> bytes:
    text = (
        "中文字符测试 漢字 かな カナ 한국어\r\n"
        "emoji: 😀 🎉 🚀 ✅ ❌ 🔥 👍\r\n"
        "wrap: 中文中文中文中文中文中文中文中文中文中文中文中文\r\n"
        "mixed a中b文c😀d\r\n"
        "box: ┌─┐ │x│ └─┘ ● ⎿ ❯\u00a0nbsp\r\n"
        "\x1b[5;3H\x1b[1P\x1b[6;5H\x1b[2@\r\n"
    )
    return text.encode()


def main() -> None:
    """Record every stream into this folder."""
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp, "sample.txt")
        sample.write_text(
            "".join(f"{i:04d} the quick brown fox jumps over the lazy dog\n" for i in range(200))
        )
        script = Path(tmp, "redraw.py")
        script.write_text(CURSES_SCRIPT)
        repo = Path(tmp, "repo")
        repo.mkdir()
        git = ["git", "-C", str(repo), "-c", "user.name=T", "-c", "user.email=t@example.invalid"]
        subprocess.run([*git, "init", "-q"], check=True)
        for i in range(12):
            Path(repo, f"f{i}.txt").write_text(f"{i}\n")
            subprocess.run([*git, "add", "."], check=True)
            subprocess.run([*git, "commit", "-q", "-m", f"commit number {i}\n\nbody {i}"], check=True)
        sleeper = subprocess.Popen(["sleep", "60"])
        streams = {
            "less_file.bin": record(
                ["less", str(sample)], *SIZES["less_file.bin"], [(0.8, b" "), (0.4, b"G"), (0.4, b"q")]
            ),
            "vim_file.bin": record(
                ["vim", "-u", "NONE", "-N", "-n", "-i", "NONE", str(sample)],
                *SIZES["vim_file.bin"],
                [(1.0, b"G"), (0.4, b"ggjj"), (0.4, b":q!\r")],
            ),
            "git_log_color.bin": record(
                [
                    "git",
                    "-C",
                    str(repo),
                    "--no-pager",
                    "log",
                    "--color=always",
                    "--stat",
                    "--decorate",
                    "--graph",
                ],
                *SIZES["git_log_color.bin"],
                [(0.5, b"")],
            ),
            "curses_redraw.bin": record([sys.executable, str(script)], *SIZES["curses_redraw.bin"], []),
            "cjk_emoji.bin": _cjk_emoji(),
            "sequences_private.bin": _sequences_private(),
            "sequences_sgr.bin": _sequences_sgr(),
            "sequences_edit.bin": _sequences_edit(),
            "seq_lines.bin": record(["seq", "1", "3000"], *SIZES["seq_lines.bin"], []),
            # Only a process of our own in the list: the stream must not capture the machine's processes.
            "top.bin": record(["top", "-d", "0.3", "-p", str(sleeper.pid)], *SIZES["top.bin"], [(1.5, b"q")]),
            "watch.bin": record(
                ["watch", "-n", "0.2", "-d", "date +%N; seq 1 5"], *SIZES["watch.bin"], [(1.5, b"q")]
            ),
        }
        sleeper.kill()
        sleeper.wait()
    only = set(sys.argv[1:])
    for name, data in streams.items():
        if only and name not in only:
            continue
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
