"""Mask secrets before anything leaves the machine: API keys, private keys, bearer tokens, password values.

Every rule keeps a recognisable prefix (`sk-ant-***REDACTED***`, `password=***REDACTED***`) so a reader
still sees *what* was there. Rules anchor on word boundaries so ordinary words (`task-list`, `risk-free`,
`input_tokens: 12`) are left alone. Works on raw text, on JSON text (also with escaped quotes, as in a
transcript's nested JSON), and recursively on dicts and lists.

The vendor shapes with a fixed form come from detect-secrets' plugins (`LIBRARY_PLUGINS`, their `denylist`
patterns, loaded at the first redaction); the hand rules here cover what it has no plugin for (Anthropic,
Google, Hugging Face keys, private key blocks and their lines, `password=`-style names, bearer headers).
No textual, no mlflow.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import accumulate
from typing import Any, NamedTuple

MASK = "***REDACTED***"
"""What replaces a secret."""

_Rule = tuple[Any, Callable[[Any], str]]
"""(pattern, replacement): the pattern is an `re.Pattern`, an `_Anchored` or a `_Spread` (all have finditer
and sub; their matches have `span()` and `group(0)`)."""


def _sub(matches: Iterator[Any], repl: Callable[[Any], str], text: str) -> str:
    """`text` with every one of `matches` (left to right, not overlapping) replaced by `repl(match)`."""
    out: list[str] = []
    last = 0
    for match in matches:
        start, end = match.span()
        out.append(text[last:start])
        out.append(repl(match))
        last = end
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


_LOWERED: list[tuple[str, str]] = []


def _lowered(text: str) -> str:
    """`text.lower()`, computed once for the text every anchored rule in turn searches (a 5 MB recording is
    lowered once, not once per rule)."""
    last = _LOWERED[0] if _LOWERED else None
    if last is not None and last[0] is text:
        return last[1]
    lower = text.lower()
    if len(text) > 4096:  # small texts are cheap to lower; keep only what is worth keeping
        _LOWERED[:] = [(text, lower)]
    return lower


class _Anchored:
    """A case-insensitive rule tried only where one of its start words occurs.

    `re.IGNORECASE` turns off the regex engine's literal-prefix search, so a case-insensitive rule would try
    every position of a long recording. Instead the lowered text is searched for the start words (a fast,
    case-sensitive literal search) and the rule is matched only there.
    """

    def __init__(self, pattern: str, starts: tuple[str, ...]) -> None:
        self.regex = re.compile(pattern, re.IGNORECASE)
        self.pattern = pattern
        self.starts = starts
        self._starts = re.compile("|".join(re.escape(s) for s in starts))

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """Matches in `text`, left to right, not overlapping (like `re.Pattern.finditer`)."""
        lower = _lowered(text)
        if len(lower) != len(text):
            # A few characters change length when lowered: offsets would not line up.
            yield from self.regex.finditer(text)
            return
        pos = 0
        if len(lower) > 4096:
            starts: Iterable[int] = _word_positions(lower, self.starts)
        else:  # one regex call costs less than a search per word on a short text (a recording's event)
            starts = (hit.start() for hit in self._starts.finditer(lower))
        for start in starts:
            if start < pos:
                continue
            match = self.regex.match(text, start)
            if match is not None:
                yield match
                pos = max(match.end(), start + 1)

    def sub(self, repl: Callable[[re.Match[str]], str], text: str) -> str:
        """`text` with every match replaced by `repl(match)` (like `re.Pattern.sub`)."""
        return _sub(self.finditer(text), repl, text)


_POSITIONS: list[tuple[str, tuple[str, ...], list[int]]] = []


def _word_positions(lower: str, words: tuple[str, ...]) -> list[int]:
    """Where any of `words` starts in `lower`, in order (overlapping hits too), each word found by `str.find`.

    One regex alternation of the words stops at every `a`, `c`, `p`, `s` and `t` of the text to try them all;
    a search per word skips ahead in C. The secret-name rules share the start words: the positions of the
    last text are kept for the next rule (the text is the same unless the rule before changed it).
    """
    last = _POSITIONS[0] if _POSITIONS else None
    if last is not None and last[0] is lower and last[1] == words:
        return last[2]
    found: list[int] = []
    for word in words:
        find = lower.find
        at = find(word)
        while at >= 0:
            found.append(at)
            at = find(word, at + 1)
    found.sort()
    _POSITIONS[:] = [(lower, words, found)]
    return found


def _keep(group: str) -> Callable[[re.Match[str]], str]:
    """A replacement that keeps the named group (the prefix) and masks the rest of the match."""
    return lambda m: f"{m.group(group)}{MASK}"


# Names whose value is a secret: the key must END with one of these (so `input_tokens`, `max_tokens`,
# `token_count` or `monkey` are not secrets, while `GITHUB_TOKEN`, `db_password`, `api_key` are). The rules
# match from the keyword on; the rest of the name stays in front of the mask. (Matching from the start of
# the name made the regex engine try every position of every word: ten times slower on a long recording.)
_SECRET_NAME = (
    r"(?:password|passwd|passphrase|secret|token|(?:api|access|secret|private|auth)[_-]?key|credentials?)"
)
_SECRET_NAME_RE = re.compile(rf"(?i)^[A-Za-z0-9_.-]*?{_SECRET_NAME}$")
_NAME_STARTS = ("pass", "secret", "token", "api", "access", "private", "auth", "credential")
"""What every `_SECRET_NAME` alternative starts with (lowercase)."""

# Every rule starts with a literal (a lookbehind checks the character before it), so the regex engine can
# skip ahead to candidates instead of trying a lookbehind at every position.
_RULES: list[_Rule] = [
    # Private key blocks (PEM), whole; also a block cut off before its END line (a truncated preview).
    (
        re.compile(
            r"(?P<p>-----BEGIN (?P<kind>[A-Z0-9 ]*)PRIVATE KEY-----).*?"
            r"-----END (?P=kind)PRIVATE KEY-----",
            re.S,
        ),
        lambda m: f"{m.group('p')}{MASK}-----END {m.group('kind')}PRIVATE KEY-----",
    ),
    (
        re.compile(
            r"(?P<p>-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)(?!\*\*\*REDACTED)"
            r"(?:[A-Za-z0-9+/=\s:,.-]|\\+[nr])*"
        ),
        _keep("p"),
    ),
    # Vendor API keys with a fixed prefix.
    (re.compile(r"(?P<p>sk-ant-)(?<![A-Za-z0-9]sk-ant-)[A-Za-z0-9_-]{8,}"), _keep("p")),
    (re.compile(r"(?P<p>sk-)(?<![A-Za-z0-9_-]sk-)(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{16,}"), _keep("p")),
    (re.compile(r"(?P<p>A[KS]IA)(?<![A-Za-z0-9]A[KS]IA)[0-9A-Z]{16}(?![0-9A-Za-z])"), _keep("p")),
    (re.compile(r"(?P<p>github_pat_)(?<![A-Za-z0-9]github_pat_)[A-Za-z0-9_]{20,}"), _keep("p")),
    (re.compile(r"(?P<p>gh[pousr]_)(?<![A-Za-z0-9]gh[pousr]_)[A-Za-z0-9]{20,}"), _keep("p")),
    (re.compile(r"(?P<p>xox[abposr]-)(?<![A-Za-z0-9]xox[abposr]-)[A-Za-z0-9-]{8,}"), _keep("p")),
    # Shapes detect-secrets (the library rules below) has no plugin for: Google API keys, Hugging Face
    # and npm tokens outside an .npmrc line.
    (re.compile(r"(?P<p>AIza)(?<![A-Za-z0-9]AIza)[0-9A-Za-z_-]{30,}"), _keep("p")),
    (re.compile(r"(?P<p>hf_)(?<![A-Za-z0-9_]hf_)[A-Za-z0-9]{30,}"), _keep("p")),
    (re.compile(r"(?P<p>npm_)(?<![A-Za-z0-9_]npm_)[A-Za-z0-9]{36}(?![A-Za-z0-9])"), _keep("p")),
    # JSON Web Tokens (header.payload.signature, base64url; the header always starts `{"` = `eyJ`).
    (
        re.compile(
            r"(?P<p>eyJ)(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{8,}"
        ),
        _keep("p"),
    ),
    # HTTP auth headers and bare bearer tokens.
    (
        _Anchored(r"(?P<p>authorization\s*[:=]\s*(?:bearer|basic|token)\s+)[^\s\"'\\]+", ("authorization",)),
        _keep("p"),
    ),
    (_Anchored(r"(?P<p>bearer\s+)(?<![A-Za-z0-9_]bearer\s)[A-Za-z0-9._~+/=-]{16,}", ("bearer",)), _keep("p")),
    # user:password@ in URLs.
    (re.compile(r"(?P<p>://[^:/\s@\"']+:)(?![0-9]*(?:/|$))[^@\s\"'<>]+(?=@[^\s@/\"']+)"), _keep("p")),
    # key = "quoted value" (also JSON `"key": "value"` and escaped `\"key\": \"value\"`).
    (
        _Anchored(
            rf"(?P<p>{_SECRET_NAME}\\?[\"']?\s*[:=]\s*(?P<q>\\?[\"']))"
            r"(?!(?:(?!(?P=q)).)*\*\*\*REDACTED)(?P<v>(?:(?!(?P=q)).){1,500}?)(?P=q)",
            _NAME_STARTS,
        ),
        lambda m: f"{m.group('p')}{MASK}{m.group('q')}",
    ),
    # key=value unquoted (shell, env files, URLs' query strings, YAML).
    (
        _Anchored(
            rf"(?P<p>{_SECRET_NAME}\s*[:=]\s*)"
            r"(?![^\s\"'\\,;&<>]*\*\*\*REDACTED)(?P<v>[^\s\"'\\,;&<>(){}\[\]=$][^\s\"'\\,;&<>]*)",
            _NAME_STARTS,
        ),
        _keep("p"),
    ),
    # --password VALUE / --token=VALUE on command lines.
    (
        _Anchored(
            r"(?P<p>--(?:password|passwd|token|api-key|secret|access-key)[= ])(?!\*\*\*)[^\s\"'\\]+", ("--",)
        ),
        _keep("p"),
    ),
]


LIBRARY_PLUGINS = (
    "aws:AWSKeyDetector:0",
    "azure_storage_key:AzureStorageKeyDetector",
    "basic_auth:BasicAuthDetector:group",
    "github_token:GitHubTokenDetector",
    "gitlab_token:GitLabTokenDetector",
    "jwt:JwtTokenDetector",
    "npm:NpmDetector:group",
    "openai:OpenAIDetector",
    "pypi_token:PypiTokenDetector",
    "sendgrid:SendGridDetector",
    "slack:SlackDetector",
    "square_oauth:SquareOAuthDetector",
    "stripe:StripeDetector",
    "twilio:TwilioKeyDetector",
)
"""detect-secrets' plugins (`module:class[:N]`: only its N-th pattern; `[:group]`: its first group is the
secret, the rest is context) whose patterns are masked too:
the vendor shapes with a fixed form. Left out: its keyword and entropy plugins (the name rules above do
that job without masking every commit hash), and Discord, Telegram, Mailchimp, Artifactory and IBM, whose
patterns have no fixed start (each pass over a 5 MB recording cost 50-200 ms) or match ordinary words."""

_TOKEN_TAIL = re.compile(r"[A-Za-z0-9_\-.+/=]*")
"""A library pattern may match only the first part of a token (Stripe's: 24 characters of a key that has up
to 99): the mask runs on to the token's end."""
_VENDOR_PREFIX = re.compile(
    r"(?:[A-Za-z][A-Za-z0-9]{0,7}[_.\-]){1,2}|AccountKey=|https://hooks\.slack\.com/services/"
)
"""What a library match keeps before the mask (`sk_live_`, `glpat-`, `SG.`, `AccountKey=`), like the hand
rules' prefixes."""


class _LibraryFound(NamedTuple):
    """A library rule's hit: the span masked, the prefix kept in front of the mask, the secret value."""

    start: int
    end: int
    prefix: str
    value: str

    def span(self) -> tuple[int, int]:
        return self.start - len(self.prefix), self.end

    def group(self, index: int | str = 0) -> str:
        return self.prefix if index == "p" else self.value if index == "v" else self.prefix + self.value

    def groupdict(self) -> dict[str, str]:
        return {"p": self.prefix, "v": self.value}


class _LibraryRule:
    """One detect-secrets pattern as a masking rule (`finditer`/`sub` like the hand rules).

    With `secret_group` only the pattern's first group is masked (basic auth: the password); otherwise the
    whole token after its vendor prefix. Case-insensitive patterns are tried only where their literal start
    occurs (as `_Anchored` does), not at every position of a long recording.
    """

    def __init__(self, regex: re.Pattern[str], secret_group: bool = False) -> None:
        self.regex = regex
        self.secret_group = secret_group
        self._anchored: _Anchored | None = None
        self._required = ""
        if regex.flags & re.IGNORECASE:
            start = _literal_start(regex.pattern)
            if start:
                self._anchored = _Anchored(regex.pattern, (start.lower(),))
        else:
            self._required = _required_literal(regex.pattern)

    def finditer(self, text: str) -> Iterator[_LibraryFound]:
        """The hits in `text`, left to right, not overlapping."""
        if self._required not in text:
            return
        matches = self._anchored.finditer(text) if self._anchored else self.regex.finditer(text)
        for match in matches:
            if self.secret_group:
                start, end = match.span(1)
                if start < end:
                    yield _LibraryFound(start, end, "", text[start:end])
                continue
            start = match.start()
            end = _TOKEN_TAIL.match(text, match.end()).end()  # type: ignore[union-attr]
            token = text[start:end].rstrip(".")
            prefix = _VENDOR_PREFIX.match(token)
            kept = prefix.group(0) if prefix and len(token) - prefix.end() >= 8 else ""
            yield _LibraryFound(start + len(kept), start + len(token), kept, token[len(kept) :])

    def sub(self, repl: Callable[[_LibraryFound], str], text: str) -> str:
        """`text` with every hit replaced by `repl(hit)`."""
        return _sub(self.finditer(text), repl, text)


def _required_literal(pattern: str) -> str:
    """The longest run of literal characters every match of a (case-sensitive) regex holds, or ''.

    Read from the regex's parse: a literal at the top level of the pattern (not inside a group, an
    alternation or a repeat) is in every match. A text without it holds no match, and `str.find` says so
    faster than the regex engine (`//.+/:_authToken=` tried every `//` of a transcript's URLs to the line's
    end; `(?:r|s)k_live_` stopped at every `r` and `s`).
    """
    try:
        from re import _constants, _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(pattern)
    except Exception:  # another Python's internals: no shortcut, the regex alone decides
        return ""
    if parsed.state.flags & re.IGNORECASE:
        return ""
    runs = [""]
    for op, value in parsed:
        if op is _constants.LITERAL:
            runs[-1] += chr(value)
        else:
            runs.append("")
    return max(runs, key=len)


def _literal_start(pattern: str) -> str:
    """The literal characters a regex source starts with (`xox` of `xox(?:a|b)-...`), or ''."""
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and not pattern[i + 1].isalnum():
            out.append(pattern[i + 1])
            i += 2
        elif char.isalnum() or char in ":/-_=,;'\" ":
            out.append(char)
            i += 1
        else:
            break
    if out and i < len(pattern) and pattern[i] in "?*{":
        out.pop()  # the last character is optional or repeated
    return "".join(out)


class _PemBodyLines:
    """The body lines of a private key printed apart from its BEGIN and END lines.

    `env | sort` prints a key held in a variable with its lines sorted among the others; no block rule sees
    them together. In a text that holds a `PRIVATE KEY` marker, a line that is nothing but 16 or more base64
    characters (mixed case) is taken for a key line. Lines end at real or escaped (`\\n` in JSON) line breaks.
    """

    _LINE = re.compile(
        r"(?P<p>(?:^|(?<=\n)|(?<=\r)|(?<=\\n)|(?<=\\r)|(?<=\"))[ \t⎿│]*)"
        r"(?P<v>[A-Za-z0-9+/]{16,}={0,2})(?=[ \t]*(?:\\+[nr]|\r|\n|\"|$))",
        re.M,
    )
    """The definition: a line start (real, escaped, or a JSON string's), indentation, the key line."""
    _AFTER_BREAK = re.compile(
        r"(?:[\n\r\"]|\\[nr])(?P<p>[ \t⎿│]*)(?P<v>[A-Za-z0-9+/]{16,}={0,2})(?=[ \t]*(?:\\+[nr]|\r|\n|\"|$))",
        re.M,
    )
    """`_LINE` after the text's first character, with the line break (or quote) taken into the match, not
    looked behind for: the regex engine then skips in C to the next break, where `_LINE`'s six lookbehinds
    were tried at every position of the text (a fifth of a session's redaction)."""

    def finditer(self, text: str) -> Iterator[_LibraryFound]:
        """Key lines in `text` (none unless it holds a private key marker)."""
        if "PRIVATE KEY" not in text:
            return
        first = self._LINE.match(text)
        matches: list[re.Match[str]] = [] if first is None else [first]
        for match in [*matches, *self._AFTER_BREAK.finditer(text, first.end() if first else 0)]:
            value = match.group("v")
            if any(c.isupper() for c in value) and any(c.islower() for c in value):
                yield _LibraryFound(match.start("v"), match.end(), match.group("p"), value)

    def sub(self, repl: Callable[[_LibraryFound], str], text: str) -> str:
        """`text` with every key line replaced by `repl(match)`."""
        return _sub(self.finditer(text), repl, text)


_ALL_RULES: list[_Rule] = []


def _rules() -> list[_Rule]:
    """The hand rules, the PEM body lines, then detect-secrets' vendor patterns (loaded on first use)."""
    if not _ALL_RULES:
        import importlib

        import detect_secrets.plugins  # noqa: F401 - a static import, so the dependency shows in the graph

        library: list[_Rule] = []
        for entry in LIBRARY_PLUGINS:
            module, name, *option = entry.split(":")
            plugin = getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), name)()
            patterns = list(plugin.denylist)
            if option and option[0].isdigit():
                patterns = [patterns[int(option[0])]]
            for regex in patterns:
                rule = _LibraryRule(regex, secret_group=option == ["group"])
                library.append((rule, lambda m: f"{m.groupdict()['p']}{MASK}"))
        _SHORTEST[0] = min(_shortest_match(rule) for rule, _ in [*_RULES, *library])
        _ALL_RULES[:] = [*_RULES, (_PemBodyLines(), _keep("p")), *library]
    return _ALL_RULES


def redact_text(text: str) -> str:
    """`text` with every secret masked (its recognisable prefix kept)."""
    rules = _rules()
    if len(text) < _SHORTEST[0]:  # shorter than any rule's match (a tool name, a number, a path piece)
        return text
    for pattern, replace in rules:
        text = pattern.sub(replace, text)
    return text


_SHORTEST = [0]
"""The fewest characters any rule's match has (set with the rules): a shorter text holds no secret."""


def _shortest_match(rule: Any) -> int:
    """The fewest characters a match of one rule has, from its regex's parse (0: unknown)."""
    if isinstance(rule, _PemBodyLines):
        return len("PRIVATE KEY")  # in the text, or nothing matches
    regex = getattr(rule, "regex", rule)
    try:
        from re import _parser  # type: ignore[attr-defined]

        return int(_parser.parse(regex.pattern, regex.flags).getwidth()[0])
    except Exception:  # another Python's internals: no shortcut
        return 0


def redact_obj(obj: Any) -> Any:
    """A copy of `obj` with secrets masked in every string, recursively through dicts, lists and tuples.

    A string value under a key that names a secret (`password`, `api_key`, `GITHUB_TOKEN`) is masked whole.
    """
    return _redact_obj(obj, redact_text)


def _redact_obj(obj: Any, text: Callable[[str], str]) -> Any:
    """`redact_obj` with `text` as the masking of one string."""
    if isinstance(obj, str):
        return text(obj)
    if isinstance(obj, dict):
        out: dict[Any, Any] = {}
        for key, value in obj.items():
            if isinstance(key, str) and isinstance(value, str) and value and _SECRET_NAME_RE.match(key):
                out[key] = MASK
            else:
                out[text(key) if isinstance(key, str) else key] = _redact_obj(value, text)
        return out
    if isinstance(obj, list):
        return [_redact_obj(v, text) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_redact_obj(v, text) for v in obj)
    return obj


def redact_chunks(chunks: Sequence[str]) -> list[str]:
    """Redact a stream that arrived in pieces (a recording's output events) as if it were one text.

    A secret split over two chunks (the PTY delivers bytes in arbitrary pieces) is still found; its mask goes
    into the chunk where the secret started and the rest of it is dropped from the following chunks, so the
    number of chunks (and their timing) is kept.
    """
    return _redact_chunks(chunks, _rules(), redact_text)


def _redact_chunks(chunks: Sequence[str], rules: Sequence[_Rule], finish: Callable[[str], str]) -> list[str]:
    joined = "".join(chunks)
    if finish(joined) == joined:
        return list(chunks)
    # Find the secret spans on the joined text, then rebuild each chunk from the parts outside the spans.
    spans: list[tuple[int, int, str]] = []
    for pattern, replace in rules:
        new_spans: list[tuple[int, int, str]] = []
        for match in pattern.finditer(joined):
            start, end = match.span()
            if any(s < end and start < e for s, e, _ in spans):
                continue
            new_spans.append((start, end, replace(match)))
        spans.extend(new_spans)
    spans.sort()
    out: list[str] = []
    chunk_start = 0
    first = 0  # the first span that may still overlap the current chunk
    for chunk in chunks:
        chunk_end = chunk_start + len(chunk)
        pieces: list[str] = []
        cursor = chunk_start
        while first < len(spans) and spans[first][1] <= chunk_start:
            first += 1
        for start, end, replacement in spans[first:]:
            if start >= chunk_end:
                break
            if start >= chunk_start:
                pieces.append(joined[cursor:start])
                pieces.append(replacement)
            # A span that started in an earlier chunk: its rest is dropped from this one.
            cursor = max(cursor, min(end, chunk_end))
        pieces.append(joined[cursor:chunk_end])
        out.append("".join(pieces))
        chunk_start = chunk_end
    # Rules that rewrite inside a span found by an earlier rule are applied once more per chunk.
    return [finish(piece) for piece in out]


KNOWN_MIN_CHARS = 8
"""Secret values shorter than this are not masked wherever they appear (too likely to be ordinary words)."""

_PEM_BODY = re.compile(r"(?:\\[nr]|\s)+")


def _looks_secret(value: str) -> bool:
    """Whether a value is worth masking everywhere: long enough and not a plain word.

    `Password: required` masks `required` in place, but learning it would mask every `required` in the
    session; a secret has a digit, a symbol, or mixed case.
    """
    if len(value) < KNOWN_MIN_CHARS or "REDACTED" in value:
        return False
    has_digit = any(c.isdigit() for c in value)
    has_symbol = any(not c.isalnum() for c in value)
    mixed_case = any(c.islower() for c in value) and any(c.isupper() for c in value)
    return has_digit or has_symbol or mixed_case


def find_secrets(text: str) -> set[str]:
    """The secret values the rules find in `text` (without prefixes): `hunter2` in `password=hunter2`.

    A value seen once next to its context (`password=...`, a PEM block) may show up elsewhere without it: a
    terminal wraps a long line, a screen shows a file's content, a program echoes it. `Redactor` masks these
    values everywhere.
    """
    found: set[str] = set()
    if not text:
        return found
    for pattern, _ in _rules():
        for match in pattern.finditer(text):
            groups = match.groupdict()
            if groups.get("v") is not None:
                value = groups["v"]
            else:
                value = match.group(0)[len(groups.get("p") or "") :]
            if "-----END " in value:
                value = value[: value.index("-----END ")]
            # A PEM body is many lines: each line is a secret of its own (screens show them one by one).
            for piece in _PEM_BODY.split(value) if "PRIVATE KEY" in (groups.get("p") or "") else [value]:
                piece = piece.strip()
                if _looks_secret(piece):
                    found.add(piece)
    return found


class Redactor:
    """The rules of `redact_text`, plus literal masking of secret values found anywhere in the session.

    Build it with every text of a session (`Redactor.for_texts(...)`), then redact each artifact, param,
    tag and span with it: a password seen once as `password=...` is masked also where it appears bare.
    """

    def __init__(self, known: set[str] | None = None) -> None:
        self.known = sorted({k for k in (known or set()) if len(k) >= KNOWN_MIN_CHARS}, key=len, reverse=True)
        """Secret values masked wherever they appear, longest first."""
        self._spread: _Spread | None = None
        self._ruled: dict[str, str] = {}
        """`redact_text` of the texts `for_texts` read (they are logged too: each is scanned once)."""
        self._masked: dict[str, str] = {}
        """`text()`'s answers for short texts: a session's spans and summary repeat many (its work dir, tool
        names, models)."""

    @classmethod
    def for_texts(cls, texts: Sequence[str], also: Iterable[str] = ()) -> Redactor:
        """A redactor that knows every secret value the rules find in `texts`, and the values `also` names.

        Each text is scanned once by `redact_text`, kept for `text()` (a session's texts are the artifacts
        it logs); only a text in which a rule matched is searched again for the values (`find_secrets`):
        where no rule changes anything, no rule found anything.
        """
        known: set[str] = set(also)
        ruled: dict[str, str] = {}
        for text in texts:
            if text in ruled:
                continue
            ruled[text] = redact_text(text)
            if ruled[text] != text:
                known |= find_secrets(text)
        redactor = cls(known)
        redactor._ruled = ruled
        return redactor

    def text(self, text: str) -> str:
        """`text` with the rules applied and every known secret value masked."""
        if not text:
            return text
        done = self._masked.get(text)
        if done is not None:
            return done
        ruled = self._ruled.get(text)
        masked = redact_text(text) if ruled is None else ruled
        spread = self._spread_finder
        if spread is not None:
            # Also where a rendered screen wrapped the value over two lines (clean.txt).
            masked = spread.sub(_mask_keeping_controls, masked)
        if len(text) < 4096:
            self._masked[text] = masked
        return masked

    def obj(self, obj: Any) -> Any:
        """`redact_obj` with this redactor's known values."""
        return _redact_obj(obj, self.text)

    def chunks(self, chunks: Sequence[str]) -> list[str]:
        """`redact_chunks` with this redactor's known values, also where the terminal drew them in pieces.

        A program draws a long value wrapped over two lines (`\\r\\n` and indentation in between) or with
        colour and cursor sequences inside it. A known value is found with such terminal sequences between
        its characters; its characters are dropped and the sequences kept (so a replay keeps its layout),
        with the mask where the value started.
        """
        extra: list[_Rule] = []
        if self._spread_finder is not None:
            extra.append((self._spread_finder, _mask_keeping_controls))
        # Known values first: a rule would otherwise take the part before a line break and miss the rest.
        return _redact_chunks(chunks, [*extra, *_rules()], self.text)

    @property
    def _spread_finder(self) -> _Spread | None:
        if not self.known:
            return None
        if self._spread is None:
            self._spread = _Spread(self.known)
        return self._spread


_CONTROLS = re.compile(
    r"\x1b\[[0-9;?<>=:]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\r?\n[ \t]*|\r"
)
"""What a terminal stream may hold between the characters of a value it draws: CSI and OSC sequences,
charset switches, and line breaks with the indentation of a wrapped line."""
_CONTROLS_SPLIT = re.compile(f"({_CONTROLS.pattern})")


class _Found(NamedTuple):
    """A hit of `_Spread`: the span of the text a known value was drawn over."""

    start: int
    end: int
    drawn: str

    def span(self) -> tuple[int, int]:
        return self.start, self.end

    def group(self, index: int = 0) -> str:
        return self.drawn


class _Spread:
    """Known secret values, found also where a terminal drew them with sequences or line breaks inside.

    The terminal sequences are taken out of the text, the values are looked for in what is left (longest
    value first where two start at one place: `_literal`'s alternation), and each hit is mapped back to the
    span of the text it was drawn over. One regex with the sequences allowed between every two characters did
    the same, but with ~100 characters of pattern per character of secret: a session with many long secrets
    made a 6-million-character pattern that took 20 s to compile, and `re`'s cache kept its 40 MB for the life
    of the process.
    """

    def __init__(self, known: Sequence[str]) -> None:
        self._values = sorted({_CONTROLS.sub("", value) for value in known} - {""}, key=len, reverse=True)
        self._regex: re.Pattern[str] | None = None

    @property
    def _literal(self) -> re.Pattern[str] | None:
        """The values as one regex alternation, longest first: what `finditer` finds, built only when asked.
        `finditer` searches for each value with `str.find` instead: a session with ~70 known values spent
        ~20 ms compiling the alternation, and the regex engine tried it at every character of the text whose
        first letter some value starts with (most of them), 5x slower than a search per value."""
        if self._regex is None and self._values:
            self._regex = re.compile("|".join(re.escape(value) for value in self._values))
        return self._regex

    def _hits(self, plain: str) -> list[tuple[int, int]]:
        """Where the values are in `plain`, left to right, not overlapping: at each place the first value
        (longest first) that is there, as `_literal.finditer` finds them."""
        found: list[tuple[int, int, int]] = []
        for order, value in enumerate(self._values):
            if value not in plain:
                continue
            find = plain.find
            at = find(value)
            while at >= 0:
                found.append((at, order, len(value)))
                at = find(value, at + 1)
        found.sort()
        hits: list[tuple[int, int]] = []
        end = 0
        for at, _, length in found:
            if at >= end:
                end = at + length
                hits.append((at, end))
        return hits

    def finditer(self, text: str) -> Iterator[_Found]:
        """The hits in `text`, left to right, not overlapping (like `re.Pattern.finditer`)."""
        if not self._values:
            return
        if "\x1b" not in text and "\r" not in text and "\n" not in text:
            for start, end in self._hits(text):
                yield _Found(start, end, text[start:end])
            return
        hits = self._hits(_CONTROLS.sub("", text))
        if not hits:
            return  # the usual case: no position map needed
        # Where each run of the text between sequences starts, in the text without them and in `text` (a
        # recording holds ~10^5 sequences: split and summed in C, not looped over here).
        parts = _CONTROLS_SPLIT.split(text)  # runs at the even indexes, sequences at the odd ones
        text_starts = list(accumulate(map(len, parts), initial=0))[0::2]
        plain_starts = list(accumulate(map(len, parts[0::2]), initial=0))

        def in_text(index: int) -> int:
            run = bisect_right(plain_starts, index) - 1
            return text_starts[run] + index - plain_starts[run]

        for plain_start, plain_end in hits:
            start, end = in_text(plain_start), in_text(plain_end - 1) + 1
            yield _Found(start, end, text[start:end])

    def sub(self, repl: Callable[[_Found], str], text: str) -> str:
        """`text` with every hit replaced by `repl(hit)` (like `re.Pattern.sub`)."""
        return _sub(self.finditer(text), repl, text)


def _mask_keeping_controls(match: _Found) -> str:
    """The mask (with the value's recognisable prefix, `sk-ant-` etc., when it has one), followed by the
    terminal sequences and line breaks that were inside the value."""
    drawn = match.group(0)
    masked = redact_text(_CONTROLS.sub("", drawn))
    if MASK not in masked:
        masked = MASK
    return masked + "".join(_CONTROLS.findall(drawn))
