"""The ``chatbridge`` command: argument parsing and dispatch. Commands live in their modules."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from contextvars import ContextVar
from typing import NoReturn

from .. import __version__
from ._commands import COMMANDS
from ._errors import EXIT_CODES_HELP, error_json, exit_codes_help, run_command
from ._output import print_json_line

__all__ = ["main"]

#: Whether ``--json`` is on the command line being parsed (usage errors then print JSON too).
_JSON_ERRORS: ContextVar[bool] = ContextVar("json_errors", default=False)


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line on stderr, like every other error (the usage
    synopsis is in ``--help``); under ``--json`` it also prints ``{"error", "exit_code"}`` on
    stdout. The command parsers are of this class too (argparse makes them like their parent)."""

    def error(self, message: str) -> NoReturn:
        if _JSON_ERRORS.get():
            print_json_line(error_json(message, 2))
        self.exit(2, f"chatbridge: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chatbridge",
        description="Web chat services (AI Power and AI Engine WordPress sites) behind one API.",
        epilog="example:\n  chatbridge demo\n\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--version", action="version", version=f"chatbridge {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    for subparser in subparsers.choices.values():
        if subparser.description:  # one paragraph each; the raw formatter keeps the epilog's
            subparser.description = textwrap.fill(subparser.description, width=88)
        # Every command takes --debug after its name too (SUPPRESS: the main flag stands
        # when it is not given here) and documents the exit codes, a blank line below its
        # examples.
        subparser.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
        )
        subparser.set_defaults(command_parser=subparser)  # for errors found after parsing
        codes = exit_codes_help(subparser.get_default("exit_codes"))  # only its own codes
        examples = (subparser.epilog or "").strip("\n")
        subparser.epilog = f"{examples}\n\n{codes}" if examples else codes
    return parser


def _wants_json(argv: Sequence[str]) -> bool:
    options = argv[: list(argv).index("--")] if "--" in argv else argv
    return "--json" in options


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    token = _JSON_ERRORS.set(_wants_json(arguments))
    try:
        args, extras = parser.parse_known_args(arguments)
        words = getattr(args, "words_dest", None)
        if extras and words and not any(extra.startswith("-") for extra in extras):
            # Words after an option (`chat hello --url U world`) still belong to the message.
            getattr(args, words).extend(extras)
        elif extras:  # reported by the command's parser, so the hint names its --help
            command_parser = getattr(args, "command_parser", parser)
            command_parser.error(f"unrecognized arguments: {' '.join(extras)}")
    finally:
        _JSON_ERRORS.reset(token)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return run_command(args)
