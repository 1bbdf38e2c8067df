"""Options shared by the commands that talk to a site, their validation, and the target they
name: which provider, at which site, with which model. Nothing here touches the network."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .._checks import check_timeout, site_url_problem
from .._client._policy import Policy
from .._constants import AIPOWER_TIMEOUT
from .._exceptions import RouteNotFoundError
from .._providers._aipower_base import AIPowerSite
from .._providers._base import BaseProvider
from .._providers._family import known_provider
from .._providers._registry import get_provider, list_providers
from .._providers._sites import SiteProvider
from .._providers.aipower import AIPower
from .._providers.anysite import AnySite
from ._errors import UsageError

if TYPE_CHECKING:
    from .._client._client import AsyncClient

__all__ = [
    "CHECK_TIMEOUT",
    "NO_SITE_HINT",
    "Destination",
    "add_connection_options",
    "add_page_options",
    "check_proxy",
    "check_site_url",
    "default_timeout",
    "port_number",
    "positive_seconds",
]

#: ``chatbridge check`` waits less than a chat does: a probe that hangs is a failed probe.
CHECK_TIMEOUT = 30.0

_WHAT_TO_DO = (
    "pass --url https://your-site.example (any AI Power or AI Engine site), or try "
    "`chatbridge demo` "
    "for a local one"
)
NO_SITE_HINT = f"no site to talk to: the seed sites are gone, so {_WHAT_TO_DO}"

_PROXY_SCHEMES = ("http", "https", "socks4", "socks5")


def port_number(text: str) -> int:
    """argparse ``type=`` for ``--port``: 0 (any free port) to 65535."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port (0 to 65535; 0 picks a free one): {text!r}")
    return value


def positive_seconds(text: str) -> float:
    """argparse ``type=`` for ``--timeout``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:  # "inf" and "nan" parse as floats too
        raise argparse.ArgumentTypeError(f"must be a finite number above 0 seconds: {text!r}")
    return value


def default_timeout(provider: type[BaseProvider]) -> float | None:
    """The deadline ``provider`` applies when the CLI passes none: its entry point's own
    ``timeout`` default, or, for an AI Power provider that takes none (``ChatGptt`` forwards
    its keyword arguments), the engine's ``AIPOWER_TIMEOUT``. ``None`` when it has none."""
    fallback = AIPOWER_TIMEOUT if issubclass(provider, AIPowerSite) else None
    timeout = provider.get_parameters().get("timeout", fallback)
    return float(timeout) if isinstance(timeout, int | float) else None


def _provider_timeouts() -> str:
    """``240 s for AIPower and ChatGptt, 120 s for Chatgpt4o``, from the providers' code."""
    names: dict[float, list[str]] = {}
    for provider in list_providers():
        seconds = default_timeout(provider)
        if seconds is not None:
            names.setdefault(seconds, []).append(provider.get_name())
    groups = sorted(names.items(), key=lambda item: -item[0])
    return ", ".join(f"{seconds:g} s for {' and '.join(group)}" for seconds, group in groups)


def add_connection_options(parser: argparse.ArgumentParser, *, timeout: float | None) -> None:
    """``--proxy`` and ``--timeout``: ``timeout`` for each probe (``check``), or, with
    ``timeout=None`` (``chat``), the deadline :meth:`Destination.deadline` picks for each
    question: a route's policy with ``--config``, else the provider's own default."""
    parser.add_argument("--proxy", metavar="URL", help="HTTP(S) or SOCKS proxy for every request")
    if timeout is not None:
        what, shown = "each site's probe", f"{timeout:g} s"
    else:
        what = "each question, every request and fail-over included"
        shown = (
            f"with --config, the route's [policy] timeout, {Policy().timeout:g} s unless the "
            f"file sets one; else the provider's: {_provider_timeouts()}"
        )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=timeout,
        metavar="SECONDS",
        help=f"deadline of {what} (default: {shown})",
    )


def _chat_page(text: str) -> str:
    """argparse ``type=`` for ``--chat-page``: a path on the site, or the page's full URL."""
    if text.startswith("/") and not text.startswith("//"):
        return text
    try:
        return check_site_url(text)
    except UsageError:
        raise argparse.ArgumentTypeError(
            f"not a path (/chat/) or a page URL (https://your-site.example/chat/): {text!r}"
        ) from None


def _bot_id(text: str) -> int:
    """argparse ``type=`` for ``--bot-id``: the chat container's data-bot-id."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"not a bot id (a whole number, 0 or more): {text!r}")
    return value


def add_page_options(parser: argparse.ArgumentParser) -> None:
    """``--chat-page`` and ``--bot-id``: which chat on the site, when the page has several or
    the chat is not on the page ``--url`` names."""
    parser.add_argument(
        "--chat-page",
        type=_chat_page,
        metavar="PAGE",
        help="the page holding the chat, as a path (/chat/) or a URL, when it is not the page "
        "--url names (default: that page)",
    )
    parser.add_argument(
        "--bot-id",
        type=_bot_id,
        metavar="N",
        help="the chat bot to talk to (its data-bot-id) when the page has several "
        "(default: the page's first chat)",
    )


def check_site_url(url: str, option: str = "--url") -> str:
    """``url`` without its trailing slash; a :class:`UsageError` (naming ``option``) unless it
    is http(s) with a host, a valid port and no blank inside (checked before we spend a
    timeout on it)."""
    problem = site_url_problem(url)
    if problem is not None:
        raise UsageError(f"{option} {url!r} {problem}")
    return url.strip().rstrip("/")


def check_proxy(proxy: str | None) -> str | None:
    if proxy is None:
        return None
    try:
        parts = urlsplit(proxy)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in _PROXY_SCHEMES or not parts.hostname:
        raise UsageError(
            f"--proxy {proxy!r} is not a proxy URL: use http://, https://, socks4:// or "
            "socks5:// and a host (for example socks5://127.0.0.1:1080)"
        )
    return proxy


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a command's questions go: a provider and the site to reach it at
    (``site_url=None``: the provider's own), or a route of a routes file (``route``), asked
    through ``client``, which fails over. (Not the client's ``Target``: one target of a
    route.)"""

    provider: type[BaseProvider]
    site_url: str | None
    model: str
    #: The page holding the chat and the bot on it (``None``: the provider's own choice).
    chat_page: str | None = None
    bot_id: int | str | None = None
    #: Other provider options, from a routes file (``base_url``, ``api_key``…).
    options: tuple[tuple[str, Any], ...] = ()
    #: A route of a routes file (``--config``): asked through the client, which fails over.
    route: str | None = None
    client: AsyncClient | None = None
    config: str | None = None

    @property
    def url(self) -> str | None:
        if self.route is not None:
            return self.config
        base_url = dict(self.options).get("base_url")
        return self.site_url or base_url or self.provider.url

    def deadline(self, timeout: float | None) -> float | None:
        """The deadline of one question (seconds), the same rule for both kinds: ``timeout``
        (``--timeout``) when given; else a route's, from its failure policy; else the
        provider's own default (``None``: it has none)."""
        timeout = check_timeout(timeout)
        if timeout is not None:
            return timeout
        if self.client is not None:
            return self.client.policy.timeout
        return default_timeout(self.provider)

    def deadline_said(self, timeout: float | None) -> str:
        """:meth:`deadline` in words, with where it came from when ``timeout`` did not give
        it (for the message of a question that ran out of time)."""
        seconds = self.deadline(timeout)
        if seconds is None:
            return "no deadline"
        if timeout is not None:
            return f"{seconds:g} s"
        if self.client is not None:
            return f"{seconds:g} s, the route's [policy] timeout"
        return f"{seconds:g} s, {self.name}'s default"

    @property
    def name(self) -> str:
        """The route, or the provider: for ``AnySite``, the one its page showed, once known."""
        if self.route is not None:
            return f"route {self.route}"
        if self.provider is AnySite and self.site_url is not None:
            found = known_provider(self.site_url, self.chat_page, self.bot_id)
            return (found or AnySite).get_name()
        return self.provider.get_name()

    @classmethod
    def resolve(cls, provider: str | None, url: str | None, model: str | None) -> Destination:
        """Validate everything a chat needs before any request: URL, provider, model. For a
        provider that talks to an endpoint rather than a site (``OpenAICompatible``),
        ``--url`` is that endpoint's base URL."""
        site_url = check_site_url(url) if url is not None else None
        if provider is None and site_url is None:
            raise UsageError(NO_SITE_HINT)
        # Only a site: AnySite finds its plugin (AI Power or AI Engine) from its page.
        chosen = get_provider(provider) if provider is not None else AnySite
        if takes_base_url(chosen):
            if site_url is None and not chosen.url:
                raise UsageError(
                    f"{chosen.get_name()} needs its endpoint: pass --url with the base URL "
                    "(for example --url http://127.0.0.1:11434/v1)"
                )
            options = (("base_url", site_url),) if site_url is not None else ()
            return cls(chosen, None, _model(chosen, model), options=options)
        if site_url is None and not chosen.url:
            raise UsageError(f"{chosen.get_name()} has no site of its own: {_WHAT_TO_DO}")
        if site_url is None and not chosen.working:
            raise UsageError(
                f"{chosen.get_name()} has no working site: its seed site {chosen.url} is gone, "
                f"so {_WHAT_TO_DO}"
            )
        return cls(chosen, site_url, _model(chosen, model))


def takes_base_url(provider: type[BaseProvider]) -> bool:
    """Whether ``provider`` talks to an endpoint given as ``base_url`` (not to a site)."""
    return not issubclass(provider, SiteProvider) and "base_url" in provider.get_parameters()


def _model(provider: type[BaseProvider], model: str | None) -> str:
    get_model = getattr(provider, "get_model", None)
    if get_model is None:  # a provider without a model list takes what it is given
        return model or ""
    if model is None and not getattr(provider, "default_model", None):
        raise UsageError(
            f"{provider.get_name()} has no default model: pass --model NAME (the model the "
            "endpoint serves, for example --model llama3.2)"
        )
    resolved: str = get_model(model)  # raises ModelNotSupportedError for an unknown model
    return resolved


def route_target(config: str, model: str | None) -> Destination:
    """The ``--config`` route that ``--model`` names (default: ``default``, or the only one)."""
    from .._client._client import AsyncClient  # the client only for commands that use routes

    client = AsyncClient(config=config)
    names = client.route_names()
    if model is None:
        if "default" in names or len(names) == 1:
            model = "default" if "default" in names else names[0]
        else:
            raise UsageError(
                f"{config} has several routes ({', '.join(names)}): pick one with --model"
            )
    if model not in names:
        raise RouteNotFoundError(f"{config} has no route {model!r} (routes: {', '.join(names)})")
    return Destination(AIPower, None, model, route=model, client=client, config=config)
