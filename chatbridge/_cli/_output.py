"""Writing results: plain text for pipes, rich tables for terminals, JSON for machines."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["print_json", "print_json_line", "print_table", "write"]


def write(text: str) -> None:
    """Text on stdout as is (no markup, no wrapping), flushed: for streamed answers."""
    sys.stdout.write(text)
    sys.stdout.flush()


def print_json(data: Any) -> None:
    """One JSON document, indented for people who read it too."""
    print(json.dumps(data, indent=2, ensure_ascii=False), flush=True)


def print_json_line(data: Any) -> None:
    """One JSON object on one line (JSON Lines): for streams of results and for errors."""
    print(json.dumps(data, ensure_ascii=False), flush=True)


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A rich table on a terminal; aligned plain columns (no box, no wrapping) in a pipe."""
    console = Console(highlight=False)
    if console.is_terminal:
        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    lines = [list(columns), *(list(row) for row in rows)]
    widths = [max(len(cell) for cell in column) for column in zip(*lines, strict=True)]
    for line in lines:
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        print("  ".join(cells).rstrip())
