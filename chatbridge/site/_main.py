"""Command line of the local site: ``python -m chatbridge.site`` (and ``chatbridge site``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from typing import Any, TextIO, cast

from ._aiengine._config import AIEngineSiteConfig
from ._aiengine._options import engine_config_from_args, refuse_engine_options
from ._app import LocalSite
from ._argtypes import port_number
from ._config import GENERATIONS, FaultKind, SiteConfig
from ._options import FAULTS_HELP, add_arguments

__all__ = [
    "FAULTS_HELP",
    "add_arguments",
    "banner",
    "config_from_args",
    "main",
    "port_number",
    "request_log",
    "serve",
]


def config_from_args(ns: argparse.Namespace) -> SiteConfig | AIEngineSiteConfig:
    """Build the site's configuration from parsed arguments: a :class:`SiteConfig`, or an
    :class:`AIEngineSiteConfig` with ``--plugin ai-engine``; a ``ValueError`` naming the
    options (not the fields) for an impossible combination."""
    if ns.plugin == "ai-engine":
        return engine_config_from_args(ns)
    refuse_engine_options(ns)
    generation = ns.generation or "2.2"
    if generation not in GENERATIONS:
        raise ValueError(
            f"--generation {generation}: an AI Engine generation (use --plugin ai-engine); "
            f"AI Power's are {', '.join(GENERATIONS)}"
        )
    bot_id = ns.bot_id or "0"
    if not bot_id.isdigit():
        raise ValueError(f"--bot-id {bot_id!r}: an AI Power bot id is a whole number")
    if ns.assistant and generation != "2.2":
        raise ValueError("--assistant needs --generation 2.2 (assistants came with plugin 1.8.95)")
    flags = (("--misconfigured", ns.misconfigured), ("--pinecone-error", ns.pinecone_error))
    legacy_only = [option for option, on in flags if on]
    if legacy_only and generation == "aipkit":
        raise ValueError(f"{' and '.join(legacy_only)}: legacy generations only, not aipkit")
    values: dict[str, Any] = {
        "generation": generation,
        "stream": ns.stream,
        "placement": ns.placement,
        "chat_path": ns.chat_path,
        "bot_id": int(bot_id),
        "tick_seconds": ns.tick_seconds,
        "page_cache": ns.page_cache,
        "banned_words": tuple(ns.banned_words),
        "banned_ips": tuple(ns.banned_ips),
        "guest_token_limit": ns.guest_token_limit,
        "upstream_error": ns.upstream_error,
        "upstream_error_mode": ns.upstream_error_mode,
        "faults": tuple(cast(list[FaultKind], ns.faults)),
        "fault_rate": ns.fault_rate,
        "fault_every": ns.fault_every,
        "fault_seed": ns.fault_seed,
        "fault_target": ns.fault_target,
        "slow_seconds": ns.slow_seconds,
        "upgrade_after": ns.upgrade_after,
        "upstream": ns.upstream,
        "upstream_model": ns.upstream_model,
        "upstream_api_key": ns.upstream_api_key,
        "aipkit_mode": ns.aipkit_mode,
        "secret": ns.secret,
        "other_plugin_nonce": ns.other_plugin_nonce,
        "assistant": ns.assistant,
        "misconfigured": ns.misconfigured,
        "pinecone_error": ns.pinecone_error,
    }
    return SiteConfig(**values)


def request_log(ns: argparse.Namespace) -> TextIO | None:
    """Where the site logs its requests: stderr, unless ``--quiet``."""
    return None if ns.quiet else sys.stderr


def banner(config: SiteConfig | AIEngineSiteConfig, url: str) -> str:
    """The site's first line: what it is, and its URL last."""
    if isinstance(config, AIEngineSiteConfig):
        what = f"AI Engine site (generation {config.generation}, {config.permalinks} permalinks)"
    else:
        what = f"AI Power site (generation {config.generation})"
    return f"{what} listening on {url}"


async def _run(
    config: SiteConfig | AIEngineSiteConfig, host: str, port: int, log: TextIO | None
) -> None:
    async with LocalSite(config, host=host, port=port, log=log) as url:
        print(banner(config, url), flush=True)
        await asyncio.Event().wait()


def serve(
    config: SiteConfig | AIEngineSiteConfig,
    host: str = "127.0.0.1",
    port: int = 0,
    log: TextIO | None = None,
) -> None:
    """Run the site until Ctrl-C; ``log``: where each request gets a line, if anywhere."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(config, host, port, log))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m chatbridge.site",
        description="A local WordPress chat site (AI Power, or AI Engine with --plugin).",
        epilog=FAULTS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    ns = parser.parse_args(argv)
    try:
        config = config_from_args(ns)
    except ValueError as error:  # an impossible combination, e.g. --assistant on 1.8
        parser.error(str(error))
    try:
        serve(config, ns.host, ns.port, request_log(ns))
    except OSError as error:  # the port is taken, or the host is not ours to bind
        parser.exit(2, f"cannot listen on {ns.host}:{ns.port}: {error.strerror or error}\n")
