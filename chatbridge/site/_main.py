"""Command line of the local site: ``python -m chatbridge.site`` (and ``chatbridge site``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import Any, cast

from ._app import LocalSite
from ._config import DEFAULT_SECRET, FAULT_KINDS, GENERATIONS, FaultKind, SiteConfig


def port_number(text: str) -> int:
    """argparse ``type=`` for ``--port``: a TCP port, 0 to 65535 (0 = a free one)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0 to 65535: {text!r}")
    return port


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the site's options to ``parser``."""
    add = parser.add_argument
    add("--generation", choices=GENERATIONS, default="2.2", help="plugin generation to imitate")
    add("--stream", action=argparse.BooleanOptionalAction, default=None,
        help="stream the placement's action (and the bot, if --bot-id > 0); default: action "
        "options on from 1.8, custom bots off, 1.7 never")
    add("--placement", choices=("shortcode", "widget"), default="shortcode")
    add("--chat-path", default="/", help='page holding the chat ("/" = home page)')
    add("--bot-id", type=int, default=0)
    add("--host", default="127.0.0.1")
    add("--port", type=port_number, default=0, help="0 = a free port")
    add("--tick-seconds", type=float, default=43200.0, help="nonce tick length")
    add("--page-cache", action=argparse.BooleanOptionalAction, default=False,
        help="serve pages as first rendered unless the URL has a query string")
    add("--banned-word", action="append", default=[], dest="banned_words")
    add("--banned-ip", action="append", default=[], dest="banned_ips")
    add("--guest-token-limit", type=int, default=None)
    add("--upstream-error", default=None, help="make the upstream fail with this message")
    add("--upstream-error-mode", choices=("json", "exception"), default="json")
    add("--fault", action="append", default=[], dest="faults", choices=FAULT_KINDS,
        help="fault kind to inject (repeatable)")
    add("--fault-rate", type=float, default=1.0)
    add("--fault-every", type=int, default=None)
    add("--fault-seed", type=int, default=0)
    add("--fault-target", choices=("chat", "pages", "all"), default="chat")
    add("--slow-seconds", type=float, default=2.0)
    add("--upgrade-after", type=int, default=None,
        help="switch to AIPKit after this many legacy chat requests")
    add("--upstream", default=None, metavar="URL",
        help="OpenAI-compatible endpoint to forward to (default: the local responder)")
    add("--upstream-model", default="gpt-4o-mini")
    add("--upstream-api-key", default=None)
    add("--aipkit-mode", choices=("popup", "inline"), default="popup")
    add("--secret", default=DEFAULT_SECRET)
    add("--assistant", action=argparse.BooleanOptionalAction, default=False,
        help="the bot is an OpenAI Assistant (asst_…): threads, Assistants stream events "
        "(generation 2.2 only)")
    add("--misconfigured", action=argparse.BooleanOptionalAction, default=False,
        help='no API key: every chat answers "Unable to initialize the AI instance…" '
        '(1.7: "Missing API Setting")')
    add("--pinecone-error", action=argparse.BooleanOptionalAction, default=False,
        help='embeddings find nothing: "No results from Pinecone." (a pineconeError flag when '
        "streaming)")
    add("--other-plugin-nonce", action=argparse.BooleanOptionalAction, default=True,
        help="another plugin's data-nonce before the chat container, as on real sites")


def config_from_args(ns: argparse.Namespace) -> SiteConfig:
    """Build a :class:`SiteConfig` from parsed arguments."""
    values: dict[str, Any] = {
        "generation": ns.generation, "stream": ns.stream, "placement": ns.placement,
        "chat_path": ns.chat_path, "bot_id": ns.bot_id, "tick_seconds": ns.tick_seconds,
        "page_cache": ns.page_cache, "banned_words": tuple(ns.banned_words),
        "banned_ips": tuple(ns.banned_ips), "guest_token_limit": ns.guest_token_limit,
        "upstream_error": ns.upstream_error, "upstream_error_mode": ns.upstream_error_mode,
        "faults": tuple(cast(list[FaultKind], ns.faults)), "fault_rate": ns.fault_rate,
        "fault_every": ns.fault_every, "fault_seed": ns.fault_seed,
        "fault_target": ns.fault_target, "slow_seconds": ns.slow_seconds,
        "upgrade_after": ns.upgrade_after, "upstream": ns.upstream,
        "upstream_model": ns.upstream_model, "upstream_api_key": ns.upstream_api_key,
        "aipkit_mode": ns.aipkit_mode, "secret": ns.secret,
        "other_plugin_nonce": ns.other_plugin_nonce, "assistant": ns.assistant,
        "misconfigured": ns.misconfigured, "pinecone_error": ns.pinecone_error,
    }
    return SiteConfig(**values)


async def _run(config: SiteConfig, host: str, port: int) -> None:
    async with LocalSite(config, host=host, port=port) as url:
        print(f"AI Power site (generation {config.generation}) listening on {url}", flush=True)
        await asyncio.Event().wait()


def serve(config: SiteConfig, host: str = "127.0.0.1", port: int = 0) -> None:
    """Run the site until Ctrl-C."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(config, host, port))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m chatbridge.site",
                                     description="A local AI Power WordPress site.")
    add_arguments(parser)
    ns = parser.parse_args(argv)
    try:
        config = config_from_args(ns)
    except ValueError as error:  # an impossible combination, e.g. --assistant on 1.8
        parser.error(str(error))
    try:
        serve(config, ns.host, ns.port)
    except OSError as error:  # the port is taken, or the host is not ours to bind
        parser.exit(2, f"cannot listen on {ns.host}:{ns.port}: {error.strerror or error}\n")
