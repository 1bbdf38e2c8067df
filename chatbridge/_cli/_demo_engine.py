"""``chatbridge demo --plugin ai-engine``: a conversation with the built-in local AI Engine
site through ``AIEngine``, while the site's nonce rotates (a reply hands over the next one)
and then expires (a fresh one is asked for), then what went over the wire."""

from __future__ import annotations

import time

from rich.console import Console

from .._providers.aiengine import AIEngine
from .._types import Usage

__all__ = ["engine_demo"]

_TURNS = (
    ("Hello! Which site am I talking to?", 0, ""),
    ("Please repeat what I asked first.", 1, "one tick later: the reply hands over a new nonce"),
    ("One more turn, after the nonce expired.", 2, "two more ticks: the nonce is dead"),
)


async def _ask(console: Console, url: str, messages: list[dict[str, str]], stream: bool) -> str:
    parts: list[str] = []
    usage: Usage | None = None
    chunks = AIEngine.create_async_generator("", messages, site_url=url, stream=stream)
    async for chunk in chunks:
        if isinstance(chunk, Usage):
            usage = chunk
        elif isinstance(chunk, str):
            parts.append(chunk)
            console.print(chunk, end="", markup=False, highlight=False)
    console.print()
    if usage is not None:
        console.print(f"[dim]  ({usage.total_tokens} tokens, as the site counted them)[/dim]")
    return "".join(parts)


async def engine_demo(generation: str, stream: bool) -> int:
    from ..site import AIEngineSiteConfig, LocalSite

    console = Console(highlight=False, soft_wrap=True)  # answers stay one line in a pipe
    local = LocalSite(AIEngineSiteConfig(generation=generation))  # type: ignore[arg-type]
    started = time.perf_counter()
    async with local as url:
        how = "streaming" if stream else "whole replies"
        nonce = "start_session" if generation == "3.6" else "the nonce in the page"
        console.print(
            f"[bold]Local AI Engine site[/bold] (plugin {generation}, {nonce}, {how}) at {url}\n"
        )
        messages: list[dict[str, str]] = []
        for question, ticks, why in _TURNS:
            if ticks:
                local.advance_ticks(ticks)
                console.print(f"[dim]  (site clock: {why})[/dim]")
            messages.append({"role": "user", "content": question})
            console.print(f"[bold cyan]you[/bold cyan]  {question}")
            console.print("[bold green]AIEngine[/bold green] ", end="")
            messages.append(
                {"role": "assistant", "content": await _ask(console, url, messages, stream)}
            )
        totals = AIEngine.site(url).stats
        refused = local.stats.nonce_failures
    console.print("\n[bold]On the wire[/bold]")
    console.print(f"  messages answered:         {totals.messages}")
    console.print(f"  chat requests sent:        {totals.chat_requests}")
    console.print(f"  pages fetched:             {totals.page_fetches}")
    console.print(f"  start_session calls:       {totals.session_starts}")
    console.print(f"  nonces handed over:        {totals.new_tokens} (new_token in a reply)")
    console.print(f"  nonce refreshes:           {totals.nonce_refreshes}")
    console.print(f"  nonces the site refused:   {refused} (each one refreshed and retried)")
    console.print(f"  finished in {time.perf_counter() - started:.2f} s")
    return 0
