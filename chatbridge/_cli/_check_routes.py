"""``chatbridge check --config FILE``: probe every target of every route, and show each
target's circuit breaker as this probe left it, how it takes a request with tools
(``native``: sends them on; ``emulate``: in the text it gets; ``none``: such a request skips
it), its planned share of the route's calls (by its strategy), and, when the file names the
fleet's Redis, the fleet's share of the answers, calls in flight and latency estimate (time
to first token) for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._client._balance import Balancer, planned_shares
from .._client._client import AsyncClient
from .._client._config import Config, load_config
from .._client._config import Target as RouteTarget
from .._client._health import HealthBook
from .._exceptions import RateLimitError
from .._providers._sites import SiteProvider
from ..server._fleet import fleet_loads
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
    strategy: str = "ordered"
    #: The target's share of the route's calls while all are healthy (``None``: by load).
    share: float | None = None
    #: The fleet's calls in flight and latency estimate (``None``: no Redis named, or not
    #: counted there for this target).
    in_flight: int | None = None
    latency_estimate: float | None = None
    #: The target's share of the answers the fleet gave on a route with a strategy
    #: (``None``: no Redis named, or an ordered route).
    fleet_share: float | None = None


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
            # the way `chat` would go: --proxy, else the target's, else the default proxy
            via = proxy or next(iter(client._core.router.proxies.pool(target)), None)
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
    await _loads(results, routes, config)
    return results


async def _loads(results: list[RouteProbe], routes: Config, source: str) -> None:
    """Each probe's planned share, and what the fleet's Redis knows of its target."""
    fleet = await fleet_loads(routes, source)
    placed = [(route, target) for route in routes.routes.values() for target in route.targets]
    shares = [share for route in routes.routes.values() for share in planned_shares(route)]
    for result, share, (route, target) in zip(results, shares, placed, strict=True):
        result.share, result.strategy = share, route.strategy
        seen = (fleet or {}).get(route.name, {}).get(target.label, {})
        if Balancer.counts_in_store(route, target):
            result.in_flight = seen.get("in_flight")
        result.latency_estimate = seen.get("latency")
        if route.strategy != "ordered":
            result.fleet_share = seen.get("share")
