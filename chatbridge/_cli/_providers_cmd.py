"""``chatbridge providers``: a table of providers."""

from __future__ import annotations

import argparse
from typing import Any

from .._providers._family import plugin_name
from .._providers._registry import list_providers
from .._providers.anysite import AnySite
from ._errors import ALWAYS
from ._output import print_json, print_table

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "providers",
        help="list providers: name, site, working, streaming, models",
        description="List every provider with its site, flags and models.",
        epilog="example:\n  chatbridge providers --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run, exit_codes=ALWAYS | {0})


def run(args: argparse.Namespace) -> int:
    providers = list_providers()
    rows = [provider.describe() for provider in providers]
    if args.json:
        print_json(rows)
        return 0
    table = []
    for provider, row in zip(providers, rows, strict=True):
        plugin = plugin_name(provider)
        site_provider = plugin is not None or provider is AnySite
        if provider is AnySite:
            anywhere = "(any AI Power or AI Engine site: --url)"
        else:
            anywhere = f"(any {plugin} site: --url)" if plugin else "(any endpoint: --url)"
        table.append(
            [
                row["name"],
                row["url"] or anywhere,
                "yes" if row["working"] else "no",
                "yes" if row["supports_stream"] else "no",
                ", ".join(row["models"]) or ("(the site's own)" if site_provider else "(any)"),
            ]
        )
    print_table("chatbridge providers", ("name", "site", "working", "streaming", "models"), table)
    return 0
