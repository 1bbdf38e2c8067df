"""Command line of the fake upstream: ``python -m chatbridge.upstream``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from ..site._main import port_number
from ._app import LocalUpstream
from ._config import DEFAULT_ANSWER_TOKENS, UpstreamConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--host", default="127.0.0.1")
    add("--port", type=port_number, default=0, help="0 = a free port")
    add("--api-key", default=None, help="require 'Authorization: Bearer KEY' (401 otherwise)")
    add("--token-delay", type=float, default=0.0, help="seconds between streamed tokens")
    add("--answer-tokens", type=int, default=DEFAULT_ANSWER_TOKENS, help="tokens per answer")
    add("--usage", action=argparse.BooleanOptionalAction, default=True,
        help="report token usage")  # fmt: skip
    add("--continuation", action=argparse.BooleanOptionalAction, default=True,
        help="continue a trailing assistant message (prefill)")  # fmt: skip
    add("--model", action="append", default=[], dest="models",
        help="a model GET /v1/models lists (repeatable; default: fake-model)")  # fmt: skip


def config_from_args(ns: argparse.Namespace) -> UpstreamConfig:
    return UpstreamConfig(
        api_key=ns.api_key,
        token_delay=ns.token_delay,
        usage=ns.usage,
        continuation=ns.continuation,
        answer_tokens=ns.answer_tokens,
        models=tuple(ns.models) or ("fake-model",),
    )


async def _run(config: UpstreamConfig, host: str, port: int) -> None:
    async with LocalUpstream(config, host=host, port=port) as url:
        print(f"Serving on {url}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m chatbridge.upstream",
        description="A local OpenAI-compatible fake upstream with scriptable faults "
        "(script it with POST /__upstream__/plan).",
    )
    add_arguments(parser)
    ns = parser.parse_args(argv)
    try:
        config = config_from_args(ns)
    except ValueError as error:
        parser.error(str(error))
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_run(config, ns.host, ns.port))
    except OSError as error:
        parser.exit(2, f"cannot listen on {ns.host}:{ns.port}: {error.strerror or error}\n")
