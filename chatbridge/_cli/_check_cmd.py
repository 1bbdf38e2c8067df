"""``chatbridge check``: probe sites live, discovery then one short message, and report."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import asdict, replace
from typing import Any

from .._providers._base import BaseProvider
from .._providers._family import plugin_name
from .._providers._registry import get_provider, list_providers
from .._providers.anysite import AnySite
from ._errors import ALWAYS, UsageError
from ._options import (
    CHECK_TIMEOUT,
    Destination,
    add_connection_options,
    add_page_options,
    check_proxy,
    check_site_url,
)
from ._output import print_json, print_table
from ._probe import Probe, probe_site
from ._spinner import Spinner, stderr_is_terminal

__all__ = ["default_targets", "register"]

_EXAMPLES = """\
examples:
  chatbridge check --url https://your-site.example
  chatbridge check --url https://one.example --url https://two.example/chat/ --json
  chatbridge check                       (everything that can work: working providers)
  chatbridge check --config chatbridge.toml   (every target of every route, and its breaker)

--url checks any AI Power or AI Engine site (its home page or the page with the chat):
its page tells which plugin it runs. NAME checks a provider at its own site; a provider
with no site of its own (AIPower, AIEngine) needs --url instead. With neither, check
probes every provider marked working that has a site of its own, and when there is none
it says how to check a site.
--json prints one object per site: provider, site, reachable, plugin ("AI Power",
"AI Engine"), generation (as narrowly as the page shows it: "legacy 1.9.4–2.2",
"aipkit 2.3+", "G3 3.5.2+", "G2 1.6.76–2.4.3"…), streaming, answered,
nonce_accepted (true: the site got past its nonce check, even if it then failed, for
example on its AI backend's error; false: refused even after a refresh; null: not known,
because the probe failed before sending or before the site's nonce check showed),
nonce_refreshed (true when a refused nonce was replaced from a fresh page), first_token_ms,
latency_ms, error and exit_code (what `chatbridge chat` would exit with for that site: see
`chatbridge chat --help`). A failure before any probe (a malformed --url) prints
{"error": MESSAGE, "exit_code": CODE} instead.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="probe sites live: discovery, one short message, latency",
        description=(
            "Probe each site: fetch its page, find its chat plugin (AI Power or AI Engine), "
            "protocol generation and nonce, send one short message, and report per site: "
            "reachable, plugin, generation, streaming, nonce accepted, answered, latency. "
            "Exits 1 when any site failed."
        ),
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="provider to check")
    parser.add_argument(
        "--url",
        action="append",
        default=[],
        metavar="SITE",
        help="a site to check, its home page or the page with the chat (repeatable)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="a routes file (TOML, see docs/routing.md): probe every target of every route "
        "and show its circuit breaker",
    )
    add_page_options(parser)
    add_connection_options(parser, timeout=CHECK_TIMEOUT)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    # A failed probe's own code (5 to 10) is in the report; the command exits 1 for it.
    parser.set_defaults(handler=run, exit_codes=ALWAYS | {0, 1, 3})


_HOW_TO_CHECK_A_SITE = (
    "check a site with `chatbridge check --url https://your-site.example`, or the routes of a "
    "file with `chatbridge check --config chatbridge.toml`"
)


def default_targets() -> list[Destination]:
    """What ``check`` probes when given no NAME and no ``--url``: everything that can work,
    that is every provider marked working that has a site of its own. (Configured routes
    belong here too once they exist.)"""
    return [
        Destination(provider, None, _default_model(provider))
        for provider in list_providers(working_only=True)
        if provider.url and plugin_name(provider) is not None  # what a probe can check
    ]


def _targets(args: argparse.Namespace) -> list[Destination]:
    """Everything is validated before the first probe, so a typo costs no timeout."""
    urls = [check_site_url(url) for url in args.url]
    providers = [_checkable(get_provider(name)) for name in args.names]
    if not providers and not urls:
        targets = default_targets()
        if not targets:
            raise UsageError(
                "nothing to check: no working provider has a site of its own (the seed "
                f"providers' sites are gone), so {_HOW_TO_CHECK_A_SITE}"
            )
        return targets
    targets = [Destination(p, None, _default_model(p)) for p in providers]
    targets += [Destination(AnySite, url, _default_model(AnySite)) for url in urls]
    return [replace(t, chat_page=args.chat_page, bot_id=args.bot_id) for t in targets]


def _checkable(provider: type[BaseProvider]) -> type[BaseProvider]:
    """``provider``, if check can probe it at a site of its own."""
    name = provider.get_name()
    if plugin_name(provider) is None:
        raise UsageError(f"{name} is not a chat site provider; check cannot probe it")
    if not provider.url:
        raise UsageError(f"{name} has no site of its own: {_HOW_TO_CHECK_A_SITE}")
    return provider


def _default_model(provider: type[Any]) -> str:
    return str(getattr(provider, "default_model", None) or "")


def run(args: argparse.Namespace) -> int:
    if args.config is not None:
        return _run_routes(args)
    targets = _targets(args)
    check_proxy(args.proxy)
    probes = asyncio.run(_check_all(targets, args))
    if args.json:
        print_json([asdict(probe) for probe in probes])
    else:
        _report(probes)
    return 0 if all(probe.answered for probe in probes) else 1


async def _check_all(targets: list[Destination], args: argparse.Namespace) -> list[Probe]:
    probes = []
    decorate = not args.json and stderr_is_terminal()
    with Spinner("Checking…", enabled=decorate) as spinner:
        for target in targets:  # one at a time: latencies stay comparable
            spinner.update(f"Checking {target.name} at {target.url}…")
            probes.append(await probe_site(target, args.proxy, args.timeout))
    return probes


def _yes_no(value: bool | None) -> str:
    return "-" if value is None else "yes" if value else "no"


def _nonce(probe: Probe) -> str:
    if probe.nonce_accepted and probe.nonce_refreshed:
        return "after refresh"
    return _yes_no(probe.nonce_accepted)


def _report(probes: list[Probe]) -> None:
    rows = [
        [
            probe.provider,
            probe.site or "-",
            _yes_no(probe.reachable),
            probe.plugin or "-",
            probe.generation or "-",
            _yes_no(probe.streaming),
            _nonce(probe),
            _yes_no(probe.answered),
            "-" if probe.latency_ms is None else f"{probe.latency_ms:.0f} ms",
        ]
        for probe in probes
    ]
    columns = (
        "provider",
        "site",
        "reachable",
        "plugin",
        "generation",
        "streaming",
        "nonce",
        "answered",
    )
    print_table("chatbridge check", (*columns, "latency"), rows)
    failed = [probe for probe in probes if not probe.answered]
    for probe in failed:
        print(f"FAILED {probe.provider} {probe.site}: {probe.error} [exit code {probe.exit_code}]")
    print(f"{len(probes) - len(failed)} of {len(probes)} sites answered")


def _run_routes(args: argparse.Namespace) -> int:
    if args.names or args.url:
        raise UsageError("--config checks the routes of a file; NAME and --url name sites: use one")
    check_proxy(args.proxy)
    from ._check_routes import check_routes  # the client only when routes are checked

    decorate = not args.json and stderr_is_terminal()
    with Spinner("Checking routes…", enabled=decorate) as spinner:
        probes = asyncio.run(check_routes(args.config, args.proxy, args.timeout, spinner.update))
    if args.json:
        print_json([asdict(probe) for probe in probes])
    else:
        rows = [
            [
                probe.route or "-",
                probe.target or "-",
                _yes_no(probe.reachable),
                _yes_no(probe.answered),
                "-" if probe.latency_ms is None else f"{probe.latency_ms:.0f} ms",
                probe.tools,
                _share(probe.strategy, probe.share),
                "-" if probe.fleet_share is None else f"{probe.fleet_share * 100:.0f}%",
                "-" if probe.in_flight is None else str(probe.in_flight),
                _milliseconds(probe.latency_estimate),
                _breaker(probe.breaker),
            ]
            for probe in probes
        ]
        columns = (
            "route", "target", "reachable", "answered", "latency", "tools", "share",
            "fleet share", "in flight", "est. ttft", "breaker",
        )  # fmt: skip
        print_table("chatbridge check --config", columns, rows)
        for probe in probes:
            if not probe.answered:
                where = f"{probe.route}: {probe.target}"
                print(f"FAILED {where}: {probe.error} [exit code {probe.exit_code}]")
        answered = sum(probe.answered for probe in probes)
        print(f"{answered} of {len(probes)} targets answered")
    return 0 if all(probe.answered for probe in probes) else 1


def _milliseconds(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


def _share(strategy: str, share: float | None) -> str:
    """A target's planned share of its route's calls, and the strategy that plans it."""
    if share is None:
        return f"by load ({strategy.replace('_', ' ')})"
    return f"{share * 100:.0f}% ({strategy.replace('_', ' ')})"


def _breaker(state: dict[str, Any]) -> str:
    failures = state.get("consecutive_failures", 0)
    text = str(state.get("state", "-"))
    return f"{text} ({failures} failure{'s' * (failures != 1)} in a row)" if failures else text
