"""The interactive side of ``chatbridge chat``: a conversation on a terminal.

One event loop (an ``asyncio.Runner``) and one :class:`Conversation` for the whole session,
so the client id, cookies and AIPKit session survive from turn to turn; the full, growing
message list goes out each turn. Ctrl-C during an answer cancels that answer only (the
Runner cancels the turn's task, which closes its stream); Ctrl-D at the prompt quits. With
``--json``, every turn prints one line of JSON: the answer, or the error that dropped it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from .._aipower import Conversation
from .._exceptions import ChatbridgeError
from ._errors import INTERRUPTED, describe, error_json, exit_code
from ._options import Destination
from ._output import print_json_line
from ._spinner import stderr_is_terminal
from ._turn import answer, reply_json

__all__ = ["converse"]

_PROMPT = "you> "


def _enable_line_editing() -> None:
    with contextlib.suppress(ImportError):  # not on every platform; input() works without it
        import readline  # noqa: F401  (importing it is what turns editing on)


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def converse(args: argparse.Namespace, target: Destination, opening: list[dict[str, str]]) -> int:
    _enable_line_editing()
    if not args.json and stderr_is_terminal():
        model = f", model {target.model}" if target.model else ""
        _note(f"Chatting with {target.name} at {target.url}{model}.")
        _note("Ctrl-C cancels an answer, Ctrl-D quits.")
    messages = list(opening)
    conversation = Conversation()
    with asyncio.Runner() as runner:
        while True:
            try:
                line = input(_PROMPT)
            except EOFError:
                print()
                return 0
            except KeyboardInterrupt:  # at the prompt: drop the line, like a shell
                print()
                continue
            if not line.strip():
                continue
            messages.append({"role": "user", "content": line})
            try:
                reply = runner.run(answer(args, target, messages, conversation))
            except KeyboardInterrupt:
                messages.pop()
                _note("(answer cancelled)")
                if args.json:
                    print_json_line(error_json("answer cancelled", INTERRUPTED))
                continue
            except ChatbridgeError as error:  # the conversation goes on; the turn is dropped
                messages.pop()
                code = exit_code(error)
                text = describe(error, args)
                _note(f"chatbridge: error: {text} [exit code {code}]")
                if args.json:
                    print_json_line(error_json(text, code))
                continue
            messages.append({"role": "assistant", "content": reply.text})
            if args.json:  # JSON Lines: one compact object per answer
                print_json_line(reply_json(target, reply))
