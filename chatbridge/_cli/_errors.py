"""Exit codes, and turning any chatbridge error into one line on stderr."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback

from .._exceptions import (
    BlockedError,
    ChallengeError,
    ChatbridgeError,
    MissingSiteError,
    MissingTokenError,
    ModelNotSupportedError,
    NonceError,
    ProviderNotFoundError,
    RateLimitError,
    RequestTimeoutError,
    TransportError,
)

__all__ = ["EXIT_CODES_HELP", "INTERNAL_ERROR", "UsageError", "exit_code", "run_command"]


class UsageError(ChatbridgeError):
    """A bad command-line value (for example a malformed URL)."""


# (error type, exit code, meaning): the first match wins, so subclasses come first.
_CODES: tuple[tuple[type[BaseException], int, str], ...] = (
    (UsageError, 2, "bad usage or a malformed value (for example a URL)"),
    (MissingSiteError, 2, "bad usage or a malformed value (for example a URL)"),
    (ProviderNotFoundError, 3, "unknown provider or model"),
    (ModelNotSupportedError, 3, "unknown provider or model"),
    (RequestTimeoutError, 5, "unreachable host, failed connection or timeout"),
    (TransportError, 5, "unreachable host, failed connection or timeout"),
    (MissingTokenError, 6, "not an AI Power site (no chat tokens found)"),
    (ChallengeError, 7, "a bot challenge (Cloudflare) or firewall block"),
    (BlockedError, 7, "a bot challenge (Cloudflare) or firewall block"),
    (NonceError, 8, "the site rejected its nonce even after a refresh"),
    (RateLimitError, 9, "rate or token limit reached"),
    (ChatbridgeError, 10, "the site or its plugin answered with an error"),
)
#: Anything else is a bug in chatbridge: one line (the traceback with --debug), this code.
INTERNAL_ERROR = 11

_MEANINGS = dict.fromkeys((code, meaning) for _, code, meaning in _CODES)
EXIT_CODES_HELP = (
    "exit codes:\n  0   success\n  1   a check failed\n"
    + "".join(f"  {code:<3} {meaning}\n" for code, meaning in _MEANINGS)
    + f"  {INTERNAL_ERROR} an internal error (a bug: rerun with --debug and report it)\n"
    + "  130 interrupted (Ctrl-C)\n"
)


def exit_code(error: BaseException) -> int:
    for error_type, code, _ in _CODES:
        if isinstance(error, error_type):
            return code
    return 1


def run_command(args: argparse.Namespace) -> int:
    """Run the chosen command; errors become one line on stderr and a distinct exit code."""
    try:
        result: int = args.handler(args)
        return result
    except KeyboardInterrupt:
        print("chatbridge: interrupted", file=sys.stderr)
        return 130
    except ChatbridgeError as error:
        if args.debug:
            traceback.print_exc()
        print(f"chatbridge: error: {error}", file=sys.stderr)
        return exit_code(error)
    except ValueError as error:  # bad messages and other caller mistakes
        if args.debug:
            traceback.print_exc()
        print(f"chatbridge: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `chatbridge ... | head`: the reader left; nothing to report
        _silence_stdout()
        return 0
    except Exception as error:  # the CLI's top level: a bug must not end in a bare traceback
        if args.debug:
            traceback.print_exc()
        print(
            f"chatbridge: internal error: {type(error).__name__}: {error} "
            "(rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return INTERNAL_ERROR


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
