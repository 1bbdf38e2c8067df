"""``chatbridge chat`` with no message on a terminal: a conversation, in a pseudo-terminal."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from collections.abc import Callable

import pexpect

from tests.conftest import default_sigint

from .conftest import CLI, ENV

PROMPT = "you> "


def start_chat(url: str, *options: str) -> pexpect.spawn:
    env = {**ENV, "TERM": "xterm-256color"}
    return pexpect.spawn(
        CLI[0],
        [*CLI[1:], "chat", "--url", url, *options],
        env=env,
        encoding="utf-8",
        timeout=30,
        preexec_fn=default_sigint,  # Ctrl-C must work as on a terminal, even under `pytest &`
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


def test_json_conversation_prints_one_line_per_turn(spawn_site: Callable[..., str]) -> None:
    # Every second chat request fails with HTTP 500: the second turn is an error line.
    child = start_chat(spawn_site("--fault", "http500", "--fault-every", "2"), "--json")
    try:
        lines = []
        for message in ("first message", "second message", "third message"):
            say(child, message)
            child.expect(r"(\{[^\r\n]*\})\r\n")  # a whole object on one line
            lines.append(json.loads(child.match.group(1)))
        code = quit_with_ctrl_d(child)
    finally:
        child.close(force=True)

    first, failed, third = lines
    assert "Echo: first message | history turns: 0" in first["answer"]
    assert failed["exit_code"] == 10 and "500" in failed["error"]
    assert "Echo: third message | history turns: 2" in third["answer"]  # the failed turn left
    assert code == 0


def test_site_exits_130_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [*CLI, "site", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        preexec_fn=default_sigint,
    )
    try:
        assert process.stdout is not None
        assert "listening on http://127.0.0.1:" in process.stdout.readline()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 130
    assert err == "chatbridge: interrupted\n"
