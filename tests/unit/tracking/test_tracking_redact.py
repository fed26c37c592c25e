"""Redaction: each secret kind masked with a recognisable prefix; ordinary text left alone."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from claude_tui.tracking.redact import MASK, Redactor, find_secrets, redact_chunks, redact_obj, redact_text

ANTHROPIC = "sk-ant-api03-FAKEfakeFAKEfake0123456789abcdefghijklmnopqrstuvwxyz-0123456789AA"
OPENAI = "sk-proj-FAKEfake0123456789abcdefghijklmnopqrstuvwxyzAB"
GITHUB = "ghp_FAKEfake0123456789abcdefghijklmnopqr"
GITHUB_PAT = "github_pat_11FAKEFAKE0123456789ab_FAKEfake0123456789abcdefghijklmnop"
SLACK = "xoxb-123456789012-1234567890123-FAKEfakeFAKEfake"
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAfakefake\n"
    "FAKEKEYMATERIAL\n-----END RSA PRIVATE KEY-----"
)

SECRETS = [
    # (text, the secret that must vanish, what must remain)
    (f"export ANTHROPIC_API_KEY={ANTHROPIC}", ANTHROPIC, f"ANTHROPIC_API_KEY=sk-ant-{MASK}"),
    (f"key: {ANTHROPIC} end", ANTHROPIC, f"sk-ant-{MASK} end"),
    (f"OPENAI={OPENAI}", OPENAI, f"sk-{MASK}"),
    ("aws AKIAIOSFODNN7EXAMPLE id", "AKIAIOSFODNN7EXAMPLE", f"aws AKIA{MASK} id"),
    (f"remote https://{GITHUB}@github.com", GITHUB, f"ghp_{MASK}"),
    (f"GH_PAT={GITHUB_PAT}", GITHUB_PAT, f"github_pat_{MASK}"),
    (f"slack {SLACK}", SLACK, f"slack xoxb-{MASK}"),
    (f"{PEM}\nafter", "MIIEowIBAAKCAQEAfakefake", f"-----BEGIN RSA PRIVATE KEY-----{MASK}-----END RSA"),
    ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0", "MIIEvQIBADANBgkqhkiG9w0", "BEGIN PRIVATE KEY"),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIi.FAKE", "eyJhbGciOiJIUzI1NiJ9", f"Bearer {MASK}"),
    ("curl -H 'authorization: bearer abc.def-ghi'", "abc.def-ghi", f"bearer {MASK}"),
    ("password=hunter2-FAKE-pass&x=1", "hunter2-FAKE-pass", f"password={MASK}&x=1"),
    ("mysql --password=hunter2-FAKE-pass -e 1", "hunter2-FAKE-pass", f"--password={MASK} -e 1"),
    ('{"password": "correct horse battery"}', "correct horse", f'"password": "{MASK}"'),
    ('{\\"db_password\\": \\"s3cr3t-v@lue\\"}', "s3cr3t-v@lue", MASK),
    ("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG", MASK),
    ("GITHUB_TOKEN=abc123def", "abc123def", f"GITHUB_TOKEN={MASK}"),
    ("secret: topsecretvalue", "topsecretvalue", f"secret: {MASK}"),
    ("postgres://app:pa55w0rd@db/app", "pa55w0rd", f"postgres://app:{MASK}@db"),
    # Issue 13, item 9: the shapes that were not masked.
    ("maps key AIzaSyFAKEfake0123456789abcdefghijklmno", "SyFAKEfake0123456789", f"AIza{MASK}"),
    (
        "STRIPE=sk_live_FAKEfake0123456789abcdefFAKEfake0123456789",
        "FAKEfake0123456789abcdefFAKE",
        f"sk_live_{MASK}",
    ),
    ("rk_live_FAKEfake0123456789abcdefFAKE", "FAKEfake0123456789abcdef", f"rk_live_{MASK}"),
    ("GITLAB=glpat-FAKEfake0123456789ab", "FAKEfake0123456789ab", f"glpat-{MASK}"),
    ("tok npm_FAKEfake0123456789abcdefghijklmnopqr end", "FAKEfake0123456789", f"npm_{MASK} end"),
    ("HF hf_FAKEfakeFAKEfakeFAKEfakeFAKEfakeFA", "FAKEfakeFAKEfakeFAKE", f"hf_{MASK}"),
    (
        "hook https://hooks.slack.com/services/T0FAKE000/B0FAKE000/FAKEfakeFAKEfake01234567 sent",
        "T0FAKE000/B0FAKE000",
        f"https://hooks.slack.com/services/{MASK} sent",
    ),
    (
        f"AccountName=a;AccountKey={'FAKEfake0123' * 7}FAKEfake01==;EndpointSuffix=x",
        "FAKEfake0123",
        f"AccountKey={MASK};",
    ),
    ("jwt eyJhbGciOiJIUzI1NiJ9.e30.FAKEfakeFAKEfakeFAKE", "FAKEfakeFAKEfake", f"jwt {MASK}"),
    (
        "postgresql://svc:FAKE/pa55+w0rd@db.internal:5432/app",
        "pa55+w0rd",
        f"postgresql://svc:{MASK}@db.internal",
    ),
    (
        '{\\"private_key\\": \\"-----BEGIN PRIVATE KEY-----'
        "\\\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\\\n-----END",
        "MIIEvQIBADANBgkqhkiG9w0",
        "BEGIN PRIVATE KEY-----" + MASK,
    ),
]


@pytest.mark.parametrize(("text", "secret", "kept"), SECRETS, ids=[s[2][:24] for s in SECRETS])
def test_secrets_are_masked_with_a_prefix(text: str, secret: str, kept: str) -> None:
    out = redact_text(text)
    assert secret not in out
    assert kept in out
    assert redact_text(out) == out  # idempotent: redacting twice changes nothing


ORDINARY = [
    "task-list risk-free desk-top ask-me",
    "pip install scikit-learn sk-learn",
    '"input_tokens": 1200, "output_tokens": 30, "max_tokens": 4096, "cache_read_input_tokens": 0',
    "the token count is high; a secret of success",
    "password == other_password",
    "password: ${DB_PASS}",
    "git commit -m 'Add farewell function'",
    "AKIA is a prefix; AKIASHORT is not a key",
    "Bearer of bad news",
    "keyboard monkey=3 turkey: 4",
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
    "http://localhost:8080/users/@me and https://example.com:443/a@b",
    "commit 3f2a9c0e1b7d4e5f6a7b8c9d0e1f2a3b4c5d6e7f\nMergeRequestDescriptionTextLongWord",
]


def test_key_lines_printed_apart_from_their_begin_and_end_lines() -> None:
    """`env | sort` of a variable holding a key: its lines sorted among the others (item 9)."""
    body = [
        "RkFLRS1lYy1rZXktbWF0ZXJpYWwtMDAwMUZBS0UtZWMta2V5LW1hdGVyaWFsLTAw",
        "MDJGQUtFLWVj+/WtleS1tYXRlcmlh==",
    ]
    env = [
        "-----END EC PRIVATE KEY-----",
        "HOME=/root",
        body[1],
        "PATH=/usr/bin",
        body[0],
        "SIGNING_KEY=-----BEGIN EC PRIVATE KEY-----",
        "commitsha3f2a9c0e1b7d4e5f6a7b8c",
    ]
    printed = "\n".join(env) + "\n"
    as_json = json.dumps({"content": printed})  # what a transcript line holds: escaped line breaks
    for text in (printed, as_json, "  ⎿  " + printed.replace("\n", "\r\n     ")):
        out = redact_text(text)
        assert not any(line in out for line in body), out
        assert "HOME=/root" in out and "PATH=/usr/bin" in out
    assert set(body) <= find_secrets(as_json)  # learned, so masked wherever they appear bare
    assert Redactor.for_texts([as_json]).text(f"shown: {body[0]}") == f"shown: {MASK}"
    # Without a private key marker the same lines are ordinary text.
    assert redact_text("\n".join(body)) == "\n".join(body)


def test_library_rules_are_detect_secrets_patterns() -> None:
    from detect_secrets.plugins.stripe import StripeDetector

    from claude_tui.tracking.redact import _LibraryRule, _rules

    library = [rule for rule, _ in _rules() if isinstance(rule, _LibraryRule)]
    assert StripeDetector().denylist[0] in [rule.regex for rule in library]
    assert len(library) >= 14


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_text(text) == text


def test_redact_obj_walks_dicts_and_lists_and_masks_secret_keys() -> None:
    data = {
        "command": f"echo {ANTHROPIC}",
        "nested": [{"api_key": "plain-looking-value"}, ("x", GITHUB)],
        "password": "hunter2",
        "input_tokens": 12,
        "token": 5,
    }
    out = redact_obj(data)
    assert out["command"] == f"echo sk-ant-{MASK}"
    assert out["nested"][0] == {"api_key": MASK}
    assert out["nested"][1] == ("x", f"ghp_{MASK}")
    assert out["password"] == MASK
    assert out["input_tokens"] == 12 and out["token"] == 5
    assert data["password"] == "hunter2"  # the input is not modified


def test_json_text_stays_valid_json() -> None:
    record = {"content": f"ANTHROPIC_API_KEY={ANTHROPIC}\n{PEM}", "password": "x y z"}
    out = redact_text(json.dumps(record))
    parsed = json.loads(out)
    assert ANTHROPIC not in out and "FAKEKEYMATERIAL" not in out
    assert parsed["password"] == MASK


@pytest.mark.parametrize("cut", [3, 8, 12, 20, 40])
def test_a_secret_split_across_chunks_is_still_masked(cut: str) -> None:
    stream = f"\x1b[1mkey\x1b[0m {ANTHROPIC} done\r\n"
    start = stream.index(ANTHROPIC)
    chunks = [stream[: start + int(cut)], stream[start + int(cut) : start + 50], stream[start + 50 :]]
    out = redact_chunks(chunks)
    assert len(out) == len(chunks)
    joined = "".join(out)
    assert ANTHROPIC[10:] not in joined and ANTHROPIC not in joined
    assert joined == redact_text(stream)


def test_chunks_without_secrets_are_returned_unchanged() -> None:
    chunks = ["hello ", "world", "\r\n"]
    assert redact_chunks(chunks) == chunks


def test_a_secret_seen_in_context_is_masked_where_it_appears_bare() -> None:
    session = [
        "DATABASE_URL=postgres://app@db/app?password=hunter2-FAKE-pass",
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        PEM,
    ]
    redactor = Redactor.for_texts(session)
    assert {
        "hunter2-FAKE-pass",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "MIIEowIBAAKCAQEAfakefake",
    } <= set(redactor.known)
    screen = (
        "  ⎿  hunter2-FAKE-pass\n  2 wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n  3 MIIEowIBAAKCAQEAfakefake"
    )
    out = redactor.text(screen)
    assert "hunter2" not in out and "wJalr" not in out and "MIIEow" not in out
    assert out.count(MASK) == 3
    chunks = redactor.chunks(["echo hunter2-FA", "KE-pass ok"])
    assert "".join(chunks) == f"echo {MASK} ok"
    assert redactor.obj({"x": ["hunter2-FAKE-pass"]}) == {"x": [MASK]}
    # Short or already masked values are not learned (they would mask ordinary words).
    assert find_secrets("password=abc token=***REDACTED***") == set()
    # Plain words after a secret-ish name are masked in place but not everywhere.
    assert find_secrets("Password: required") == set()
    assert redact_text("Password: required") == f"Password: {MASK}"
    assert Redactor.for_texts(["nothing secret here"]).known == []


def test_jwt_is_masked_bare() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlIn0.FAKEfakeFAKEfakeFAKEfake"
    assert redact_text(f"token {jwt} end") == f"token eyJ{MASK} end"


def test_a_known_value_drawn_wrapped_or_with_colours_is_masked_and_the_layout_kept() -> None:
    redactor = Redactor.for_texts([f"ANTHROPIC_API_KEY={ANTHROPIC}", "password=hunter2-FAKE-pass"])
    wrapped = f"  ⎿  {ANTHROPIC[:30]}\r\n     {ANTHROPIC[30:]} done\r\n"
    coloured = "pw \x1b[1mhunter2\x1b[0m\x1b[2C-FAKE-pass\r\n"
    out = redactor.chunks([wrapped[:20], wrapped[20:], coloured])
    joined = "".join(out)
    assert ANTHROPIC[30:] not in joined and ANTHROPIC[:30] not in joined and "hunter2" not in joined
    assert joined == f"  ⎿  sk-ant-{MASK}\r\n      done\r\npw \x1b[1m{MASK}\x1b[0m\x1b[2C\r\n"


def test_a_known_value_wrapped_on_a_rendered_screen_is_masked() -> None:
    redactor = Redactor.for_texts(["password=hunter2-FAKE-pass"])
    screen = "  ⎿  mysql --user=app --pass hunter2-FA\n     KE-pass -e 1\n"
    assert redactor.text(screen) == f"  ⎿  mysql --user=app --pass {MASK}\n      -e 1\n"


# The straightforward definition of finding a known value "spread" on a terminal: one regex with the
# terminal sequences allowed between every two characters. `_Spread` must find the same, with a pattern as
# long as the values (this one grew ~100 characters per character of secret: 6 million for one session).
_REFERENCE_JUNK = (
    r"(?:\x1b\[[0-9;?<>=:]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\r?\n[ \t]*|\r)*"
)


def test_spread_values_are_found_as_the_one_regex_definition_finds_them() -> None:
    import random

    from claude_tui.tracking.redact import _mask_keeping_controls, _Spread

    rnd = random.Random(7)
    junk = ["\x1b[31m", "\x1b[0m", "\r\n   ", "\r", "\x1b]0;title\x07", "\x1b(B", "\n\t"]
    for _ in range(500):
        known = {"".join(rnd.choice("abcXYZ019-") for _ in range(rnd.randint(8, 14))) for _ in range(3)}
        pieces = []
        for _ in range(rnd.randint(1, 6)):
            if rnd.random() < 0.6:  # a known value, drawn with sequences inside
                value = rnd.choice(sorted(known))
                pieces.append("".join(c + (rnd.choice(junk) if rnd.random() < 0.2 else "") for c in value))
            else:
                pieces.append("".join(rnd.choice("abcXYZ019-_=/+ ") for _ in range(rnd.randint(0, 10))))
            if rnd.random() < 0.3:
                pieces.append(rnd.choice(junk))
        text = "".join(pieces)
        ordered = sorted(known, key=len, reverse=True)
        reference = re.compile("|".join(_REFERENCE_JUNK.join(re.escape(c) for c in v) for v in ordered))
        spread = _Spread(ordered)
        assert spread.sub(_mask_keeping_controls, text) == reference.sub(_mask_keeping_controls, text), text
        assert spread._literal is not None and len(spread._literal.pattern) < 2 * sum(map(len, known)) + 10


def test_a_session_text_is_scanned_once_when_it_holds_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 19: learning a session's secrets and then masking the same texts ran every rule over each text
    twice (`find_secrets`, then `redact_text` for the artifact). Now each text is scanned once; only a text
    in which a rule matched is searched again for the values to learn."""
    from claude_tui.tracking import redact

    calls: list[str] = []
    for name in ("find_secrets", "redact_text"):
        original = getattr(redact, name)
        monkeypatch.setattr(
            redact, name, lambda text, _name=name, _f=original: calls.append(_name) or _f(text)
        )
    plain = '{"type":"assistant","message":{"usage":{"input_tokens":12,"output_tokens":3}}}\n' * 50
    with_secret = f"export GITHUB_TOKEN={GITHUB}\nls\n"
    redactor = Redactor.for_texts([plain, with_secret, plain])
    assert calls == ["redact_text", "redact_text", "find_secrets"]
    assert GITHUB in redactor.known
    calls.clear()
    assert redactor.text(plain) == plain
    assert redactor.text(with_secret) == f"export GITHUB_TOKEN=ghp_{MASK}\nls\n"
    assert redactor.text(f"bare {GITHUB}") == f"bare ghp_{MASK}"  # a text it was not built from
    assert calls == ["redact_text"]
    # Values known from elsewhere (the store's credentials) join the ones found, the one scan kept.
    with_credential = Redactor.for_texts([plain], also={"s3cret-store-pass"})
    assert with_credential.known == ["s3cret-store-pass"] and with_credential.text(plain) == plain


def _fragment_texts(seed: int, count: int) -> list[str]:
    """Random texts made of the secret and ordinary examples above, joined the ways sessions hold them: real
    and escaped line breaks, JSON strings, quotes, indentation, upper case."""
    import random

    rnd = random.Random(seed)
    pieces = [text for text, _, _ in SECRETS] + ORDINARY + ['"', "\\n", "\r\n", "  ⎿  ", "=", ": ", "tokens"]
    texts = []
    for _ in range(count):
        text = rnd.choice(["\n", " ", "\\n", '", "', "\r\n   "]).join(
            rnd.choice(pieces) for _ in range(rnd.randint(1, 5))
        )
        texts += [text, json.dumps({"content": text}), text.upper(), text.replace("=", " = ")]
    return texts


def test_the_rules_fast_paths_find_what_their_regexes_define() -> None:
    """Issue 19 (import speed): the secret-name rules find their start words with `str.find`, a key line
    after a line break is matched with the break taken in, and a library rule is skipped where its required
    literal is absent. Each must find exactly what its regex alone finds."""
    from claude_tui.tracking.redact import _Anchored, _LibraryRule, _PemBodyLines, _rules

    def spans(matches: Any) -> list[tuple[int, int]]:
        return [match.span() for match in matches]

    texts = _fragment_texts(11, 400)
    assert any("PRIVATE KEY" in text for text in texts)
    pem = _PemBodyLines()
    checked = 0
    for text in texts:
        for rule, _ in _rules():
            if isinstance(rule, _Anchored):
                assert spans(rule.finditer(text)) == spans(rule.regex.finditer(text)), (rule.pattern, text)
            elif isinstance(rule, _LibraryRule) and rule._anchored is None:
                expected = spans(rule.regex.finditer(text))
                got = [(hit.start, hit.end) for hit in rule.finditer(text)]
                assert len(got) == len(expected), (rule.regex.pattern, text)
                checked += bool(expected)
        lines = [match for match in pem._LINE.finditer(text) if "PRIVATE KEY" in text]
        defined = [m.span() for m in lines if re.search("[A-Z]", m["v"]) and re.search("[a-z]", m["v"])]
        assert spans(pem.finditer(text)) == defined, text
    assert checked > 0, "some library rule should have matched"


def test_a_required_literal_is_one_every_match_holds() -> None:
    from claude_tui.tracking.redact import _LibraryRule, _required_literal, _rules

    assert _required_literal(r"\/\/.+\/:_authToken=\s*(npm_.+)") == "/:_authToken="
    assert _required_literal(r"(?:r|s)k_live_[0-9a-zA-Z]{24}") == "k_live_"
    assert _required_literal(r"(?:a|b)c*") == ""  # nothing outside a group or repeat
    assert _required_literal(r"(?i)AccountKey=") == ""  # case-insensitive: no literal is required as written
    library = [rule for rule, _ in _rules() if isinstance(rule, _LibraryRule)]
    assert sum(bool(rule._required) for rule in library) >= 10
    for text, _, _ in SECRETS:
        for rule in library:
            for match in rule.regex.finditer(text):
                assert rule._required in match.group(0), (rule.regex.pattern, text)
