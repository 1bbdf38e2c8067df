"""Every error chatbridge raises, in one shallow tree.

    ChatbridgeError                      base of everything below
    ├── ModelNotSupportedError           also ValueError: unknown model for a provider
    ├── ProviderNotFoundError            also ValueError: unknown provider name
    ├── RouteNotFoundError               also ValueError: no route or provider model by that name
    ├── ConfigError                      also ValueError: a routes file or option is wrong
    ├── MissingSiteError                 also ValueError: a site provider was given no URL
    ├── InvalidRequestError              also ValueError: the request itself is refused, by us
    │   │                                (bad messages) or by an upstream's 400; `.code`, `.param`
    │   ├── ContextLengthError           longer than the model's context (another may hold more)
    │   ├── ContentFilterError           the upstream's content policy refused it
    │   └── ToolsNotSupportedError       it carries tools; no target of its route can call them
    ├── MissingTokenError                also RuntimeError: "No post ID found", "No nonce found"
    │   ├── NotAIPowerSiteError          the page carries no AI Power chat at all
    │   ├── NotAIEngineSiteError         the page carries no AI Engine chat at all
    │   └── UnsupportedSiteError         the page carries the chat of no supported plugin
    ├── ResponseError                    also RuntimeError: a reply we cannot read
    │   ├── EmptyResponseError           the site answered, but with no text
    │   └── TruncatedStreamError         the stream ended early; `.partial` holds the text so far
    ├── TransportError                   the request did not complete (connect, proxy, reset)
    │   ├── ConnectError                 no connection was made: nothing was sent
    │   ├── ProxyError                   the outbound proxy failed (`.proxy`, no credentials)
    │   ├── RequestTimeoutError          also the builtin TimeoutError
    │   │   ├── FirstTokenTimeout        a route's target sent no text in time (the policy's)
    │   │   └── StallTimeout             a route's target went silent too long mid-answer
    │   └── ResponseTooLargeError        the body passed the size cap
    ├── ResponseStatusError              the site answered with a failure status (`.status`)
    │   ├── RateLimitError               429/402, Cloudflare 1015, token limits (`.retry_after`)
    │   ├── MissingAuthError             401
    │   ├── ChallengeError               a Cloudflare challenge page (alias: CloudflareError)
    │   └── BlockedError                 a WAF / firewall block, or a login wall
    ├── NonceError                       the site rejected the nonce even after a refresh
    ├── PluginError                      the chat plugin answered with an error message
    │   └── UpstreamError                the plugin's own AI backend failed (quota, key, model)
    └── AllTargetsFailedError            every target of a route failed; `.attempts` says how
        └── RouteUnavailableError        none could be asked: every one open or cooling down
                                         (`.retry_after`: when the first may be asked again)

Every error carries where it came from: `provider`, `url`, and where known `status`, a short
`body` excerpt and the `attempt` number. `str(err)` starts with the message itself, so texts
promised by the seed documents ("No nonce found", "'data' field missing") lead the string.
"""

from __future__ import annotations

import builtins
import re
from typing import Any

__all__ = [
    "AllTargetsFailedError",
    "BlockedError",
    "ChallengeError",
    "ChatbridgeError",
    "CloudflareError",
    "ConfigError",
    "ConnectError",
    "ContentFilterError",
    "ContextLengthError",
    "EmptyResponseError",
    "FirstTokenTimeout",
    "InvalidRequestError",
    "MissingAuthError",
    "MissingSiteError",
    "MissingTokenError",
    "ModelNotSupportedError",
    "NonceError",
    "NotAIEngineSiteError",
    "NotAIPowerSiteError",
    "PluginError",
    "ProviderNotFoundError",
    "ProxyError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseError",
    "ResponseStatusError",
    "ResponseTooLargeError",
    "RouteNotFoundError",
    "RouteUnavailableError",
    "StallTimeout",
    "ToolsNotSupportedError",
    "TransportError",
    "TruncatedStreamError",
    "UnsupportedSiteError",
    "UpstreamError",
]

_BODY_EXCERPT = 200
_NON_SPACE = re.compile(r"\S")


def excerpt(text: str | None, limit: int = _BODY_EXCERPT) -> str | None:
    """A one-line, bounded excerpt of a body, for error messages. Only the body's start is
    split into words: a multi-megabyte body costs no more than a short one."""
    if text is None:
        return None
    head = text[: limit * 16]
    flat = " ".join(head.split())
    more = len(head) < len(text) and _NON_SPACE.search(text, len(head)) is not None
    if len(flat) <= limit and not more:
        return flat
    return flat[: limit - 1] + "…" if len(flat) >= limit else flat + "…"


class ChatbridgeError(Exception):
    """Base class of every chatbridge error."""

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        url: str | None = None,
        status: int | None = None,
        body: str | None = None,
        attempt: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.url = url
        self.status = status
        self.body = excerpt(body)
        self.attempt = attempt
        #: A route's attempts when the error ends a client call (see ``AllTargetsFailedError``).
        self.attempts: list[Any] = []

    def with_context(
        self, *, provider: str | None = None, url: str | None = None
    ) -> ChatbridgeError:
        """Fill in provider/site where the raiser did not know them; returns self."""
        if self.provider is None:
            self.provider = provider
        if self.url is None:
            self.url = url
        return self

    def __str__(self) -> str:
        context = [
            f"{name}={value}"
            for name, value in (
                ("provider", self.provider),
                ("url", self.url),
                ("status", self.status),
                ("attempt", self.attempt),
            )
            if value is not None
        ]
        return f"{self.message} ({', '.join(context)})" if context else self.message


class ModelNotSupportedError(ChatbridgeError, ValueError):
    """The provider does not offer the requested model."""


class ProviderNotFoundError(ChatbridgeError, ValueError):
    """No provider is registered under that name."""


class RouteNotFoundError(ChatbridgeError, ValueError):
    """No configured route, and no provider model, answers to that name."""


class ConfigError(ChatbridgeError, ValueError):
    """A routes file or client option is wrong; the message names the file, route and field."""


class MissingSiteError(ChatbridgeError, ValueError):
    """A provider that needs a site URL (``AIPower``) was called without one."""


class InvalidRequestError(ChatbridgeError, ValueError):
    """The request itself is refused: the caller's own input (no user message, text that
    cannot be encoded), or an upstream's 400. Never retried, and never failed over unless a
    subclass says otherwise. ``code`` and ``param`` keep the upstream's own, when it gave them.
    """

    def __init__(
        self, message: str, *, code: str | None = None, param: str | None = None, **context: Any
    ) -> None:
        super().__init__(message, **context)
        self.code = code
        self.param = param


class ContextLengthError(InvalidRequestError):
    """The conversation is longer than the model's context window (``context_length_exceeded``).
    Another target may hold more, so a route fails over; the same target is not asked again."""


class ContentFilterError(InvalidRequestError):
    """The upstream's content policy refused the request (``content_policy_violation``,
    ``content_filter``). That is the answer: it is propagated, never retried elsewhere."""


class ToolsNotSupportedError(InvalidRequestError):
    """The request carries tools (``tools``, or tool calls and results in its conversation)
    and no target of its route can call them, natively or emulated (a target's
    ``tools = "emulate"``). ``param`` is ``"tools"``; the message names the route."""


class MissingTokenError(ChatbridgeError, RuntimeError):
    """A token the protocol needs (nonce, post id, config) is not in the page."""


class NotAIPowerSiteError(MissingTokenError):
    """The page has no AI Power chat (no container, no wpaicgParams, no AIPKit config)."""


class NotAIEngineSiteError(MissingTokenError):
    """The page has no AI Engine chat (no ``div.mwai-chatbot-container`` with its settings)."""


class UnsupportedSiteError(MissingTokenError):
    """The page has the chat of neither supported plugin family (AI Power, AI Engine)."""


class ResponseError(ChatbridgeError, RuntimeError):
    """The site answered, but not in a shape the protocol allows."""


class EmptyResponseError(ResponseError):
    """The reply was well-formed but held no answer text."""


#: How every "the reply was cut off" message starts, whichever step was cut.
CUT_OFF = "The reply was cut off"


class TruncatedStreamError(ResponseError):
    """The stream ended before its terminator; `partial` holds the text received (a route's
    stream keeps it only when a target of the route could continue it, else it is empty)."""

    def __init__(self, message: str, *, partial: str = "", **context: Any) -> None:
        super().__init__(message, **context)
        self.partial = partial


class TransportError(ChatbridgeError):
    """The HTTP exchange itself failed: DNS, connect, proxy, TLS, reset."""


class ConnectError(TransportError):
    """The connection could not be made (refused, unreachable, DNS): the request was provably
    never sent, so asking again cannot make the site answer twice."""


class ProxyError(TransportError):
    """The outbound proxy could not be reached, or refused to carry the request (its own
    status, a SOCKS refusal): nothing reached the site. ``proxy`` is the proxy's address
    without its credentials, which never appear in the message either."""

    def __init__(self, message: str, *, proxy: str | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.proxy = proxy


class RequestTimeoutError(TransportError, builtins.TimeoutError):
    """A connect, read-gap or total deadline passed."""


class FirstTokenTimeout(RequestTimeoutError):
    """A route's target sent no text within the failure policy's time-to-first-token limit
    (while another target could take over)."""


class StallTimeout(RequestTimeoutError):
    """A route's target went silent between two chunks for longer than the failure policy's
    stall limit (while another target could take over)."""


class ResponseTooLargeError(TransportError):
    """The response body exceeded the configured size cap."""


class ResponseStatusError(ChatbridgeError):
    """The site answered with a failure HTTP status."""


class RateLimitError(ResponseStatusError):
    """Too many requests or a spent quota; `retry_after` is in seconds when known."""

    def __init__(self, message: str, *, retry_after: float | None = None, **context: Any):
        super().__init__(message, **context)
        self.retry_after = retry_after


class MissingAuthError(ResponseStatusError):
    """The site wants credentials."""


class ChallengeError(ResponseStatusError):
    """A bot challenge (Cloudflare "Just a moment...") that only a browser can pass."""


CloudflareError = ChallengeError


class BlockedError(ResponseStatusError):
    """A firewall block page, or a redirect to a login wall."""


class NonceError(ChatbridgeError):
    """The site rejected the nonce, and a freshly fetched one as well."""


class PluginError(ChatbridgeError):
    """The chat plugin answered with an error message (HTML-unescaped in `message`)."""


class UpstreamError(PluginError):
    """The plugin reached its AI backend, and the backend failed."""


class AllTargetsFailedError(ChatbridgeError):
    """Every target of a route failed or was skipped. ``attempts`` lists each try in order
    (target, error type, message, seconds); ``errors`` holds the exceptions themselves, and
    ``retry_after`` the soonest time any target said it could be asked again."""

    def __init__(
        self,
        message: str,
        *,
        attempts: list[Any] | None = None,
        errors: list[BaseException] | None = None,
        retry_after: float | None = None,
        **context: Any,
    ) -> None:
        super().__init__(message, **context)
        self.attempts = list(attempts or [])
        self.errors = list(errors or [])
        self.retry_after = retry_after


class RouteUnavailableError(AllTargetsFailedError):
    """No target of a route could be asked at all: each one's circuit breaker was open (or
    half-open with its one probe in flight), or it was cooling down after a rate limit. The
    call fails at once instead of waiting; ``retry_after`` says in how many seconds the first
    target may be asked again (``None`` when only a probe's verdict will tell)."""
