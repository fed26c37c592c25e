"""Counting the `git` commands a Bash command line runs, as bash would run it.

The line is parsed by tree-sitter-bash (a kept bash grammar, C speed, never raises). The rule, documented in
README.md and docs/parsing.md:

- Every simple command counts wherever bash would run it: in lists and pipelines (`&&`, `||`, `;`, `|`, `&`,
  newlines), in compound commands (`if`/`then`/`elif`/`else`, `while`/`until`/`for` ... `do`, `case` items,
  `{ ...; }`, subshells `( ... )`, function bodies), after `!`, and inside command substitutions `$(...)` and
  backticks and process substitutions `<(...)` (also within double quotes and unquoted here-documents).
- Not commands: comments, quoted text (`echo "git x"`, `'$(git x)'`), here-document bodies (`cat <<EOF`).
- A command's word is its first word after `VAR=value` assignments and redirections, with quotes removed
  (`"git"`, `\\git` are git). Wrappers are looked through, skipping their options and option values
  (`sudo -Eu bob`, `sudo --user bob`, `timeout -s KILL 10`): `sudo`, `doas`, `env` (and its `NAME=value`
  words), `command` (but `command -v git` / `command -V git` only look git up: 0), `exec`, `time`, `nice`,
  `ionice`, `nohup`, `timeout`, `stdbuf`, `xargs`, and `find ... -exec/-execdir/-ok/-okdir`.
- `bash`/`sh`/`zsh`/`dash`/`ksh -c 'STRING'` and `eval WORDS` run their text as a command line: it is counted
  the same way (nested up to 3 deep).
- A command counts when its word is `git` or a path ending in `/git`.
- A syntax error (an unbalanced quote, an `if` without `fi`) runs nothing from the line it starts on: bash
  parses a whole line before it runs any of it; lines before it count.

So `cd repo && git add x && git commit -m y` = 2, `echo git` = 0, `git commit -m "a; git b"` = 1,
`echo $(git rev-parse HEAD)` = 1, `# don't panic` newline `git status` = 1, `if git diff --quiet; then` = 1.
A command run by a script, an alias or a function defined elsewhere is not seen. tree-sitter is imported on
the first line that contains `git` (about 30 ms), never before.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

MAX_DEPTH = 3
"""How deeply `bash -c` / `eval` strings are parsed in turn."""


def _options(short: str = "", long: tuple[str, ...] = (), optional: str = "") -> dict[str, Any]:
    """A wrapper's options: short letters and long names that take a value (attached or in the next word),
    and short letters whose value is optional (attached only)."""
    return {"short": frozenset(short), "long": frozenset(long), "optional": frozenset(optional)}


_WRAPPERS: dict[str, dict[str, Any]] = {
    "sudo": _options("ughpCDrtUTR", ("user", "group", "host", "prompt", "close-from", "chdir", "role",
                                      "type", "other-user", "command-timeout", "chroot")),
    "doas": _options("uC"),
    "env": _options("uCS", ("unset", "chdir", "split-string")),
    "command": _options(),
    "exec": _options("a"),
    "time": _options("fo", ("format", "output")),
    "nice": _options("n", ("adjustment",)),
    "ionice": _options("cnp", ("class", "classdata", "pid")),
    "nohup": _options(),
    "timeout": _options("sk", ("signal", "kill-after")),
    "stdbuf": _options("ioe", ("input", "output", "error")),
    "xargs": _options("adEILnPs", ("arg-file", "delimiter", "eof", "max-lines", "max-args", "max-procs",
                                   "max-chars", "process-slot-var"), optional="eil"),
}  # fmt: skip
"""Commands that run another command given in their arguments, with the options that take a value."""

_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh"})
_FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)


@lru_cache(maxsize=1)
def _parser() -> Any:
    import tree_sitter
    import tree_sitter_bash

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))


def _literal(node: Any) -> str | None:
    """The text bash would see after quote removal, or None when it depends on an expansion."""
    kind = node.type
    if kind == "word" or kind == "number":
        text = node.text.decode("utf-8", "replace")
        return _UNESCAPE.sub(r"\1", text) if "\\" in text else text
    if kind == "raw_string":
        quoted: str = node.text.decode("utf-8", "replace")
        return quoted[1:-1]
    if kind == "string":
        parts = []
        for child in node.children:
            if child.type == "string_content":
                parts.append(child.text.decode("utf-8", "replace"))
            elif child.type != '"':
                return None
        return "".join(parts)
    if kind == "concatenation":
        pieces = [_literal(child) for child in node.children]
        return None if any(p is None for p in pieces) else "".join(pieces)  # type: ignore[arg-type]
    return None


def _is_git(word: str | None) -> bool:
    return word is not None and (word == "git" or word.endswith("/git"))


def _skip_options(words: list[str | None], index: int, wrapper: str) -> int:
    """The index of the first word after `wrapper`'s options (and their values)."""
    spec = _WRAPPERS[wrapper]
    while index < len(words):
        word = words[index]
        if word is None or not word.startswith("-") or word == "-":
            break
        index += 1
        if word == "--":
            break
        if word.startswith("--"):
            if "=" not in word and word[2:] in spec["long"]:
                index += 1
            continue
        if wrapper == "nice" and word[1:].isdigit():
            continue  # the obsolete `nice -10 cmd`
        for position, letter in enumerate(word[1:], start=2):
            if letter in spec["optional"]:
                break  # its value, if any, is attached
            if letter in spec["short"]:
                if position == len(word):
                    index += 1  # the value is the next word
                break
    return index


def _git_commands(words: list[str | None], depth: int) -> int:
    """How many git commands one simple command runs: itself, what its wrappers run, what `find -exec` runs,
    and the git commands of a `bash -c` string or `eval` text. A word that depends on an expansion is None."""
    index = 0
    while index < len(words):
        word = words[index]
        if word is None:
            return 0  # `$GIT status`: not knowable without running it
        name = word.rsplit("/", 1)[-1]
        if name not in _WRAPPERS:
            break
        end = _skip_options(words, index + 1, name)
        if name == "command" and any((w or "").startswith(("-v", "-V")) for w in words[index + 1 : end]):
            return 0  # `command -v git` looks git up; it does not run it
        index = end
        if name in ("sudo", "doas", "env"):
            while index < len(words) and _ASSIGNMENT.match(words[index] or ""):
                index += 1
        elif name == "timeout":
            index += 1  # the duration
    else:
        return 0  # a wrapper with no command (`xargs` alone runs echo, `nohup` alone nothing)
    word = words[index]
    assert word is not None
    if _is_git(word):
        return 1
    name = word.rsplit("/", 1)[-1]
    rest = words[index + 1 :]
    if name == "find":
        return sum(1 for i, w in enumerate(rest[:-1]) if w in _FIND_EXEC and _is_git(rest[i + 1]))
    if depth >= MAX_DEPTH:
        return 0
    if name in _SHELLS:
        for position, flag in enumerate(rest[:-1]):
            if flag is None or not flag.startswith("-") or flag.startswith("--"):
                return 0
            if "c" in flag[1:]:
                script = rest[position + 1]
                return _count(script.encode("utf-8", "replace"), depth + 1) if script else 0
        return 0
    if name == "eval" and rest and all(w is not None for w in rest):
        return _count(" ".join(rest).encode("utf-8", "replace"), depth + 1)  # type: ignore[arg-type]
    return 0


def _runnable(root: Any) -> list[Any]:
    """The top-level statements bash would run: bash parses a line before it runs it, so a syntax error
    (an unbalanced quote, an `if` without `fi`) stops everything from the line it starts on."""
    if not root.has_error:
        return list(root.children)
    statements: list[Any] = []
    for child in root.children:
        if child.has_error or child.is_missing:
            limit = child.start_point[0]
            return [s for s in statements if s.end_point[0] < limit]
        statements.append(child)
    return statements


def _count(source: bytes, depth: int) -> int:
    count = 0
    stack = _runnable(_parser().parse(source).root_node)
    while stack:
        node = stack.pop()
        kind = node.type
        if kind == "heredoc_body" and node.child_count == 0:
            continue
        if kind == "command":
            words: list[str | None] = []
            for child in node.children:
                ctype = child.type
                if ctype == "command_name":
                    words.append(_literal(child.children[0]) if child.child_count else None)
                elif words and ctype not in (
                    "file_redirect",
                    "heredoc_redirect",
                    "herestring_redirect",
                    "comment",
                ):
                    words.append(_literal(child))
            count += _git_commands(words, depth)
        if node.child_count:
            stack.extend(node.children)
    return count


_PLAIN = re.compile(r"[\w \t\-./=:@,+%^~&|;\n]*")
"""A line bash reads as words and list operators only: no quoting, expansion, redirection, grouping,
comment, glob or history character."""
_QUOTED = re.compile(r"""(?:[\w \t\-./=:@,+%^~&|;\n]|'[^']*'|"[^"$`\\]*")*""")
"""The same with balanced single and double quotes: anything inside single quotes, and inside double quotes
anything but `$`, a backquote or a backslash (so that everything quoted is literal, as bash reads it)."""
_LIST_OPERATORS = re.compile(r"&&|\|\||[;|&\n]")
_RESERVED = frozenset(
    {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "case", "esac", "select",
     "function", "coproc", "in", "{", "}", "[[", "]]"}
)  # fmt: skip


_QUOTED_TOKEN = re.compile(r"""'[^']*'|"[^"]*"|&&|\|\||[;&|\n]|[^'";&|\n]+""")
_OPERATOR_TOKENS = frozenset({"&&", "||", ";", "&", "|", "\n"})
_QUOTED_WORD = re.compile(r"""(?:[^\s'"]|'[^']*'|"[^"]*")+""")
_QUOTES = re.compile(r"'([^']*)'|\"([^\"]*)\"")


def _quoted_segments(command: str) -> list[str]:
    """A `_QUOTED` line split on the list operators outside its quotes."""
    segments = [""]
    for token in _QUOTED_TOKEN.findall(command):
        if token in _OPERATOR_TOKENS:
            segments.append("")
        else:
            segments[-1] += token
    return segments


def _count_plain(command: str) -> int | None:
    """The count for a line of plain words, quotes and list operators, without parsing it (the same as
    `_count` gives; a test checks that on random lines), or None when the line needs the parser."""
    if command.rstrip().endswith(("&&", "||", "|")):
        return None
    if _PLAIN.fullmatch(command) is not None:
        segments = _LIST_OPERATORS.split(command)
        split_words = _plain_words
    elif _QUOTED.fullmatch(command) is not None:
        segments = _quoted_segments(command)
        split_words = _shell_words
    else:
        return None
    count = 0
    for position, segment in enumerate(segments):
        words = split_words(segment)
        if not words:
            if position == 0 or (position < len(segments) - 1 and segments[position + 1].strip()):
                return None  # an operator with nothing before it: let the parser decide
            continue
        index = 0
        while index < len(words) - 1 and _ASSIGNMENT.match(words[index]):
            index += 1
        if words[index] in _RESERVED:
            return None  # a keyword: let the parser decide
        if split_words is _shell_words:
            # Quotes in an assignment or the command word change what bash makes of it (`"A=1" git` runs a
            # command named A=1): the words up to the command word must be the unquoted ones.
            raw = segment.split()
            if len(raw) <= index or any(q in word for word in raw[: index + 1] for q in "'\""):
                return None
        count += _git_commands(list(words[index:]), 0) if not _ASSIGNMENT.match(words[index]) else 0
    return count


def _plain_words(segment: str) -> list[str]:
    return segment.split()


def _shell_words(segment: str) -> list[str]:
    """The words of a `_QUOTED` segment after quote removal (what shlex.split gives, at regex speed)."""
    return [_QUOTES.sub(r"\1\2", word) for word in _QUOTED_WORD.findall(segment)]


def count_git_operations(command: str) -> int:
    """How many `git` commands a Bash command line runs (see the module docstring for the rule)."""
    if not isinstance(command, str) or "git" not in command:
        return 0
    plain = _count_plain(command)
    return plain if plain is not None else _count(command.encode("utf-8", "replace"), 0)
