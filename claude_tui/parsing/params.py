"""Run parameters derived from a session's first prompt, as the seed's procedures expect.

`procedure_name`: the prompt's first word when it names a procedure, i.e. a kebab-case word with at least
one hyphen (`close-issue 583`), or a slash command (`/close-issue 583` → `close-issue`). `issue_number`: the
number right after the procedure name, else the first `#583`, else the first `issue 583` / `issue #583` (any
case). Both are strings (MLflow params are strings) or None.
"""

from __future__ import annotations

import re

_PROCEDURE = re.compile(r"^\s*/?([a-z][a-z0-9]*(?:[-_][a-z0-9]+)+)(?=\s|$)|^\s*/([a-z][\w-]*)(?=\s|$)")
_NUMBER_AFTER = re.compile(r"\s+#?(\d+)\b")
_HASH_NUMBER = re.compile(r"(?<![\w&])#(\d+)\b")
_ISSUE_NUMBER = re.compile(r"\bissues?\s*#?\s*(\d+)\b", re.IGNORECASE)


def derive_params(first_prompt: str | None) -> tuple[str | None, str | None]:
    """`(procedure_name, issue_number)` of a first prompt: `"close-issue 583"` → `("close-issue", "583")`."""
    if not first_prompt:
        return None, None
    procedure: str | None = None
    issue: str | None = None
    match = _PROCEDURE.match(first_prompt)
    if match:
        procedure = match.group(1) or match.group(2)
        after = _NUMBER_AFTER.match(first_prompt, match.end())
        if after:
            issue = after.group(1)
    if issue is None:
        found = _HASH_NUMBER.search(first_prompt) or _ISSUE_NUMBER.search(first_prompt)
        if found:
            issue = found.group(1)
    return procedure, issue
