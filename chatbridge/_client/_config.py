"""Routes: a name callers pass as ``model``, mapped to an ordered list of targets.

Routes come from Python (``Client(routes={...})``) or from a TOML file read with the standard
library's ``tomllib``::

    [routes.default]
    targets = [
      { provider = "AIPower", site_url = "https://site-one.example" },
      { provider = "OpenAICompatible", base_url = "http://127.0.0.1:8000/v1",
        model = "llama3.2", api_key = "env:LOCAL_KEY", continues_prefill = true },
    ]

    [policy]              # optional: the failure policy's timings (``Policy`` fields)
    first_token_timeout = 30

A string ``"env:NAME"`` is read from the environment when the file is loaded. Every mistake
is one :class:`ConfigError` naming the file, the route and the field. Secrets (``api_key``)
never appear in a target's label, its ``repr`` or any message.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any, cast

from yarl import URL

from .._checks import is_connections, is_finite_at_least_zero, is_number, resolve_env
from .._constants import MAX_CONNECTIONS_PER_HOST
from .._exceptions import ConfigError, ProviderNotFoundError
from .._providers._base import AsyncGeneratorProvider, BaseProvider
from .._providers._registry import get_provider
from ._policy import OVERRIDES, Policy, PolicyFieldError

__all__ = [
    "TOOL_MODES",
    "Config",
    "Route",
    "Target",
    "check_site_known",
    "check_tool_mode",
    "load_config",
    "parse_routes",
]

#: Options a target may carry, and their types. Everything else is a config error.
_TARGET_FIELDS: dict[str, tuple[type, ...]] = {
    "provider": (str,),
    "site_url": (str,),
    "chat_page": (str,),
    "bot_id": (str, int),
    "base_url": (str,),
    "api_key": (str,),
    "model": (str,),
    "proxy": (str,),
    "continues_prefill": (bool,),
    "name": (str,),
    "endpoint_origins": (list,),
    "first_token_timeout": (int, float),
    "proxies": (list,),
    "weight": (int,),
    "max_concurrent": (int,),
    "tools": (str,),
    "connections_per_host": (int,),
}
#: How a target takes a request that carries tools: ``native`` (its provider sends them on),
#: ``emulate`` (the tools are put into the text it gets, ``_emulation``), ``none`` (it is
#: skipped). Default: ``native`` where the provider can, else ``none``.
TOOL_MODES = ("native", "emulate", "none")
_URL_FIELDS = ("site_url", "base_url", "proxy")
_SECRET_FIELDS = frozenset({"api_key"})
#: Whole-number target fields: their least and greatest values.
_COUNTS = {"weight": (1, 100), "max_concurrent": (0, 100_000)}
#: What a route may say besides its targets.
_ROUTE_FIELDS = ("targets", "strategy", "fail_over_on")
#: How a route orders the targets left once breakers and cool-downs have spoken.
STRATEGIES = ("ordered", "round_robin", "weighted", "least_busy", "latency")


@dataclass(frozen=True)
class Target:
    """One provider with its options. ``key`` names the site or endpoint (one circuit
    breaker each, shared by every route and call in the process); ``label`` is what logs and
    attempts show: provider and site, never a secret."""

    provider: type[BaseProvider]
    options: Mapping[str, Any] = field(default_factory=dict)
    model: str | None = None
    continues_prefill: bool = False
    name: str | None = None
    #: Options whose values came from ``env:`` (never shown, like ``api_key``).
    secret_options: frozenset[str] = frozenset()
    #: This target's own limit on the wait for its first text (else the policy's).
    first_token_timeout: float | None = None
    #: Its share of a ``weighted`` route's calls, against the other targets' weights.
    weight: int = 1
    #: Calls it may have in flight at once (0: no cap); at the cap it is skipped.
    max_concurrent: int = 0
    #: The outbound proxies it goes through (one per conversation, rotating among new
    #: ones); empty: the client's default proxy, if any, else none.
    proxies: tuple[str, ...] = ()
    #: ``"native"``, ``"emulate"`` or ``"none"`` (:data:`TOOL_MODES`); ``None``: the default.
    tools: str | None = None

    # Computed once per target (a route's targets live as long as the client; an implicit
    # route's are made per call), so the router's per-call bookkeeping stays cheap.
    @cached_property
    def site(self) -> str | None:
        """The site or endpoint, as shown: no credentials, query or fragment."""
        site = self.options.get("site_url") or self.options.get("base_url") or self.provider.url
        return public_url(str(site)) if site else None

    @cached_property
    def provider_name(self) -> str:
        return self.provider.get_name()

    @cached_property
    def streams(self) -> bool:
        """Does the provider stream (``create_async_generator``), or answer whole?"""
        return issubclass(self.provider, AsyncGeneratorProvider)

    @cached_property
    def tool_mode(self) -> str:
        """How this target takes a request that carries tools (:data:`TOOL_MODES`)."""
        if self.tools is not None:
            return self.tools
        return "native" if self.provider.supports_tools else "none"

    @cached_property
    def takes_tools(self) -> bool:
        return self.tool_mode != "none"

    @cached_property
    def default_answer_model(self) -> str:
        """The model named in answers when the call names none: the target's own, else the
        provider's default."""
        return self.model or str(getattr(self.provider, "default_model", None) or "")

    @cached_property
    def key(self) -> str:
        """One circuit breaker per endpoint and identity: two API keys on one server are
        limited and judged apart (by a fingerprint of the key, never the key)."""
        secret = str(self.options.get("api_key") or "")
        url = self.options.get("site_url") or self.options.get("base_url") or ""
        user = URL(str(url)).user if url else None
        identity = f"{secret}|{user or ''}"
        fingerprint = hashlib.sha256(identity.encode()).hexdigest()[:12] if identity != "|" else ""
        return f"{self.provider_name}|{self.site or ''}|{fingerprint}"

    def answers_whole(self) -> bool:
        """Does it send nothing until its answer is done? A provider that does not stream,
        or one that says so of these options (an AI Power site that does not stream, as
        far as it is known now: asked anew each time)."""
        return not self.streams or self.provider.answers_whole(self.options)

    def first_limit(self, policy: Policy) -> float:
        """How long to wait for its first text while another target could take over: its
        own ``first_token_timeout``, else the policy's for a target that streams or, for one
        that answers whole, the time a whole answer takes."""
        if self.first_token_timeout is not None:
            return self.first_token_timeout
        if self.answers_whole():
            return policy.whole_answer_timeout
        return policy.first_token_timeout

    @cached_property
    def cool_key(self) -> str:
        """The key of the rate-limit cool-down: the endpoint's and its key's (:attr:`key`)
        and the model's, since rate limits are usually per model (the breaker, which judges
        a dead host, stays :attr:`key`'s). A target that names no model: :attr:`key`."""
        return f"{self.key}|{self.model}" if self.model else self.key

    def cool_key_for(self, model: str | None) -> str:
        """:attr:`cool_key` when the call names the model (a target that names none)."""
        if self.model or not model:
            return self.cool_key
        return f"{self.key}|{model}"

    @cached_property
    def label(self) -> str:
        if self.name:
            return self.name
        parts = [self.provider.get_name(), self.site or "", self.model or ""]
        return " ".join(part for part in parts if part)

    def __repr__(self) -> str:
        hidden = _SECRET_FIELDS | self.secret_options
        shown = {
            k: "***"
            if k in hidden
            else public_url(v)
            if k in _URL_FIELDS and isinstance(v, str)
            else v
            for k, v in self.options.items()
        }
        if self.proxies:
            shown["proxies"] = [public_url(proxy) for proxy in self.proxies]
        return f"Target({self.provider.get_name()}, {shown}, model={self.model!r})"


def public_url(url: str) -> str:
    """``url`` without user, password, query or fragment: safe to log and to show."""
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        return "<invalid URL>"
    if not parsed.is_absolute():
        return str(parsed.with_query(None).with_fragment(None))
    return str(parsed.with_user(None).with_password(None).with_query(None).with_fragment(None))


@dataclass(frozen=True)
class Route:
    name: str
    targets: tuple[Target, ...]
    #: How a call orders the targets left once breakers and cool-downs have spoken
    #: (:data:`STRATEGIES`; ``_balance``).
    strategy: str = "ordered"
    #: Rows of the failure policy this route fails over on instead of stopping
    #: (``_policy.OVERRIDES``: ``"content_filter"``).
    fail_over_on: frozenset[str] = frozenset()

    @cached_property
    def can_continue(self) -> bool:
        """Has the route a target that continues a partial answer (a stream must then keep
        the text it handed over)?"""
        return any(target.continues_prefill for target in self.targets)


@dataclass(frozen=True)
class Config:
    routes: dict[str, Route]
    policy: Policy = field(default_factory=Policy)
    source: str = "routes"
    #: The file's ``[server]`` table, untouched: the server reads its own settings.
    server: Mapping[str, Any] = field(default_factory=dict)
    #: The file's ``[state]`` table (the shared store's namespace), untouched likewise.
    state: Mapping[str, Any] = field(default_factory=dict)
    #: The file's ``[client]`` table (the default outbound proxy: ``_proxies``).
    client: Mapping[str, Any] = field(default_factory=dict)


def _check_url(value: str, where: str, *, proxy: bool = False) -> str:
    try:
        url = URL(value)
    except (ValueError, TypeError) as exc:
        # (not the URL itself: a proxy's may hold a password)
        raise ConfigError(f"{where}: not a URL") from exc
    allowed = ("http", "https", "socks5", "socks4") if proxy else ("http", "https")
    if url.scheme not in allowed or not url.host:
        raise ConfigError(f"{where}: wants an {'/'.join(allowed)} URL with a host")
    return value


def _positive_seconds(value: Any) -> bool:
    return is_number(value) and is_finite_at_least_zero(value) and bool(value > 0)


def _field_value(key: str, value: Any, here: str) -> Any:
    """A target field's value, checked (a :class:`ConfigError` naming ``here`` if wrong)."""
    if key == "connections_per_host" and isinstance(value, int) and not is_connections(value):
        raise ConfigError(f"{here}: wants a whole number from 1 to {MAX_CONNECTIONS_PER_HOST}")
    kinds = _TARGET_FIELDS[key]
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        wanted = " or ".join(t.__name__ for t in kinds)
        raise ConfigError(f"{here}: wants {wanted}, got {type(value).__name__}")
    if key == "first_token_timeout" and not _positive_seconds(value):
        raise ConfigError(f"{here}: wants a finite number of seconds > 0")
    if key in _COUNTS:
        least, most = _COUNTS[key]
        if not least <= cast(int, value) <= most:
            raise ConfigError(f"{here}: wants a whole number from {least} to {most}")
    if isinstance(value, list):
        if not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{here}: wants a list of non-empty strings")
        if key == "proxies":
            return tuple(_check_url(v, here, proxy=True) for v in value)
        return tuple(value)
    if key in _URL_FIELDS:
        value = _check_url(str(value), here, proxy=key == "proxy")
        if key != "proxy" and (URL(value).user or URL(value).password):
            raise ConfigError(
                f"{here}: credentials in the URL are not sent; put a key in 'api_key'"
            )
    return value


def make_target(spec: Mapping[str, Any], where: str) -> Target:
    """One target from its mapping; ``where`` names the file and route for messages."""
    if not isinstance(spec, Mapping):
        raise ConfigError(f'{where}: a target must be a table like {{ provider = "AIPower", … }}')
    if "provider" not in spec and "site_url" not in spec:
        raise ConfigError(f"{where}: field 'provider' is missing (or give 'site_url' alone)")
    options: dict[str, Any] = {}
    secret: set[str] = set()
    for key, raw in spec.items():
        here = f"{where}, field {key!r}"
        if key not in _TARGET_FIELDS:
            known = ", ".join(sorted(_TARGET_FIELDS))
            raise ConfigError(f"{here}: unknown field (known: {known})")
        value = resolve_env(raw, here)
        if value is not raw:
            secret.add(key)
        if key == "proxies" and isinstance(value, list):
            value = [resolve_env(item, here) for item in value]
            if any(item is not raw_item for item, raw_item in zip(value, raw, strict=True)):
                secret.add(key)
        options[key] = _field_value(key, value, here)
    try:
        # Only a site: its plugin (AI Power or AI Engine) is found from its page.
        provider = get_provider(options.pop("provider", "AnySite"))
    except ProviderNotFoundError as exc:
        raise ConfigError(f"{where}, field 'provider': {exc.message}") from exc
    name = provider.get_name()
    if options.get("continues_prefill") and not provider.can_continue_prefill:
        raise ConfigError(
            f"{where}, field 'continues_prefill': {name} cannot continue a partial answer "
            "(it would answer afresh and repeat the start)"
        )
    check_site_known(provider, options, where)
    check_tool_mode(provider, options.get("tools"), f"{where}, field 'tools'")
    if name in ("AIPower", "AIEngine", "AnySite") and "site_url" not in options:
        raise ConfigError(f"{where}: an {name} target needs 'site_url'")
    if name == "OpenAICompatible":
        for needed in ("base_url", "model"):
            if needed not in options:
                raise ConfigError(f"{where}: an OpenAICompatible target needs {needed!r}")
    return Target(
        provider=provider,
        options=options,
        model=options.pop("model", None),
        continues_prefill=bool(options.pop("continues_prefill", False)),
        name=options.pop("name", None),
        secret_options=frozenset(secret),
        first_token_timeout=options.pop("first_token_timeout", None),
        weight=options.pop("weight", 1),
        max_concurrent=options.pop("max_concurrent", 0),
        proxies=_pool(options.pop("proxies", ()), options.pop("proxy", None)),
        tools=options.pop("tools", None),
    )


def _pool(proxies: tuple[str, ...], proxy: str | None) -> tuple[str, ...]:
    """A target's proxies: its list, with its single ``proxy`` first (each once)."""
    return tuple(dict.fromkeys((proxy, *proxies) if proxy else proxies))


def check_tool_mode(provider: type[BaseProvider], mode: Any, where: str) -> None:
    """A :class:`ConfigError` unless ``mode`` is a tool mode ``provider`` can have."""
    if mode is None:
        return
    if mode not in TOOL_MODES:
        raise ConfigError(f"{where}: wants one of {', '.join(TOOL_MODES)}, not {mode!r}")
    if mode == "native" and not provider.supports_tools:
        raise ConfigError(
            f"{where}: {provider.get_name()} cannot send tools upstream; "
            'use tools = "emulate" (the tools go into the text it gets) or "none"'
        )


def check_site_known(provider: type[BaseProvider], options: Mapping[str, Any], where: str) -> None:
    """A :class:`ConfigError` if ``provider`` would talk to its own site and that site is
    known to be gone (nothing is sent to a dead seed site)."""
    if provider.gone_url and not options.get("site_url") and provider.url == provider.gone_url:
        name = provider.get_name()
        raise ConfigError(
            f"{where}: {name}'s own site ({provider.gone_url}) is gone: pass site_url=... "
            f"(any AI Power site) or set {name}.url first"
        )


def parse_routes(routes: Mapping[str, Any], source: str = "routes") -> dict[str, Route]:
    """Routes from ``{name: [target, …]}`` or ``{name: {"targets": [...]}}`` mappings;
    a target may also be a ready :class:`Target`."""
    if not isinstance(routes, Mapping):
        raise ConfigError(f"{source}: routes must be a table of named routes")
    parsed: dict[str, Route] = {}
    for name, body in routes.items():
        where = f"{source}, route {name!r}"
        if isinstance(body, Route):
            parsed[str(name)] = replace(body, name=str(name))
            continue
        specs = body.get("targets") if isinstance(body, Mapping) else body
        if isinstance(body, Mapping) and set(body) - set(_ROUTE_FIELDS):
            extra = ", ".join(sorted(set(body) - set(_ROUTE_FIELDS)))
            known = ", ".join(_ROUTE_FIELDS)
            raise ConfigError(f"{where}: unknown field(s) {extra} (a route has {known})")
        if not isinstance(specs, list | tuple) or not specs:
            raise ConfigError(f"{where}: field 'targets' must be a non-empty list")
        targets = tuple(
            spec if isinstance(spec, Target) else make_target(spec, f"{where}, target {i + 1}")
            for i, spec in enumerate(specs)
        )
        fields_ = body if isinstance(body, Mapping) else {}
        parsed[str(name)] = Route(
            str(name),
            targets,
            _strategy(fields_.get("strategy", "ordered"), where),
            _fail_over_on(fields_.get("fail_over_on", ()), where),
        )
    return parsed


def _strategy(value: Any, where: str) -> str:
    if value not in STRATEGIES:
        raise ConfigError(f"{where}, field 'strategy': wants one of {', '.join(STRATEGIES)}")
    return str(value)


def _fail_over_on(value: Any, where: str) -> frozenset[str]:
    known = ", ".join(sorted(OVERRIDES))
    if not isinstance(value, list | tuple) or not all(item in OVERRIDES for item in value):
        raise ConfigError(f"{where}, field 'fail_over_on': wants a list of: {known}")
    return frozenset(value)


def _parse_policy(table: Any, source: str) -> Policy:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source}, [policy]: must be a table")
    known = {f.name: f for f in fields(Policy)}
    for key in table:
        if key not in known:
            raise ConfigError(
                f"{source}, [policy], field {key!r}: unknown (known: {', '.join(known)})"
            )
    try:
        return Policy(**table)
    except PolicyFieldError as exc:  # the policy's own check, worded for a file
        raise ConfigError(f"{source}, [policy], field {exc.field!r}: wants {exc.wants}") from exc
    except ValueError as exc:
        raise ConfigError(f"{source}, [policy]: {exc}") from exc


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read a routes file. Every problem is a :class:`ConfigError` naming file, route, field."""
    source = str(path)
    try:
        with Path(path).open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read it: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    unknown = set(data) - {"routes", "policy", "server", "state", "client"}
    if unknown:
        raise ConfigError(f"{source}: unknown table(s) {', '.join(sorted(unknown))}")
    if "routes" not in data:
        raise ConfigError(f"{source}: no [routes.NAME] table")
    routes = parse_routes(data["routes"], source)
    policy = _parse_policy(data.get("policy", {}), source)
    tables = {name: data.get(name, {}) for name in ("server", "state", "client")}
    for name, table in tables.items():
        if not isinstance(table, Mapping):
            raise ConfigError(f"{source}, [{name}]: must be a table")
    client = {
        key: resolve_env(value, f"{source}, [client]") for key, value in tables["client"].items()
    }
    return Config(
        routes=routes,
        policy=policy,
        source=source,
        server=tables["server"],
        state=tables["state"],
        client=client,
    )
