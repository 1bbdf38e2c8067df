"""``chatbridge providers``: a table of providers."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from .._providers._registry import list_providers

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
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    rows = [provider.describe() for provider in list_providers()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    table = Table(title="chatbridge providers")
    for column in ("name", "site", "working", "streaming", "models"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["name"],
            row["url"] or "(any AI Power site: --url)",
            "yes" if row["working"] else "no",
            "yes" if row["supports_stream"] else "no",
            ", ".join(row["models"]) or "(the site's own)",
        )
    Console().print(table)
    return 0
