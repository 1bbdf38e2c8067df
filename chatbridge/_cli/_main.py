"""The ``chatbridge`` command: argument parsing and dispatch. Commands live in their modules."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence

from ._commands import COMMANDS
from ._errors import EXIT_CODES_HELP, run_command

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatbridge",
        description="Web chat services (AI Power WordPress sites) behind one API.",
        epilog="example:\n  chatbridge demo\n\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    for subparser in subparsers.choices.values():
        if subparser.description:  # one paragraph each; the raw formatter keeps the epilog's
            subparser.description = textwrap.fill(subparser.description, width=88)
        # Every command takes --debug after its name too (SUPPRESS: the main flag stands
        # when it is not given here) and documents the exit codes.
        subparser.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
        )
        subparser.epilog = f"{subparser.epilog or ''}\n{EXIT_CODES_HELP}".lstrip("\n")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return run_command(args)
