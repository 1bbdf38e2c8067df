"""``chatbridge demo``: the README's main job, against the built-in local AI Power site (or,
with ``--plugin ai-engine``, the local AI Engine site: ``_demo_engine``)."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Coroutine
from typing import Any

from rich.console import Console

from .._aipower import ClientStats
from .._exceptions import ChatbridgeError
from .._providers._aipower_base import AIPowerSite
from .._providers.chatgpt4o import Chatgpt4o
from .._providers.chatgptt import ChatGptt
from .._types import Messages
from ._errors import ALWAYS, UsageError

__all__ = ["register"]

_TURNS = (
    "Hello! Which site am I talking to?",
    "Please repeat what I asked first.",
    "One more turn, after the site rotated its nonce.",
)


def register(subparsers: Any) -> None:
    from ..site._aiengine._config import ENGINE_GENERATIONS
    from ..site._config import GENERATIONS

    parser = subparsers.add_parser(
        "demo",
        help="chat with the built-in local AI Power (or AI Engine) site",
        description=(
            "Start the local AI Power site in-process, hold a short multi-turn conversation "
            "through Chatgpt4o and ChatGptt pointed at it, streaming the answers, then show "
            "what went over the wire. With --plugin ai-engine: the local AI Engine site, "
            "through AIEngine, while its nonce rotates and expires. Needs no network."
        ),
        epilog="examples:\n  chatbridge demo --generation aipkit\n"
        "  chatbridge demo --plugin ai-engine --generation 2.4",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--plugin",
        choices=("ai-power", "ai-engine"),
        default="ai-power",
        help="the plugin the local site runs (default: ai-power)",
    )
    parser.add_argument(
        "--generation",
        choices=(*GENERATIONS, *ENGINE_GENERATIONS),
        default=None,
        help="plugin generation the local site speaks (AI Power: default 2.2, what most sites "
        "run; AI Engine: 2.4 or 3.6, the default)",
    )
    parser.add_argument(
        "--no-stream",
        action="store_true",
        help="the site answers in JSON, not a stream (1.7 never streams; AIPKit always does, "
        "so it refuses this option)",
    )
    parser.set_defaults(handler=run, exit_codes=ALWAYS | {0})


def run(args: argparse.Namespace) -> int:
    if args.plugin == "ai-engine":
        generation = args.generation or "3.6"
        if generation not in ("2.4", "3.6"):
            raise UsageError(f"--generation {generation}: AI Engine's generations are 2.4, 3.6")
        from ._demo_engine import engine_demo

        return _guarded(engine_demo(generation, not args.no_stream))
    args.generation = args.generation or "2.2"
    if args.generation in ("2.4", "3.6"):
        raise UsageError(
            f"--generation {args.generation}: an AI Engine generation (add --plugin ai-engine)"
        )
    if args.no_stream and args.generation == "aipkit":
        raise UsageError(
            "--no-stream: an AIPKit site (plugin 2.3+) always streams its answers; for JSON "
            "replies pick --generation 1.7, 1.8 or 2.2"
        )
    return _guarded(_demo(args.generation, not args.no_stream))


def _guarded(demo: Coroutine[Any, Any, int]) -> int:
    try:
        return asyncio.run(demo)
    except ChatbridgeError as error:  # the built-in site failing is a bug of ours: exit 11
        raise RuntimeError(f"the built-in local site failed: {error}") from error


async def _conversation(
    console: Console, provider: type[AIPowerSite], site: Any, streaming: bool
) -> None:
    messages: list[dict[str, str]] = []
    for number, question in enumerate(_TURNS, start=1):
        if number == len(_TURNS):
            site.advance_ticks(2)  # two WordPress ticks later: the cached nonce is dead
            console.print("[dim]  (site clock moved two nonce ticks forward)[/dim]")
        messages.append({"role": "user", "content": question})
        console.print(f"[bold cyan]you[/bold cyan]  {question}")
        console.print(f"[bold green]{provider.__name__}[/bold green] ", end="")
        answer = await _ask(console, provider, messages, streaming)
        messages.append({"role": "assistant", "content": answer})


async def _ask(
    console: Console, provider: type[AIPowerSite], messages: Messages, streaming: bool
) -> str:
    if provider is ChatGptt and streaming:
        parts = []
        async for chunk in ChatGptt.create_async_generator(model="gpt-4o", messages=messages):
            parts.append(chunk)
            console.print(chunk, end="", markup=False, highlight=False)
        console.print()
        return "".join(parts)
    answer = await Chatgpt4o.create_async(model="gpt-4o-mini", messages=messages)
    console.print(answer, markup=False, highlight=False)
    return answer


async def _demo(generation: str, streaming: bool) -> int:
    from ..site import LocalSite, SiteConfig

    console = Console(highlight=False, soft_wrap=True)  # answers stay one line in a pipe
    config = SiteConfig(generation=generation, stream=streaming)  # type: ignore[arg-type]
    local = LocalSite(config)
    started = time.perf_counter()
    async with local as url:
        # What the site does, not what was asked: 1.7 never streams, AIPKit always does.
        mode = "streaming" if generation == "aipkit" or config.streams() else "JSON replies"
        console.print(f"[bold]Local AI Power site[/bold] (plugin {generation}, {mode}) at {url}\n")
        seed_urls = {provider: provider.url for provider in (Chatgpt4o, ChatGptt)}
        try:
            for provider in seed_urls:
                provider.url = url  # retargets page, endpoint and token cache at once
                await _conversation(console, provider, local, streaming)
                console.print()
        finally:  # the providers point at their own sites again for whoever runs next
            for provider, seed_url in seed_urls.items():
                provider.url = seed_url
        totals: ClientStats = Chatgpt4o.site(url).stats  # one token cache per site, shared
        site_stats = local.stats
    elapsed = time.perf_counter() - started
    console.print("[bold]On the wire[/bold] (both providers share one token cache per site)")
    refused = site_stats.nonce_failures
    console.print(f"  messages answered:       {totals.messages}")
    console.print(f"  chat requests sent:      {totals.chat_requests}")
    console.print(f"  pages fetched:           {totals.page_fetches}")
    console.print(f"  nonce refreshes:         {totals.nonce_refreshes}")
    console.print(f"  nonces the site refused: {refused} (each one refreshed and retried)")
    console.print(f"  finished in {elapsed:.2f} s")
    return 0
