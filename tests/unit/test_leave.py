"""`terminal.leave`: Claude is asked to leave with ctrl+c, the second press answering its "again to exit"
hint.

The real pinned CLI at its prompt, pumped by an asyncio loop as the pane and the owner pump it; a CPU-starved
Claude is made by stopping it (SIGSTOP) between the presses for longer than its double-press window.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from claude_tui.claude_env import SCRIPTED_FLAGS
from claude_tui.terminal.leave import CTRL_C, DoublePress, ask_claude_to_leave, shows_exit_hint
from claude_tui.terminal.pty_session import ExitStatus
from claude_tui.terminal.pump import PtyPump

HINT_LINE = "  Press Ctrl-C again to exit                                    ◐ medium · /effort"


# -- when to press (no clock, no program) ---------------------------------------------------------------


def test_the_hints_of_the_pinned_cli_are_recognised() -> None:
    assert shows_exit_hint(["❯", HINT_LINE])
    assert shows_exit_hint(["  Esc to cancel · press ctrl+c or q again to exit"])
    assert not shows_exit_hint(["❯", "  ⏵⏵ accept edits on (shift+tab to cycle) · ← for agents"])


def test_the_first_press_goes_at_once_and_the_hint_is_answered_at_once() -> None:
    presses = DoublePress()
    assert presses.due(0.0, hint=False)
    assert not presses.due(0.05, hint=False)
    assert presses.due(0.1, hint=True)  # the second press, on the hint
    assert not presses.due(0.15, hint=True)  # answered: not again while the same hint stays


def test_a_press_that_brings_no_hint_is_repeated() -> None:
    """The press was lost, or cleared the prompt's text, or stopped a turn: once more after RESEND_AFTER."""
    presses = DoublePress()
    after = DoublePress.RESEND_AFTER
    assert presses.due(0.0, hint=False)
    assert not presses.due(after - 0.01, hint=False)
    assert presses.due(after, hint=False)
    assert not presses.due(after + 0.01, hint=False)


def test_a_new_hint_is_answered_and_an_answered_one_that_stays_is_answered_again_later() -> None:
    """The answer came after Claude's window had closed, so it opened a new one: the hint comes back (seen, or
    not seen because it was redrawn between two looks at the screen)."""
    presses = DoublePress()
    after = DoublePress.RESEND_AFTER
    assert presses.due(0.0, hint=False)
    assert presses.due(0.1, hint=True)
    assert not presses.due(0.2, hint=False)  # the window closed
    assert presses.due(0.3, hint=True)  # a new window: answered at once
    assert not presses.due(0.3 + after - 0.01, hint=True)
    assert presses.due(0.3 + after, hint=True)  # still there: the answer was late again


# -- the real CLI ----------------------------------------------------------------------------------------


def prompt_shown(pump: PtyPump) -> bool:
    return "shift+tab" in "\n".join(pump.emulator.display)


async def claude_at_its_prompt(claude_env: Any, scenario: Any = "realistic") -> PtyPump:
    env = claude_env(scenario)
    pump = PtyPump.spawn(
        [str(env.claude_bin), *SCRIPTED_FLAGS], cwd=env.work_dir, env=env.env(), cols=100, rows=30
    )
    asyncio.get_running_loop().add_reader(pump.fileno(), pump_output, pump)
    await until(lambda: prompt_shown(pump), 60, "Claude's prompt box", pump)
    return pump


def pump_output(pump: PtyPump) -> None:
    """The event loop's reader, as the pane's and the owner's: stop reading at the end of file."""
    if pump.pump().ended:
        asyncio.get_running_loop().remove_reader(pump.fileno())


async def until(predicate: Callable[[], object], timeout: float, what: str, pump: PtyPump) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"no {what} after {timeout} s: {pump.emulator.display}"
        await asyncio.sleep(0.02)


async def leave(pump: PtyPump, send: Callable[[bytes], None], wait: float = 30.0) -> ExitStatus:
    """`ask_claude_to_leave` as the pane calls it; the program's exit status (SIGKILL if it stayed)."""
    try:
        left = await ask_claude_to_leave(send, pump.emulator, lambda: pump.check_exit() is not None, wait)
    finally:
        asyncio.get_running_loop().remove_reader(pump.fileno())
    status = pump.exit_status if left else pump.terminate(0.5)
    assert status is not None
    return status


async def test_claude_at_its_prompt_leaves_with_status_0(claude_env: Any) -> None:
    pump = await claude_at_its_prompt(claude_env)
    assert await leave(pump, pump.write) == ExitStatus(0, None)


async def test_claude_starved_between_the_presses_still_leaves_with_status_0(claude_env: Any) -> None:
    """Claude gets no CPU from the moment a press answering its hint is sent until after its window has
    closed (stopped for 2 s; the window is ~0.8 s): the press it then reads opens a new window, and one more
    press is needed. Fails with two presses 0.3 s apart (Claude stays; it was SIGHUPed after
    CLAUDE_EXIT_WAIT: 129)."""
    pump = await claude_at_its_prompt(claude_env)
    sent: list[bytes] = []
    starved: list[int] = []

    def send(data: bytes) -> None:
        sent.append(data)
        if not starved and shows_exit_hint(pump.emulator.display):
            starved.append(len(sent))
            os.kill(pump.session.pid, signal.SIGSTOP)
            pump.write(data)
            time.sleep(2.0)  # the stopped Claude's window closes; this loop is starved as the machine was
            os.kill(pump.session.pid, signal.SIGCONT)
        else:
            pump.write(data)

    assert await leave(pump, send) == ExitStatus(0, None)
    assert starved and len(sent) > starved[0] and set(sent) == {CTRL_C}


BUSY = {
    "turns": [
        {
            "match": "wait for it",
            "steps": [
                [{"tool": "Bash", "input": {"command": "sleep 120", "description": "Wait"}}],
                [{"text": "done"}],
            ],
        }
    ]
}


async def test_claude_in_the_middle_of_a_turn_leaves_with_status_0(claude_env: Any) -> None:
    """The first press stops the running tool (no hint yet): the presses go on until Claude leaves. Fails with
    two presses 0.3 s apart (the second only shows the hint)."""
    pump = await claude_at_its_prompt(claude_env, BUSY)
    pump.write(b"wait for it")
    await until(lambda: "wait for it" in "\n".join(pump.emulator.display), 30, "the typed prompt", pump)
    pump.write(b"\r")
    await until(lambda: "sleep 120" in "\n".join(pump.emulator.display), 60, "the running tool", pump)
    assert await leave(pump, pump.write) == ExitStatus(0, None)


async def test_a_program_that_stays_is_left_to_the_caller_after_the_wait() -> None:
    script = (
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nprint('up', flush=True)\n"
        "time.sleep(60)\n"
    )
    pump = PtyPump.spawn([sys.executable, "-c", script], cols=40, rows=10)
    asyncio.get_running_loop().add_reader(pump.fileno(), pump_output, pump)
    await until(lambda: "up" in pump.emulator.display[0], 30, "the program's output", pump)
    status = await leave(pump, pump.write, wait=0.5)
    assert status.signal is not None  # terminated by `leave`, as the callers do
