"""The core both clients share: routes, the router, and how one call becomes a completion
or a stream of chunks. The client classes (``_client``, ``_sync_client``) are thin over it.
(Not to be confused with the protocol engines under it, such as ``chatbridge._aipower``.)"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Coroutine, Mapping
from typing import Any

from .._checks import check_timeout
from .._exceptions import ConfigError, InvalidRequestError, RouteNotFoundError
from .._providers._base import BaseProvider
from .._providers._registry import get_provider
from .._providers._sync import aclose
from .._providers.anysite import AnySite
from .._types import Messages, ToolCallDelta
from ._config import (
    Config,
    Route,
    Target,
    check_site_known,
    check_tool_mode,
    load_config,
    parse_routes,
)
from ._embedded import DEFAULT_ROUTE, EmbeddedSite
from ._health import HealthBook
from ._models import (
    ChatbridgeInfo,
    ChatCompletion,
    ChatCompletionChunk,
    CompletionUsage,
    chatbridge_info,
    completion,
    completion_usage,
    content_chunk,
    finish_chunk,
    history_note,
    new_completion_id,
    now,
    role_chunk,
    tool_call_chunk,
    usage_chunk,
)
from ._policy import Policy
from ._proxies import default_proxies
from ._router import CallReport, Router
from ._tools import merge_calls

__all__ = ["ClientCore", "check_messages", "shared_health", "split_options"]

#: One health book per policy, shared by every client in the process that uses that policy.
_BOOKS: dict[Policy, HealthBook] = {}


def shared_health(policy: Policy) -> HealthBook:
    book = _BOOKS.get(policy)
    if book is None:
        book = _BOOKS[policy] = HealthBook(policy)
    return book


def check_messages(messages: Any) -> Messages:
    if not isinstance(messages, (list, tuple)) or not messages:
        raise InvalidRequestError("messages must be a non-empty list", param="messages")
    for index, message in enumerate(messages):
        # (``dict`` first: the usual message, told apart without the ABC's slower check)
        if isinstance(message, (dict, Mapping)) and "role" in message:
            continue
        raise InvalidRequestError(
            f"messages[{index}] must be a mapping with a 'role'", param=f"messages[{index}]"
        )
    return messages


class ClientCore:
    """What both clients share: routes, the router, and how one call becomes chunks."""

    def __init__(
        self,
        provider: type[BaseProvider] | str | None,
        routes: Mapping[str, Any] | None,
        config: str | os.PathLike[str] | Config | None,
        policy: Policy | None,
        health: HealthBook | None,
        provider_options: dict[str, Any],
    ) -> None:
        loaded: Config | None = None
        if config is not None:
            loaded = config if isinstance(config, Config) else load_config(config)
        self.routes: dict[str, Route] = dict(loaded.routes) if loaded else {}
        if routes is not None:
            self.routes.update(parse_routes(routes, "routes="))
        self.policy = policy or (loaded.policy if loaded else Policy())
        self.config = loaded
        if isinstance(provider, str):
            try:
                provider = get_provider(provider)
            except ValueError as exc:
                raise ConfigError(f"provider={provider!r}: {exc}") from exc
        if provider is None and provider_options.get("site_url"):
            provider = AnySite  # the site's plugin is found from its page
        self.provider = provider
        options = dict(provider_options)
        #: ``Client(provider=..., model=...)``: the model used when a call names none.
        self.default_model: str | None = options.pop("model", None)
        self.continues_prefill = bool(options.pop("continues_prefill", False))
        self.target_name: str | None = options.pop("name", None)
        self.tools: str | None = options.pop("tools", None)
        self.provider_options = options
        if provider is not None and self.continues_prefill and not provider.can_continue_prefill:
            raise ConfigError(
                f"continues_prefill: {provider.get_name()} cannot continue a partial answer"
            )
        if provider is not None:
            check_tool_mode(provider, self.tools, "tools")
        self.health_book = health or shared_health(self.policy)
        self.router = Router(self.health_book, self.policy)
        self.router.proxies.default = default_proxies(
            loaded.client if loaded else None, loaded.source if loaded else "client"
        )
        self.embedded = EmbeddedSite() if provider is None and not self.routes else None

    def route_names(self) -> list[str]:
        names = list(self.routes)
        if self.embedded is not None:
            names.append(DEFAULT_ROUTE)
        return names

    def complete_call(
        self, model: str, messages: Any, timeout: Any, options: dict[str, Any]
    ) -> Coroutine[Any, Any, ChatCompletion]:
        """One ``create`` call for a whole answer, its arguments checked now: the coroutine of
        the completion. Both clients use it."""
        checked = check_messages(messages)
        seconds = check_timeout(timeout)
        _, options = split_options(options)
        return self.complete(model, checked, seconds, options)

    def stream_call(
        self, model: str, messages: Any, timeout: Any, options: dict[str, Any]
    ) -> AsyncIterator[ChatCompletionChunk]:
        """One ``create(stream=True)`` call, its arguments checked now (an unknown route
        raises now too): the stream of chunks. Both clients use it."""
        checked = check_messages(messages)
        seconds = check_timeout(timeout)
        include_usage, options = split_options(options)
        self.check_route(model)
        return self.stream(model, checked, seconds, options, include_usage)

    def check_route(self, model: str) -> None:
        """Raise :class:`RouteNotFoundError` now if ``model`` can name nothing (a stream
        then fails at ``create``, like the OpenAI SDK's, not at the first chunk)."""
        if model in self.routes or self.provider is not None or self.embedded is not None:
            return
        known = ", ".join(self.routes) or "none"
        raise RouteNotFoundError(f"No route named {model!r} (routes: {known})")

    async def resolve(self, model: str) -> tuple[Route, str | None]:
        """The route for ``model`` and the model name its targets get when they name none."""
        route = self.routes.get(model)
        if route is not None:
            return route, None
        if self.provider is not None:
            check_site_known(
                self.provider, self.provider_options, f"provider={self.provider.get_name()}"
            )
            target = Target(
                self.provider,
                self.provider_options,
                continues_prefill=self.continues_prefill,
                name=self.target_name,
                tools=self.tools,
            )
            chosen = model or self.default_model
            return Route(model or self.provider.get_name(), (target,)), chosen
        if self.embedded is not None:
            return await self.embedded.route(), model
        known = ", ".join(self.routes) or "none"
        raise RouteNotFoundError(f"No route named {model!r} (routes: {known})", provider=None)

    @staticmethod
    def answered_model(report: CallReport, requested: str | None) -> str:
        target = report.target or report.current
        if target is None:
            return requested or ""
        if target.model or not requested:
            return target.default_answer_model or requested or ""
        getter = getattr(target.provider, "get_model", None)
        if requested and getter is not None:
            try:
                return str(getter(requested))
            except ValueError:
                return requested
        default = getattr(target.provider, "default_model", None)
        return str(default or requested or "")

    @staticmethod
    def info(report: CallReport) -> ChatbridgeInfo:
        """The ``chatbridge`` field: the route, who answered and every attempt so far."""
        target = report.target or report.current
        if target is None:
            return chatbridge_info(report.route, None, None, None, report.attempts)
        note = history_note(report.history) if report.history is not None else None
        return chatbridge_info(
            report.route, target.provider_name, target.site, target.label, report.attempts, note
        )

    async def complete(
        self, model: str, messages: Messages, timeout: float | None, options: dict[str, Any]
    ) -> ChatCompletion:
        route, requested = await self.resolve(model)
        report = CallReport(route.name)
        text: Any = ""
        attempts = self.router.run(
            route,
            messages,
            report,
            model=requested,
            options=options,
            timeout=timeout,
            buffered=True,
        )
        try:
            async for attempt in attempts:
                async for text in attempt.texts:  # noqa: B007 - one item: the whole answer
                    pass
        except BaseException:
            await aclose(attempts)  # the router settles the attempt the error came from
            raise
        usage = report.usage
        calls = report.tool_calls
        return completion(
            new_completion_id(),
            now(),
            self.answered_model(report, requested),
            text,
            report.finish.reason if report.finish else "tool_calls" if calls else "stop",
            _usage(usage) if usage else None,
            self.info(report),
            merge_calls(calls) if calls else None,
        )

    async def stream(
        self,
        model: str,
        messages: Messages,
        timeout: float | None,
        options: dict[str, Any],
        include_usage: bool,
    ) -> AsyncIterator[ChatCompletionChunk]:
        route, requested = await self.resolve(model)
        report = CallReport(route.name)
        ident, created = new_completion_id(), now()
        name = ""
        first = True
        attempts = self.router.run(
            route,
            messages,
            report,
            model=requested,
            options=options,
            timeout=timeout,
        )
        try:
            async for attempt in attempts:
                async for text in attempt.texts:
                    if first:
                        first = False
                        name = self.answered_model(report, requested)
                        yield self._first(ident, created, name, text, report)
                        continue
                    if type(text) is str:
                        yield content_chunk(ident, created, name, text)
                    else:  # a piece of a tool call
                        yield tool_call_chunk(ident, created, name, text, False, None)  # type: ignore[arg-type]
        except BaseException:  # an attempt's error, or the caller leaving early
            await aclose(attempts)  # the router settles the attempt it was taken from
            raise
        if first:  # an empty answer: the role chunk still comes first, as OpenAI sends it
            name = self.answered_model(report, requested)
            yield role_chunk(ident, created, name, "", None)
        # ``model`` stays the first chunk's for the whole stream (after a continuation, the
        # final chunk's ``chatbridge`` field names the target that finished it).
        finish = report.finish.reason if report.finish else "stop"
        yield finish_chunk(ident, created, name, finish, self.info(report))
        if include_usage and report.usage is not None:
            yield usage_chunk(ident, created, name, _usage(report.usage))

    def _first(
        self, ident: str, created: int, name: str, item: str | ToolCallDelta, report: CallReport
    ) -> ChatCompletionChunk:
        """The stream's first chunk: the role, the first text or tool-call piece, and who
        started answering."""
        if type(item) is str:
            return role_chunk(ident, created, name, item, self.info(report))
        return tool_call_chunk(ident, created, name, item, True, self.info(report))  # type: ignore[arg-type]

    def health(self) -> dict[str, Any]:
        """Every target's breaker (its endpoint's), cool-down (its model's), share of the
        route's answers, calls in flight and latency (time to first token), by route, then
        by target label (as this process saw them)."""
        return self._report(
            {name: self.router.balancer.loads(r) for name, r in self.routes.items()}
        )

    def _report(self, loads: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
        snapshot = self.health_book.snapshot()
        report: dict[str, Any] = {}
        proxies = self.router.proxies
        for name, route in self.routes.items():
            report[name] = shown = {}
            for target in route.targets:
                shown[target.label] = {
                    **_target_health(snapshot, target),
                    **loads[name][target.label],
                }
                if proxies.pool(target):
                    shown[target.label]["proxies"] = proxies.report(target)
        return report

    async def ahealth(self) -> dict[str, Any]:
        """:meth:`health`, read from the fleet when breakers are shared (``/health/ready``)."""
        keys = {
            key
            for route in self.routes.values()
            for target in route.targets
            for key in (target.key, target.cool_key)
        }
        await self.health_book.refreshed(sorted(keys))
        balancer = self.router.balancer
        loads = {name: await balancer.fleet_loads(route) for name, route in self.routes.items()}
        return self._report(loads)

    async def aclose(self) -> None:
        await self.router.balancer.aclose()  # (answers still being counted in the fleet)
        if self.embedded is not None:
            await self.embedded.aclose()


def _target_health(snapshot: dict[str, dict[str, Any]], target: Target) -> dict[str, Any]:
    """A target's breaker (``Target.key``'s) with its own model's cool-down."""
    shown = dict(snapshot.get(target.key, {"state": "closed", "attempts": 0}))
    cool = snapshot.get(target.cool_key) if target.cool_key != target.key else None
    if cool is not None:
        shown["cooling_for"] = cool.get("cooling_for", 0.0)
    return shown


def _usage(usage: Any) -> CompletionUsage:
    return completion_usage(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)


def split_options(kwargs: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """``include_usage``, and the options the providers get."""
    if not kwargs:
        return False, {}
    stream_options = kwargs.pop("stream_options", None) or {}
    include_usage = (
        bool(stream_options.get("include_usage")) if isinstance(stream_options, Mapping) else False
    )
    options = {k: v for k, v in kwargs.items() if v is not None}
    return include_usage, options

