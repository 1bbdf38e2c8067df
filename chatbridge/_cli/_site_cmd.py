"""``chatbridge site``: run the local site (AI Power or AI Engine; the one the demo and the
tests use)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any, TextIO

from ..site import AIEngineSiteConfig, LocalSite, SiteConfig
from ..site._main import FAULTS_HELP, add_arguments, banner, config_from_args, request_log
from ._errors import ALWAYS, UsageError

__all__ = ["register"]

_EXAMPLES = """\
examples:
  chatbridge site --port 8080
  chatbridge site --generation aipkit --fault cloudflare --fault-target all
  chatbridge site --generation 1.8 --no-stream --upgrade-after 3
  chatbridge site --fault slow --fault-rate 0.25 --slow-seconds 5 --quiet
  chatbridge site --plugin ai-engine --generation 2.4 --permalinks plain
  chatbridge site --plugin ai-engine --fault thinking --fault end_differs --tick-seconds 60

The first line on stdout gives the URL ("... listening on http://127.0.0.1:PORT");
point `chatbridge chat --url` or `chatbridge check --url` at it. Each request then logs
one line on stderr (METHOD PATH ACTION STATUS MS ms [fault=KIND]) unless --quiet.
Ctrl-C stops it (exit code 130, like any interrupted command).

"""
_EPILOG = _EXAMPLES + FAULTS_HELP


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "site",
        help="run the local AI Power or AI Engine site (any generation, injectable faults)",
        description=(
            "Serve a local WordPress site running the AI Power chat plugin (or AI Engine, with "
            "--plugin ai-engine), in the generation and with the faults you choose, until "
            "Ctrl-C. It answers with a local echo responder (an AI Power site can forward to "
            "--upstream). Needs no network."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    # It serves until stopped, so it never exits 0: Ctrl-C is 130.
    parser.set_defaults(handler=run, exit_codes=ALWAYS)


async def _serve(
    config: SiteConfig | AIEngineSiteConfig, host: str, port: int, log: TextIO | None
) -> None:
    """Serve until cancelled. Not ``site._main.serve``: that one swallows Ctrl-C (and exits
    0), while the CLI lets it through so the command exits 130 like any interrupted one."""
    async with LocalSite(config, host=host, port=port, log=log) as url:
        print(banner(config, url), flush=True)
        await asyncio.Event().wait()


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    try:
        asyncio.run(_serve(config, args.host, args.port, request_log(args)))
    except OSError as error:  # the port is taken, or the host is not ours to bind
        reason = error.strerror or str(error)
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {reason}") from error
    return 0  # not reached: only Ctrl-C (KeyboardInterrupt, exit 130) or a signal ends it
