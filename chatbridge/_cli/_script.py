"""``chatbridge chat --jsonl``: a conversation driven by a script, one message per line.

Each input line (stdin) is one message of one conversation: a JSON string, or an object
``{"content": "..."}`` (``"role"``: ``"user"``, the default, or ``"system"``, a prompt for
the turns after it). Each user message gets one output line (stdout), in order: the answer
as ``--json`` prints it, or ``{"error": ..., "exit_code": ..., "line": N}``; a failed turn
leaves no trace in the history and the conversation goes on. Lines are read as they come and
answers flushed at once, so a program can write a line and wait for its answer. The exit
code is 0 when every turn was answered, else the first failure's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from .._aipower import Conversation
from .._exceptions import ChatbridgeError
from ._errors import INTERRUPTED, UsageError, describe, error_json, exit_code
from ._options import Destination
from ._output import print_json_line
from ._turn import answer, reply_json

__all__ = ["run_script"]

_ROLES = ("user", "system")


def parse_line(text: str) -> dict[str, str]:
    """One input line as a message; a :class:`UsageError` saying what is wrong with it."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(
            f'not JSON ({error.msg}): write "a message" or {{"content": "a message"}}'
        ) from None
    if isinstance(data, str):
        data = {"content": data}
    if not isinstance(data, dict) or not isinstance(data.get("content"), str):
        raise UsageError('a line is "a message" or an object with a "content" string')
    role = data.get("role", "user")
    if role not in _ROLES:
        raise UsageError(f"role {role!r}: a line is a user message or a system prompt")
    if not data["content"].strip():
        raise UsageError("the message is empty")
    return {"role": role, "content": data["content"]}


def run_script(args: argparse.Namespace, target: Destination, opening: list[dict[str, str]]) -> int:
    """Answer every line of stdin in one conversation; see the module docstring."""
    turn_args = argparse.Namespace(**{**vars(args), "json": True})  # answers go as JSON only
    messages = list(opening)
    conversation = Conversation()
    first_failure = 0
    with asyncio.Runner() as runner:
        for number, line in enumerate(sys.stdin, start=1):
            if not line.strip():
                continue
            try:
                message = parse_line(line)
            except UsageError as error:
                first_failure = first_failure or 2
                print_json_line({**error_json(f"line {number}: {error}", 2), "line": number})
                continue
            messages.append(message)
            if message["role"] == "system":
                continue
            try:
                reply = runner.run(answer(turn_args, target, messages, conversation))
            except KeyboardInterrupt:
                print_json_line({**error_json("interrupted", INTERRUPTED), "line": number})
                return INTERRUPTED
            except ChatbridgeError as error:
                messages.pop()  # the conversation goes on without the failed turn
                code = exit_code(error)
                first_failure = first_failure or code
                print_json_line({**error_json(describe(error, args), code), "line": number})
                continue
            messages.append({"role": "assistant", "content": reply.text})
            print_json_line(reply_json(target, reply))
    return first_failure
