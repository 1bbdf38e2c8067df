"""Prometheus metrics, in a registry of the app's own (two apps in one process do not
collide): requests by front door (``endpoint``: ``chat_completions``, ``responses``,
``messages``), route and status, latency and time to first token, attempts and
fail-overs per target, every target's breaker state, share of answers, calls in flight and
latency estimate, per-key requests and tokens (under the key's fingerprint), and every AI
Power site's token refreshes and page fetches read at scrape time, and whether the
process's state is shared right now (Redis reachable) with the count of Redis outages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .._state import current_store
from ._record import Record

__all__ = ["CONTENT_TYPE", "Metrics"]

#: Metric children kept by their labels (see ``Metrics._child``).
_KEPT = 1024

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
_STATES = ("closed", "open", "half_open")


class _Breakers(Collector):
    def __init__(self, health: Callable[[], dict[str, Any]]) -> None:
        self._health = health

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "chatbridge_breaker_state",
            "Circuit breaker state per target (1 for the current state)",
            labels=["route", "target", "state"],
        )
        for route, targets in self._health().items():
            for target, snapshot in targets.items():
                current = str(snapshot.get("state", "closed"))
                for state in _STATES:
                    gauge.add_metric([route, target, state], 1.0 if current == state else 0.0)
        yield gauge


class _Loads(Collector):
    """Each target's share of its route's answers, calls in flight and latency (moving
    average of time to first token), as this process saw them."""

    def __init__(self, health: Callable[[], dict[str, Any]]) -> None:
        self._health = health

    def collect(self) -> Iterator[Metric]:
        labels = ["route", "target"]
        share = GaugeMetricFamily(
            "chatbridge_target_share",
            "Share of the route's answers given by the target (this process)",
            labels=labels,
        )
        busy = GaugeMetricFamily(
            "chatbridge_target_in_flight",
            "Calls in flight to the target (this process)",
            labels=labels,
        )
        latency = GaugeMetricFamily(
            "chatbridge_target_latency_seconds",
            "Moving average of the target's time to first token (this process)",
            labels=labels,
        )
        for route, targets in self._health().items():
            for target, shown in targets.items():
                share.add_metric([route, target], float(shown.get("share") or 0.0))
                busy.add_metric([route, target], float(shown.get("in_flight") or 0))
                if shown.get("latency") is not None:
                    latency.add_metric([route, target], float(shown["latency"]))
        yield share
        yield busy
        yield latency


class _Sites(Collector):
    """Token refreshes and page fetches per AI Power site, read at scrape time."""

    def __init__(self, stats: Callable[[], dict[str, dict[str, int]]]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        refreshes = CounterMetricFamily(
            "chatbridge_token_refreshes",
            "Nonce (token) refreshes per AI Power site: a refused nonce replaced from a fresh page",
            labels=["site"],
        )
        fetches = CounterMetricFamily(
            "chatbridge_page_fetches",
            "Page fetches per AI Power site (discovery and token refreshes)",
            labels=["site"],
        )
        for site, counts in self._stats().items():
            refreshes.add_metric([site], float(counts.get("token_refreshes", 0)))
            fetches.add_metric([site], float(counts.get("page_fetches", 0)))
        yield refreshes
        yield fetches


class _SharedState(Collector):
    def collect(self) -> Iterator[Metric]:
        store = current_store()
        shared = store.shared and not getattr(store, "degraded", False)
        yield GaugeMetricFamily(
            "chatbridge_state_shared",
            "1 while tokens, breakers, limits and conversations are shared (Redis answers)",
            value=1.0 if shared else 0.0,
        )
        yield GaugeMetricFamily(
            "chatbridge_state_outages",
            "Times Redis became unreachable (state fell back to this process's memory)",
            value=float(getattr(store, "outages", 0)),
        )


class Metrics:
    def __init__(
        self,
        health: Callable[[], dict[str, Any]],
        routes: Callable[[], list[str]],
        sites: Callable[[], dict[str, dict[str, int]]] = dict,
    ):
        self.registry = CollectorRegistry()
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        self._routes = routes
        self.requests = Counter(
            "chatbridge_requests",
            "Chat requests by front door (endpoint), route and HTTP status",
            ["endpoint", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "chatbridge_request_duration_seconds",
            "Whole request duration",
            ["endpoint", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.ttft = Histogram(
            "chatbridge_time_to_first_token_seconds",
            "Time from request to the first answer text",
            ["endpoint", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.attempts = Counter(
            "chatbridge_attempts",
            "Attempts per target, by outcome (answered, failed, skipped, continued)",
            ["target", "outcome"],
            registry=self.registry,
        )
        self.stream_errors = Counter(
            "chatbridge_stream_errors",
            "Requests that ended after their 200 with an in-band error or a cut, by route and code",
            ["endpoint", "route", "code"],
            registry=self.registry,
        )
        self.failovers = Counter(
            "chatbridge_failovers",
            "Requests answered by a target after another one failed",
            ["route"],
            registry=self.registry,
        )
        self.key_requests = Counter(
            "chatbridge_key_requests",
            "Requests admitted per API key (its fingerprint, never the key)",
            ["key"],
            registry=self.registry,
        )
        self.key_tokens = Counter(
            "chatbridge_key_tokens",
            "Tokens the targets reported per API key (its fingerprint), by kind",
            ["key", "kind"],
            registry=self.registry,
        )
        self.registry.register(_Breakers(health))
        self.registry.register(_Loads(health))
        self.registry.register(_SharedState())
        self.registry.register(_Sites(sites))

    def observe(self, record: Record) -> None:
        """One chat request (at any front door), done. Unknown model names share the label
        ``unknown``."""
        route = record.route if record.route in self._routes() else "unknown"
        endpoint = record.endpoint
        child = self._child
        child(self.requests, endpoint, route, str(record.status)).inc()
        child(self.latency, endpoint, route).observe(record.duration)
        if record.ttft is not None:
            child(self.ttft, endpoint, route).observe(record.ttft)
        failed = False
        for target, outcome in record.attempts:
            child(self.attempts, target, outcome).inc()
            failed = failed or outcome == "failed"
        if record.status == 200 and record.error:
            self.stream_errors.labels(endpoint, route, record.error).inc()
        elif failed and record.status == 200:
            self.failovers.labels(route).inc()
        if record.counted:
            self.key_requests.labels(record.key).inc()
        if record.usage is not None:
            prompt, completion, _ = record.usage
            self.key_tokens.labels(record.key, "prompt").inc(prompt)
            self.key_tokens.labels(record.key, "completion").inc(completion)

    def _child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, kept: looking a child up by its labels takes the
        metric's lock and checks every label each time. Most labels come from the
        configuration (routes, targets) and fixed words; past ``_KEPT`` children (sites that
        requests name) the rest are looked up each time."""
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            found = metric.labels(*labels)
            if len(self._children) < _KEPT:
                self._children[key] = found
        return found

    def render(self) -> bytes:
        return generate_latest(self.registry)
