"""``chatbridge chat`` with no message on a terminal: a conversation, in a pseudo-terminal."""

from __future__ import annotations

import re
from collections.abc import Callable

import pexpect

from .conftest import CLI, ENV

PROMPT = "you> "


def start_chat(url: str) -> pexpect.spawn:
    env = {**ENV, "TERM": "xterm-256color"}
    return pexpect.spawn(
        CLI[0], [*CLI[1:], "chat", "--url", url], env=env, encoding="utf-8", timeout=15
    )


def say(child: pexpect.spawn, message: str) -> None:
    child.expect_exact(PROMPT)
    child.sendline(message)


def answered_turns(child: pexpect.spawn, message: str) -> int:
    child.expect(re.escape(f"Echo: {message} | history turns: ") + r"(\d+)")
    return int(child.match.group(1))


def quit_with_ctrl_d(child: pexpect.spawn) -> int:
    child.expect_exact(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus is not None
    return int(child.exitstatus)


def test_conversation_keeps_history_and_quits_on_ctrl_d(spawn_site: Callable[..., str]) -> None:
    child = start_chat(spawn_site())
    try:
        child.expect_exact("Ctrl-C cancels an answer, Ctrl-D quits.")
        say(child, "first message")
        first = answered_turns(child, "first message")
        say(child, "second message")
        second = answered_turns(child, "second message")
        code = quit_with_ctrl_d(child)
    finally:
        child.close(force=True)

    assert (first, second) == (0, 2)  # the second turn carried the first question and answer
    assert code == 0


def test_ctrl_c_cancels_the_answer_not_the_conversation(spawn_site: Callable[..., str]) -> None:
    # Every second chat request stalls for 30 s: the second message is the one to cancel.
    url = spawn_site("--fault", "slow", "--fault-every", "2", "--slow-seconds", "30")
    child = start_chat(url)
    try:
        say(child, "first message")
        assert answered_turns(child, "first message") == 0
        say(child, "stalled message")
        child.expect_exact("Asking AIPower at")  # the spinner, on a terminal
        child.sendintr()
        child.expect_exact("(answer cancelled)")
        say(child, "third message")
        third = answered_turns(child, "third message")
        code = quit_with_ctrl_d(child)
    finally:
        child.close(force=True)

    assert third == 2  # the cancelled turn left no trace in the history
    assert code == 0
