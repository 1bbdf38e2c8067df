"""What a running fleet knows of each target, read from its shared store by another process
(``chatbridge check --config``): calls in flight and latency estimates, under the namespace
the fleet's processes use (``_namespace``)."""

from __future__ import annotations

from typing import Any

from .._client._balance import Balancer
from .._client._config import Config
from .._client._health import HealthBook
from .._state import FallbackStore, connect_store
from ._run import deployment_namespace
from ._settings import parse_settings

__all__ = ["fleet_loads"]


async def fleet_loads(config: Config, source: str) -> dict[str, dict[str, dict[str, Any]]] | None:
    """By route and target label, what the fleet serving ``config`` counts in its Redis (the
    ``[server]`` table's ``redis_url``): ``None`` without one, or when it does not answer."""
    settings = parse_settings(config.server, source)
    if not settings.redis_url:
        return None
    namespace = deployment_namespace(config, None, settings, source)
    store = await connect_store(settings.redis_url, namespace)
    try:
        if isinstance(store, FallbackStore) and store.degraded:
            return None
        balancer = Balancer(HealthBook(config.policy, state=store))
        return {name: await balancer.fleet_loads(route) for name, route in config.routes.items()}
    finally:
        await store.close()
