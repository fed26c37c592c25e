"""Benchmark: redacting a 5 MB recording, before and after issue 13 item 9 (detect-secrets' rules and more).

The recording is what `transcript/raw.cast` holds for an hour-long session: an asciicast v2 file of 5 MB
made from a real recorded Claude session's output (`tests/data/streams/claude_interactive.bin`, repeated,
cut into PTY-sized events), with a dozen secrets of the shapes the rules know planted in it (some drawn in
two reads). Each variant builds its `Redactor` from the recording's text (as `SessionRecord.from_spool` does
from a session's files) and redacts it the way the logger does (`tracking.logger.redact_cast`: the output
events as one stream, every event keeping its time). `before` is `tracking/redact.py` as it was at
`BEFORE` (the hand rules only), loaded from git into its own module; `after` is the working tree's. Both run
in this process, alternating, median of `--runs`; the load average is printed beside them.

Run: `.venv/bin/python benchmarks/bench_redact.py [--runs 3] [--megabytes 5]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.bench_terminal import markdown_table  # noqa: E402 - after the path is set

BEFORE = "1193b1e7f435cc6db4fd6e3d4e3e53ee3a583f98"
"""The last commit of `tracking/redact.py` before issue 13 item 9."""
STREAM = ROOT / "tests" / "data" / "streams" / "claude_interactive.bin"
PLANTED = [
    # (what the program prints, the secret in it)
    ("sk-ant-api03-FAKEfakeFAKEfake0123456789abcdefghijklmnopqrstuvwxyz-0123", "FAKEfakeFAKEfake0123456789"),
    ("ghp_FAKEfake0123456789abcdefghijklmnopqr", "FAKEfake0123456789abcdefghijklmnopqr"),
    ("AKIAIOSFODNN7EXAMPLE", "IOSFODNN7EXAMPLE"),
    ("password=hunter2-FAKE-pass", "hunter2-FAKE-pass"),
    ("sk_live_FAKEfake0123456789abcdefFAKE", "FAKEfake0123456789abcdefFAKE"),
    ("glpat-FAKEfake0123456789ab", "FAKEfake0123456789ab"),
    ("AIzaSyFAKEfake0123456789abcdefghijklmno", "SyFAKEfake0123456789abcdefghijklmno"),
    ("https://hooks.slack.com/services/T0FAKE000/B0FAKE000/FAKEfakeFAKEfake01234567", "T0FAKE000/B0FAKE000"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlIn0.FAKEfakeFAKEfakeFAKEfake", "eyJzdWIiOiJmYWtlIn0"),
    ("postgresql://svc:FAKE/pa55+w0rd@db.internal:5432/app", "FAKE/pa55+w0rd"),
    ("hf_FAKEfakeFAKEfakeFAKEfakeFAKEfakeFA", "FAKEfakeFAKEfakeFAKEfakeFAKEfakeFA"),
    ("npm_FAKEfake0123456789abcdefghijklmnopqr", "FAKEfake0123456789abcdefghijklmnopqr"),
]


def recording(megabytes: float) -> str:
    """An asciicast v2 text of about `megabytes` MB with `PLANTED` drawn at even intervals."""
    stream = STREAM.read_bytes().decode("utf-8", errors="replace")
    target = int(megabytes * 1_000_000)
    lines = [json.dumps({"version": 2, "width": 120, "height": 40})]
    size, t, n = 0, 0.0, 0
    every = target // (len(PLANTED) + 1)
    next_secret = every
    while size < target:
        for offset in range(0, len(stream), 4096):
            chunk = stream[offset : offset + 4096]
            if size >= next_secret and n < len(PLANTED):
                secret = f"\x1b[38;2;200;200;200m  ⎿  export VALUE={PLANTED[n][0]}\r\n"
                cut = len(secret) // 2 + 3
                lines += [json.dumps([t, "o", secret[:cut]]), json.dumps([t + 0.001, "o", secret[cut:]])]
                n += 1
                next_secret += every
            t += 0.01
            line = json.dumps([round(t, 3), "o", chunk], ensure_ascii=False)
            lines.append(line)
            size += len(line.encode()) + 1
            if size >= target:
                break
    return "\n".join(lines) + "\n"


def load_before() -> Any:
    """`tracking/redact.py` at `BEFORE`, as a module of its own."""
    source = subprocess.run(
        ["git", "show", f"{BEFORE}:claude_tui/tracking/redact.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType("redact_before")
    module.__dict__["__name__"] = "redact_before"
    sys.modules["redact_before"] = module  # dataclasses and typing look the module up by name
    exec(compile(source, "redact_before.py", "exec"), module.__dict__)
    return module


def redact_once(redact_module: Any, text: str) -> tuple[float, str]:
    """Seconds to build the session's redactor and redact the recording, and the redacted text."""
    from claude_tui.tracking.logger import redact_cast

    started = time.perf_counter()
    redactor = redact_module.Redactor.for_texts([text])
    out = redact_cast(text, redactor)
    return time.perf_counter() - started, out


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Time both variants, print a markdown table, return the rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--megabytes", type=float, default=5.0)
    args = parser.parse_args(argv)
    from claude_tui.tracking import redact as after

    before = load_before()
    text = recording(args.megabytes)
    after.redact_text("warm up")  # loads detect-secrets' plugins once, as the logger's first session does
    times: dict[str, list[float]] = {"before": [], "after": []}
    outputs: dict[str, str] = {}
    for _ in range(args.runs):
        for name, module in (("before", before), ("after", after)):
            seconds, outputs[name] = redact_once(module, text)
            times[name].append(seconds)
    load = os.getloadavg()[0]
    rows = []
    for name in ("before", "after"):
        leaked = [secret for _, secret in PLANTED if secret in outputs[name]]
        median = statistics.median(times[name])
        rows.append(
            {
                "variant": name,
                "recording_MB": round(len(text.encode()) / 1e6, 2),
                "median_s": round(median, 2),
                "MB_per_s": round(len(text.encode()) / 1e6 / median, 1),
                "vs_before": "",
                "secrets_left": f"{len(leaked)} of {len(PLANTED)}",
                "load_avg": round(load, 1),
            }
        )
    for row in rows:
        row["vs_before"] = f"{row['median_s'] / rows[0]['median_s']:.2f}x"
    print(markdown_table(rows))
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
