"""``chatbridge check --config FILE``: probe every target of every route, and show each
target's circuit breaker as this probe left it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .._client._client import AsyncClient
from .._client._config import Target as RouteTarget
from .._exceptions import ChatbridgeError, RateLimitError, TransportError
from .._providers._aipower_base import AIPowerSite
from ._ask import ask
from ._errors import exit_code
from ._options import Target
from ._probe import Probe, probe_site

__all__ = ["RouteProbe", "check_routes"]

_PROBE = "chatbridge check: please answer with one short sentence."


@dataclass
class RouteProbe(Probe):
    route: str | None = None
    target: str | None = None
    breaker: dict[str, Any] = field(default_factory=dict)


def _cli_target(target: RouteTarget) -> Target:
    options = dict(target.options)
    site_url = options.pop("site_url", None)
    chat_page = options.pop("chat_page", None)
    bot_id = options.pop("bot_id", None)
    options.pop("proxy", None)  # --proxy applies to every probe
    model = target.model or str(getattr(target.provider, "default_model", None) or "")
    return Target(
        target.provider,
        site_url,
        model,
        chat_page=chat_page,
        bot_id=int(bot_id) if bot_id is not None else None,
        options=tuple(options.items()),
    )


async def _probe_chat(target: Target, proxy: str | None, timeout: float) -> Probe:
    """Any provider: one short message, answered or not."""
    probe = Probe(target.name, target.url)
    started = time.perf_counter()
    try:
        reply = await ask(
            target,
            [{"role": "user", "content": _PROBE}],
            stream=True,
            on_chunk=lambda chunk: None,
            proxy=proxy,
            timeout=timeout,
        )
    except ChatbridgeError as error:
        probe.error = str(error)
        probe.exit_code = exit_code(error)
        probe.reachable = not isinstance(error, TransportError)
        return probe
    probe.reachable = probe.answered = True
    probe.streaming = reply.streamed
    probe.latency_ms = round((time.perf_counter() - started) * 1000, 1)
    if reply.first_token_seconds is not None:
        probe.first_token_ms = round(reply.first_token_seconds * 1000, 1)
    return probe


async def check_routes(
    config: str, proxy: str | None, timeout: float, progress: Any
) -> list[RouteProbe]:
    client = AsyncClient(config=config)
    book = client._engine.health_book  # the probes' outcomes step the same breakers
    results: list[RouteProbe] = []
    for name, route in client.routes.items():
        for target in route.targets:
            cli_target = _cli_target(target)
            progress(f"Checking route {name}: {target.label}…")
            if issubclass(target.provider, AIPowerSite):
                probe = await probe_site(cli_target, proxy, timeout)
            else:
                probe = await _probe_chat(cli_target, proxy, timeout)
            health = book.get(target.key)
            if probe.answered:
                health.success()
            else:
                health.failure(rate_limited=probe.exit_code == exit_code(RateLimitError("")))
            results.append(RouteProbe(**vars(probe), route=name, target=target.label, breaker={}))
    snapshot = book.snapshot()
    for result, target in zip(
        results, [t for r in client.routes.values() for t in r.targets], strict=True
    ):
        result.breaker = snapshot.get(target.key, {})
    return results
