"""Exit codes, and turning any chatbridge error into one line on stderr."""

from __future__ import annotations

import argparse
import sys
import traceback

from .._exceptions import (
    BlockedError,
    ChallengeError,
    ChatbridgeError,
    MissingTokenError,
    ModelNotSupportedError,
    NonceError,
    ProviderNotFoundError,
    RateLimitError,
    RequestTimeoutError,
    TransportError,
)

__all__ = ["EXIT_CODES_HELP", "UsageError", "exit_code", "run_command"]


class UsageError(ChatbridgeError):
    """A bad command-line value (for example a malformed URL)."""


# (error type, exit code, meaning): the first match wins, so subclasses come first.
_CODES: tuple[tuple[type[BaseException], int, str], ...] = (
    (UsageError, 2, "bad usage or a malformed value (for example a URL)"),
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

EXIT_CODES_HELP = "exit codes:\n  0  success\n  1  a check failed\n" + "".join(
    f"  {code:<2} {meaning}\n"
    for code, meaning in dict.fromkeys((code, meaning) for _, code, meaning in _CODES)
) + "  130 interrupted (Ctrl-C)\n"


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
