"""``chatbridge chat``: one question (argument or stdin), or a conversation on a terminal."""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace
from typing import Any

from .._aipower import Conversation
from ._errors import ALWAYS, UsageError
from ._options import (
    Destination,
    add_connection_options,
    add_page_options,
    check_proxy,
    route_target,
    takes_base_url,
)
from ._output import print_json
from ._repl import converse
from ._script import run_script
from ._turn import answer, reply_json

__all__ = ["register"]

_EXAMPLES = """\
examples:
  chatbridge chat --url https://your-site.example "Hello!"
  chatbridge chat --url https://your-site.example what is a nonce   (words join into one)
  echo "Summarise this" | chatbridge chat --url https://your-site.example --json
  chatbridge chat --provider ChatGptt --url https://your-site.example   (a conversation)
  chatbridge chat --config chatbridge.toml --model default "Hello"   (a route: fails over)
  printf '%s\n' '"Remember teal."' '"Which colour?"' | chatbridge chat --url URL --jsonl

--json prints one object per answer: indented for one question, one line each (JSON Lines)
in a conversation. Its fields:
  provider, site, model   who answered, where, with which model
  answer                  the whole answer text
  chunks                  how many pieces the answer arrived in (1: a JSON reply)
  streamed                true when it arrived in more than one piece; a site that cannot
                          stream (plugin 1.7, or --no-stream) answers in one: false
  first_token_seconds     seconds until the first piece
  seconds                 seconds until the whole answer
  history                 null, or what the site was not sent of the conversation as
                          written: dropped and shortened turns, removed_chars and budget
                          (AI Power: too long for one message), folded turns and
                          max_messages (AI Engine: more than its bot keeps), and a
                          one-line message
On failure it prints {"error": MESSAGE, "exit_code": CODE} instead (one line; in a
conversation, for the failed or cancelled turn, and the conversation goes on).

--jsonl holds one conversation driven by a script: each line of stdin is one message, a
JSON string ("Hello") or {"content": "Hello"} ({"role": "system", ...}: a prompt for the
turns after it), read as it comes; each answer is one line on stdout as --json prints it,
or {"error": ..., "exit_code": ..., "line": N} for a turn that failed (it leaves no trace
in the history; the conversation goes on). Exit code: 0 when every turn was answered, else
the first failure's.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "chat",
        help="ask a site one question, or hold a conversation",
        description=(
            "Send MESSAGE (or stdin, when piped) and print the answer as it streams. With no "
            "message on a terminal, hold a conversation that keeps its history: Ctrl-C "
            "cancels the current answer, Ctrl-D quits. With --url and no --provider, the "
            "site's page tells which plugin it runs (AI Power or AI Engine)."
        ),
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "message",
        nargs="*",
        metavar="MESSAGE",
        help='the question; several words are joined with spaces, quoted or not ("-": stdin)',
    )
    parser.add_argument("--provider", metavar="NAME", help="provider (see `chatbridge providers`)")
    parser.add_argument(
        "--url",
        metavar="SITE",
        help="any AI Power or AI Engine site (http:// or https://): its home page or the page "
        "with the chat; for OpenAICompatible, the endpoint's base URL (http://127.0.0.1:11434/v1)",
    )
    parser.add_argument(
        "--model",
        help="model name (default: the provider's default); with --config, the route's name "
        "(default: the route called default, or the only one)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="a routes file (TOML, see docs/routing.md): ask a route, which fails over from "
        "one target to the next",
    )
    parser.add_argument("--system", metavar="TEXT", help="a system prompt sent with every turn")
    add_page_options(parser)
    add_connection_options(parser, timeout=None)
    parser.add_argument(
        "--no-stream", action="store_true", help="wait for the whole answer instead of streaming"
    )
    parser.add_argument(
        "--json", action="store_true", help="machine-readable output (fields: see below)"
    )
    parser.add_argument(
        "--jsonl",
        action="store_true",
        help="a scripted conversation: one JSON message per line of stdin, one JSON answer "
        "per line of stdout (see below)",
    )
    # words_dest: the list that words found after options join (see _main.main).
    parser.set_defaults(
        handler=run, words_dest="message", exit_codes=ALWAYS | {0, 3, 5, 6, 7, 8, 9, 10}
    )


def run(args: argparse.Namespace) -> int:
    if args.config is not None:
        if args.provider is not None or args.url is not None:
            raise UsageError("--config asks a route; --provider and --url name one site: use one")
        target = route_target(args.config, args.model)
    else:
        target = Destination.resolve(args.provider, args.url, args.model)
        if takes_base_url(target.provider) and (args.chat_page or args.bot_id is not None):
            raise UsageError(
                f"--chat-page and --bot-id pick a chat on an AI Power site; "
                f"{target.name} talks to an endpoint (--url is its base URL)"
            )
        target = replace(target, chat_page=args.chat_page, bot_id=args.bot_id)
    check_proxy(args.proxy)
    args.deadline_said = target.deadline_said(args.timeout)  # for a timeout's message
    opening = [{"role": "system", "content": args.system}] if args.system else []
    if args.jsonl:
        if args.message:
            raise UsageError("--jsonl reads the messages from stdin: give no MESSAGE")
        return run_script(args, target, opening)
    message = _one_shot_message(" ".join(args.message) if args.message else None)
    if message is None:
        return converse(args, target, opening)
    messages = [*opening, {"role": "user", "content": message}]
    reply = asyncio.run(answer(args, target, messages, Conversation()))
    if args.json:
        print_json(reply_json(target, reply))
    return 0


def _one_shot_message(message: str | None) -> str | None:
    """The message to send once, or ``None`` for a conversation (no message, a terminal)."""
    if message is None and sys.stdin.isatty():
        return None
    if message is None or message == "-":
        message = sys.stdin.read().strip()
        if not message:
            raise UsageError("nothing to send: the message on stdin is empty")
    elif not message.strip():
        raise UsageError("nothing to send: the message is empty")
    return message
