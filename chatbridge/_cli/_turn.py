"""One turn of ``chatbridge chat``: a spinner until the first token, the answer streamed to
stdout (or kept for ``--json``), and the JSON shape of a reply."""

from __future__ import annotations

import argparse
from typing import Any

from .._aipower import Conversation
from .._types import HistoryTrimmed
from ._ask import Reply, ask
from ._options import Destination
from ._output import write
from ._spinner import Spinner, stderr_is_terminal

__all__ = ["answer", "reply_json"]


async def answer(
    args: argparse.Namespace,
    target: Destination,
    messages: list[dict[str, str]],
    conversation: Conversation,
) -> Reply:
    """Ask, with a spinner until the first token; the answer goes to stdout unless ``--json``."""
    decorate = not args.json and stderr_is_terminal()
    wrote = False
    with Spinner(f"Asking {target.name} at {target.url}…", enabled=decorate) as spinner:

        def on_chunk(chunk: str) -> None:
            nonlocal wrote
            spinner.stop()
            if not args.json:
                write(chunk)
                wrote = True

        try:
            return await ask(
                target,
                messages,
                stream=not args.no_stream,
                on_chunk=on_chunk,
                conversation=conversation,
                proxy=args.proxy,
                timeout=args.timeout,
            )
        finally:
            if wrote:  # also when the answer broke off: the error line starts on its own line
                write("\n")


def reply_json(target: Destination, reply: Reply) -> dict[str, Any]:
    provider, site, model = reply.answered_by or (target.name, target.url, target.model)
    route = {"route": target.route} if target.route is not None else {}
    return {
        **route,
        "provider": provider,
        "site": site,
        "model": model,
        "answer": reply.text,
        "streamed": reply.streamed,
        "chunks": reply.chunks,
        "first_token_seconds": _rounded(reply.first_token_seconds),
        "seconds": _rounded(reply.seconds),
        "history": _history(reply.history),
    }


def _history(trimmed: HistoryTrimmed | None) -> dict[str, Any] | None:
    """What the site was not sent of the conversation (``None``: it was all sent)."""
    return None if trimmed is None else trimmed.fields()


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 4)
