"""Counting `git` invocations inside a shell command line.

The rule (documented in docs/parsing.md): split the command on `&&`, `||`, `;`, `|`, `&` and newlines outside
quotes; a segment counts when its command word is `git` (or a path ending in `/git`), after skipping leading
`VAR=value` assignments, the wrappers `sudo`, `env`, `command`, `time` (with their options and option values),
and opening `(`, `{`, `!`. So `cd repo && git add x && git commit -m y` counts 2 and `echo git` counts 0. It
never raises: unbalanced quotes simply run to the end of the line.
"""

from __future__ import annotations

import re
import shlex

_WRAPPERS = frozenset({"sudo", "env", "command", "time"})
# Options of the wrappers that take a value in the next word (`sudo -u bob git ...`).
_OPTIONS_WITH_VALUE = {
    "sudo": frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T", "-R"}),
    "env": frozenset({"-u", "-C", "-S", "--unset", "--chdir", "--split-string"}),
    "time": frozenset({"-f", "-o", "--format", "--output"}),
    "command": frozenset(),
}
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_OPENERS = "({!"


def _is_separator_ampersand(command: str, i: int) -> bool:
    # `&&` and a background `&` separate commands; `2>&1`, `&>file` and `<&3` are redirections.
    if command.startswith("&&", i):
        return True
    before = command[i - 1] if i else ""
    after = command[i + 1] if i + 1 < len(command) else ""
    return before not in ("<", ">") and after != ">"


_SEPARATORS = re.compile(r"&&|\|\||[;\n|]|(?<![<>])&(?!>)")


def split_segments(command: str) -> list[str]:
    """Split a command line into simple commands on `&&`, `||`, `;`, `|`, `&` and newlines outside quotes."""
    if not any(ch in command for ch in "'\"\\"):
        # No quotes or escapes: a regex split gives the same segments, much faster than the scanner below.
        return [s.strip() for s in _SEPARATORS.split(command) if s.strip()]
    return scan_segments(command)


def scan_segments(command: str) -> list[str]:
    """`split_segments` by a quote-aware character scan (what it does when the command has quotes)."""
    segments: list[str] = []
    current: list[str] = []
    quote = ""
    i = 0
    n = len(command)
    while i < n:
        ch = command[i]
        if quote:
            current.append(ch)
            if ch == "\\" and quote == '"' and i + 1 < n:
                current.append(command[i + 1])
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch == "\\" and i + 1 < n:
            # An escaped newline continues the line; any other escaped char is literal text.
            if command[i + 1] != "\n":
                current.append(ch)
                current.append(command[i + 1])
            i += 2
            continue
        elif ch in "'\"":
            quote = ch
            current.append(ch)
        elif ch in ";\n|" or (ch == "&" and _is_separator_ampersand(command, i)):
            segments.append("".join(current))
            current = []
            if command.startswith(("&&", "||"), i):
                i += 1
        else:
            current.append(ch)
        i += 1
    segments.append("".join(current))
    return [s.strip() for s in segments if s.strip()]


def _words(segment: str) -> list[str]:
    if not any(ch in segment for ch in "'\"\\"):
        return segment.split()  # nothing shlex would treat differently, and 10x faster
    try:
        return shlex.split(segment, comments=False, posix=True)
    except ValueError:
        # Unbalanced quotes: plain whitespace words are good enough to find the command word.
        return segment.split()


def command_word(segment: str) -> str | None:
    """The program a simple command runs, after assignments and `sudo`/`env`/`command`/`time` wrappers."""
    words = _words(segment.lstrip(_OPENERS + " \t"))
    i = 0
    while i < len(words):
        word = words[i].lstrip(_OPENERS)
        if not word or _ASSIGNMENT.match(word):
            i += 1
            continue
        if word in _WRAPPERS:
            i += 1
            while i < len(words) and words[i].startswith("-"):
                i += 2 if words[i] in _OPTIONS_WITH_VALUE[word] else 1
            continue
        return word
    return None


def is_git_segment(segment: str) -> bool:
    """True when the simple command runs `git`."""
    word = command_word(segment)
    return word is not None and (word == "git" or word.endswith("/git"))


def count_git_operations(command: str) -> int:
    """How many `git` invocations a Bash command line makes (see the module docstring for the rule)."""
    if not isinstance(command, str) or "git" not in command:
        return 0
    return sum(1 for segment in split_segments(command) if is_git_segment(segment))
