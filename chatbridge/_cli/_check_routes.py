"""``chatbridge check --config FILE``: probe every target of every route, and show each
target's circuit breaker as this probe left it, and how it takes a request with tools
(``native``: sends them on; ``emulate``: in the text it gets; ``none``: such a request skips
it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._client._client import AsyncClient
from .._client._config import Target as RouteTarget
from .._client._config import load_config
from .._client._health import HealthBook
from .._exceptions import RateLimitError
from .._providers._sites import SiteProvider
from ._errors import exit_code
from ._options import Destination
from ._probe import Probe, probe_chat, probe_site

__all__ = ["RouteProbe", "check_routes"]

@dataclass
class RouteProbe(Probe):
    route: str | None = None
    target: str | None = None
    breaker: dict[str, Any] = field(default_factory=dict)
    #: How the target takes a request with tools: native, emulate or none.
    tools: str = "none"


def _cli_target(target: RouteTarget) -> Destination:
    options = dict(target.options)
    site_url = options.pop("site_url", None)
    chat_page = options.pop("chat_page", None)
    bot_id = options.pop("bot_id", None)
    options.pop("proxy", None)  # passed apart: --proxy, else the target's own
    model = target.model or str(getattr(target.provider, "default_model", None) or "")
    return Destination(
        target.provider,
        site_url,
        model,
        chat_page=chat_page,
        bot_id=bot_id,
        options=tuple(options.items()),
    )


async def check_routes(
    config: str, proxy: str | None, timeout: float, progress: Any
) -> list[RouteProbe]:
    routes = load_config(config)
    book = HealthBook(routes.policy)  # the probes' outcomes step the client's breakers
    client = AsyncClient(config=routes, health=book)
    results: list[RouteProbe] = []
    for name, route in client.routes.items():
        for target in route.targets:
            cli_target = _cli_target(target)
            progress(f"Checking route {name}: {target.label}…")
            via = proxy or target.options.get("proxy")  # the way `chat` would go
            if issubclass(target.provider, SiteProvider):  # AI Power, AI Engine, either
                probe = await probe_site(cli_target, via, timeout)
            else:
                probe = await probe_chat(cli_target, via, timeout)
            health = book.get(target.key)
            if probe.answered:
                health.success()
            else:
                health.failure(rate_limited=probe.exit_code == exit_code(RateLimitError("")))
            results.append(
                RouteProbe(
                    **vars(probe),
                    route=name,
                    target=target.label,
                    breaker={},
                    tools=target.tool_mode,
                )
            )
    snapshot = book.snapshot()
    for result, target in zip(
        results, [t for r in client.routes.values() for t in r.targets], strict=True
    ):
        result.breaker = snapshot.get(target.key, {})
    return results
