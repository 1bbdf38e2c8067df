"""One live probe of ``chatbridge check``: discovery, one short message, and what was learned,
even from a failure. Knows nothing about output."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from .._exceptions import (
    BlockedError,
    ChatbridgeError,
    ContentFilterError,
    EmptyResponseError,
    NonceError,
    PluginError,
    RateLimitError,
    ResponseTooLargeError,
    TransportError,
    TruncatedStreamError,
)
from .._providers._family import nonce_refreshes, site_info, site_provider
from .._providers.anysite import AnySite
from ._ask import Reply, ask
from ._errors import describe, exit_code
from ._options import Destination

__all__ = ["Probe", "ask_once", "probe_chat", "probe_site"]

_PROBE = "chatbridge check: please answer with one short sentence."


@dataclass
class Probe:
    """What one probe learned (``--json`` prints it as is)."""

    provider: str
    site: str | None
    reachable: bool | None = None
    plugin: str | None = None
    generation: str | None = None
    streaming: bool | None = None
    nonce_accepted: bool | None = None  # None: not known (see _nonce_verdict)
    nonce_refreshed: bool = False  # a nonce was refused and a fresh page fetched for another
    answered: bool = False
    first_token_ms: float | None = None
    latency_ms: float | None = None
    error: str | None = None
    exit_code: int = 0


async def ask_once(target: Destination, proxy: str | None, timeout: float) -> Reply:
    """The probe's one short message, streamed where the target can."""
    return await ask(
        target,
        [{"role": "user", "content": _PROBE}],
        stream=True,
        on_chunk=lambda chunk: None,
        proxy=proxy,
        timeout=timeout,
    )


async def probe_chat(target: Destination, proxy: str | None, timeout: float) -> Probe:
    """Any provider (no page to discover): one short message, answered or not."""
    probe = Probe(target.name, target.url)
    started = time.perf_counter()
    try:
        reply = await ask_once(target, proxy, timeout)
    except ChatbridgeError as error:
        probe.error = describe(error)
        probe.exit_code = exit_code(error)
        probe.reachable = not isinstance(error, TransportError)
        return probe
    probe.reachable = probe.answered = True
    probe.streaming = reply.streamed
    probe.latency_ms = round((time.perf_counter() - started) * 1000, 1)
    if reply.first_token_seconds is not None:
        probe.first_token_ms = round(reply.first_token_seconds * 1000, 1)
    return probe


async def probe_site(target: Destination, proxy: str | None, timeout: float) -> Probe:
    """Probe ``target``: every chatbridge error ends up in the result, never raised."""
    probe = Probe(target.name, target.url)
    try:
        await _discover_and_ask(probe, target, proxy, timeout)
    except ChatbridgeError as error:
        probe.error = describe(error)
        probe.exit_code = exit_code(error)
        if probe.reachable is None:
            reached = not isinstance(error, TransportError)
            probe.reachable = reached or isinstance(error, ResponseTooLargeError)
        if probe.generation is not None:  # the page was read, so the chat request went out
            probe.nonce_accepted = _nonce_verdict(error, probe.generation)
    return probe


def _nonce_verdict(error: ChatbridgeError, generation: str) -> bool | None:
    """What a failed chat request tells about the nonce. Both plugins check it before
    anything else (docs/protocol-ai-power.md, "Processing order"; docs/protocol-ai-engine.md,
    "Failures a client meets"), so a reply of the plugin's own (its error message, a limit
    or ban notice, a stream that started) means the nonce passed; a transport failure, or an
    HTTP error status from whatever stands in front of the plugin, tells nothing."""
    if isinstance(error, NonceError):
        return False
    if isinstance(error, PluginError) and error.status in (None, 200):
        if generation == "legacy 1.7" and "Missing API Setting" in error.message:
            return None  # 1.7 checks its API key first (protocol: "Nonce checks by version")
        return True
    if isinstance(error, RateLimitError | BlockedError) and error.status in (None, 200):
        return True  # the plugin's limit or ban message, not an HTTP 429/403
    if isinstance(error, ContentFilterError) and error.status in (None, 200):
        return True  # AI Engine's Security module refused the message itself
    if isinstance(error, EmptyResponseError | TruncatedStreamError) and error.status in (None, 200):
        return True
    return None


async def _discover_and_ask(
    probe: Probe, target: Destination, proxy: str | None, timeout: float
) -> None:
    url, page, bot = target.site_url or target.provider.url or "", target.chat_page, target.bot_id
    if target.provider is AnySite:  # --url: the page tells which plugin it runs
        found = await site_provider(url, page, bot, proxy=proxy, timeout=timeout)
        target = replace(target, provider=found)
        probe.provider = found.get_name()
    info = await site_info(target.provider, url, page, bot, proxy=proxy, timeout=timeout)
    probe.reachable = True
    probe.plugin, probe.generation, probe.streaming = info.plugin, info.generation, info.streaming
    refreshes = nonce_refreshes(target.provider, url, page, bot)
    started = time.perf_counter()
    try:
        reply = await ask_once(target, proxy, timeout)
    finally:
        probe.nonce_refreshed = nonce_refreshes(target.provider, url, page, bot) > refreshes
    probe.latency_ms = round((time.perf_counter() - started) * 1000, 1)
    if reply.first_token_seconds is not None:
        probe.first_token_ms = round(reply.first_token_seconds * 1000, 1)
    probe.answered = True
    probe.nonce_accepted = True
    # The page's stream hint is only a hint (a widget page says 0 and streams); the reply
    # itself tells (its Content-Type, or the pieces it came in): a streamed answer arrives in
    # several pieces, a JSON reply in one (AIPKit always streams). Without an answer, the
    # hint stands.
    probe.streaming = reply.streamed or info.generation == "aipkit 2.3+"
