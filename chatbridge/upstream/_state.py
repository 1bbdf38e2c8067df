"""The fake upstream's live state: settings, the plan, the counters."""

from __future__ import annotations

import time
from collections.abc import Callable

from ._behaviour import Behaviour, Plan
from ._config import UpstreamConfig
from ._stats import UpstreamStats

__all__ = ["UpstreamState"]


class UpstreamState:
    def __init__(self, config: UpstreamConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self.plan = Plan(clock=clock)
        #: Plans of their own for some models (two models on one endpoint fail apart);
        #: a model without one meets :attr:`plan`.
        self.model_plans: dict[str, Plan] = {}
        self.stats = UpstreamStats()
        self._ids = 0

    def next_behaviour(self, model: str) -> Behaviour:
        """What the next request for ``model`` meets."""
        return self.model_plans.get(model, self.plan).next()

    def next_id(self) -> str:
        self._ids += 1
        return f"chatcmpl-fake{self._ids:08d}"
