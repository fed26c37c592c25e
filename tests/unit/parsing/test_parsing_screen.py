"""ScreenParser on hand-written screens like the ones Claude Code draws."""

from __future__ import annotations

from collections.abc import Sequence

from claude_tui.parsing import ScreenParser
from claude_tui.parsing.events import ToolCall, ToolResult, UserPrompt

NBSP = "\xa0"
RULE = "─" * 40

SCREEN = [
    " ▐▛███▛█   Claude Code v2.1.328",
    "",
    f"❯{NBSP}close-issue 583",
    "",
    "● Let me look.",
    "",
    "  Read 1 file, listed 1 directory, ran 1 shell command · 2 failed (ctrl+o to expand)",
    "",
    "● Bash(touch notes.txt && git add notes.txt)",
    f"  ⎿{NBSP} (No content)",
    "",
    "● Bash(false)",
    f"  ⎿{NBSP} Error: Exit code 1",
    "",
    "● Update(app.py)",
    "",
    RULE,
    "❯ half-typed input",
    RULE,
]


def names(events: Sequence[object]) -> list[tuple[str, str]]:
    out = []
    for e in events:
        if isinstance(e, ToolCall):
            out.append(("call", f"{e.name}:{e.input['args']}"))
        elif isinstance(e, ToolResult):
            out.append(("error" if e.is_error else "result", e.preview))
        elif isinstance(e, UserPrompt):
            out.append(("prompt", e.text))
    return out


def test_one_screen() -> None:
    parser = ScreenParser()
    first = parser.feed(SCREEN)
    # Complete lines at once (tool lines with their closing parenthesis, failure counts); prompts and error
    # lines once they are seen unchanged again (or at flush), since a frame may be caught half drawn.
    assert names(first) == [
        ("error", "Read 1 file, listed 1 directory, ran 1 shell command · 2 failed (ctrl+o to expand)"),
        ("error", "Read 1 file, listed 1 directory, ran 1 shell command · 2 failed (ctrl+o to expand)"),
        ("call", "Bash:touch notes.txt && git add notes.txt"),
        ("call", "Bash:false"),
        ("call", "Update:app.py"),
    ]
    second = parser.feed(SCREEN)
    assert names(second) == [("prompt", "close-issue 583"), ("error", "Error: Exit code 1")]
    assert parser.flush() == []
    events = first + second
    bash = [e for e in events if isinstance(e, ToolCall) and e.name == "Bash"]
    assert bash[0].input["command"] == "touch notes.txt && git add notes.txt"
    error = next(e for e in events if isinstance(e, ToolResult) and e.preview.startswith("Error"))
    assert error.id.startswith(bash[1].id)  # tied to the tool line above it


def test_half_drawn_lines_count_once_with_their_full_text() -> None:
    parser = ScreenParser()
    assert parser.feed(["", "● Bash(git add a.py && git commit -m 'Add fare"]) == []
    done = parser.feed(["", "● Bash(git add a.py && git commit -m 'Add farewell')"])
    assert names(done) == [("call", "Bash:git add a.py && git commit -m 'Add farewell'")]
    assert parser.feed([f"❯{NBSP}Add a farewell function to app.p{RULE}", ""]) == []
    assert parser.feed(["❯ Add a farewell function to app.py, try it", ""]) == []
    assert names(parser.flush()) == [("prompt", "Add a farewell function to app.py, try it")]
    # Garbage after the closing parenthesis (the rest of an old frame) is not part of the arguments.
    assert names(ScreenParser().feed(["● Update(app.py)checking the state of the repository."])) == [
        ("call", "Update:app.py")
    ]


def test_redraws_count_once_and_repeats_count_twice() -> None:
    parser = ScreenParser()
    first = parser.feed(SCREEN) + parser.feed(SCREEN)
    assert parser.feed(SCREEN) == []
    assert parser.feed([*SCREEN[:-3], "", RULE, "❯ more typing", RULE]) == []
    # The same command run again is a second line further down: it counts.
    again = parser.feed([*SCREEN[:-4], "● Bash(false)", "", RULE, "❯ ", RULE])
    assert names(again) == [("call", "Bash:false")]
    assert len(first) == 7


def test_a_line_moved_by_the_live_area_is_not_counted_again() -> None:
    parser = ScreenParser()
    assert len(parser.feed(["", "● Bash(sleep 5)", "  ⎿  Running…"])) == 1
    # The renderer redraws the live area two rows lower; the old rows now hold other text.
    assert parser.feed(["", "✻ Thinking…", "", "● Bash(sleep 5)", "  ⎿  Running…"]) == []


def test_failed_count_growing_in_place_reports_the_increase() -> None:
    parser = ScreenParser()
    assert len(parser.feed(["  Reading 1 file… · 1 failed"])) == 1
    assert len(parser.feed(["  Read 2 files · 3 failed"])) == 2
    assert parser.feed(["  Read 2 files · 3 failed (ctrl+o to expand)"]) == []


def test_positions_follow_first_index() -> None:
    parser = ScreenParser()
    assert len(parser.feed(["● Bash(ls)"], first_index=10)) == 1
    assert parser.feed(["● Bash(ls)"], first_index=10) == []
    assert len(parser.feed(["x", "● Bash(ls)"], first_index=100)) == 1  # far away: another call


def test_menus_and_plain_text_are_not_events() -> None:
    lines = ["❯ 1. Yes", "  2. No", "● Done (all good)", '● Agent "sub" finished · 0s', "just text"]
    assert ScreenParser().feed(lines) == []


def test_a_line_never_counts_more_often_than_it_was_on_screen_at_once() -> None:
    parser = ScreenParser()
    assert len(parser.feed(["● Bash(make)", *[""] * 99])) == 1
    # Far beyond the move window (a renderer scrolling its own viewport): still the one line seen before.
    assert parser.feed(["something else", *[""] * 98, "● Bash(make)"]) == []
    # Two at once: a genuine second call.
    two = ["something else", *[""] * 98, "● Bash(make)"]
    two[50] = "● Bash(make)"
    assert len(parser.feed(two)) == 1


def test_a_full_scrollback_keeps_positions_and_bounded_state() -> None:
    """Through a scrollback that drops its oldest lines, `history_dropped` keeps each line's position: every
    tool line counts once, a waiting line that scrolls away is still reported, and the parser forgets what
    left the terminal."""
    from claude_tui.terminal import TerminalEmulator

    emulator = TerminalEmulator(60, 8, history=30)
    parser = ScreenParser()
    calls: list[ToolCall] = []
    for i in range(400):
        text = f"● Bash(echo {i})\r\n" if i % 7 == 0 else f"output line {i}\r\n"
        emulator.feed(text.encode())
        if i % 5 == 4:  # a pass every few lines, as the app polls while output scrolls by
            lines = [*emulator.history_lines(), *emulator.display]
            events = parser.feed(lines, emulator.history_dropped)
            calls += [e for e in events if isinstance(e, ToolCall)]
            assert len(parser._lines) <= len(lines) + 1
    events = parser.feed([*emulator.history_lines(), *emulator.display], emulator.history_dropped)
    calls += [e for e in events if isinstance(e, ToolCall)] + [
        e for e in parser.flush() if isinstance(e, ToolCall)
    ]
    assert emulator.history_dropped > 300
    assert sorted(c.input["command"] for c in calls) == sorted(f"echo {i}" for i in range(0, 400, 7))
