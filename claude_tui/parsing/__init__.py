"""Session parsing: exact events and stats from Claude Code transcripts, and a screen-text fallback.

Pure: importing this package loads neither textual nor mlflow (a test checks it). See docs/parsing.md for the
stat definitions and the JSON schema.
"""

from __future__ import annotations

from claude_tui.parsing import events
from claude_tui.parsing.events import Event, event_from_dict, event_to_dict
from claude_tui.parsing.screen import ScreenParser
from claude_tui.parsing.stats import META_KEYS, STAT_KEYS, SessionStats, stats_for_transcript
from claude_tui.parsing.transcript import TranscriptTail

__all__ = [
    "META_KEYS",
    "STAT_KEYS",
    "Event",
    "ScreenParser",
    "SessionStats",
    "TranscriptTail",
    "event_from_dict",
    "event_to_dict",
    "events",
    "stats_for_transcript",
]
