"""Exit codes, and turning any chatbridge error into one line on stderr (and, under
``--json``, a JSON object on stdout)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from typing import Any

from .._exceptions import (
    AllTargetsFailedError,
    BlockedError,
    ChallengeError,
    ChatbridgeError,
    ConfigError,
    MissingSiteError,
    MissingTokenError,
    ModelNotSupportedError,
    NonceError,
    ProviderNotFoundError,
    RateLimitError,
    RequestTimeoutError,
    RouteNotFoundError,
    TransportError,
    TruncatedStreamError,
)
from ._output import print_json_line

__all__ = [
    "ALWAYS",
    "EXIT_CODES_HELP",
    "INTERNAL_ERROR",
    "INTERRUPTED",
    "UsageError",
    "describe",
    "error_json",
    "exit_code",
    "exit_codes_help",
    "fail",
    "run_command",
]


class UsageError(ChatbridgeError):
    """A bad command-line value (for example a malformed URL)."""


# (error type, exit code, meaning): the first match wins, so subclasses come first.
_CODES: tuple[tuple[type[BaseException], int, str], ...] = (
    (UsageError, 2, "bad usage or a malformed value (for example a URL)"),
    (MissingSiteError, 2, "bad usage or a malformed value (for example a URL)"),
    (ConfigError, 2, "bad usage or a malformed value (for example a URL)"),
    (ProviderNotFoundError, 3, "unknown provider or model"),
    (RouteNotFoundError, 3, "unknown provider or model"),
    (ModelNotSupportedError, 3, "unknown provider or model"),
    (RequestTimeoutError, 5, "unreachable host, failed connection or timeout"),
    (TransportError, 5, "unreachable host, failed connection or timeout"),
    (MissingTokenError, 6, "not a supported chat site (no AI Power or AI Engine chat found)"),
    (ChallengeError, 7, "a bot challenge (Cloudflare) or firewall block"),
    (BlockedError, 7, "a bot challenge (Cloudflare) or firewall block"),
    (NonceError, 8, "the site rejected its nonce even after a refresh"),
    (RateLimitError, 9, "rate or token limit reached"),
    (ChatbridgeError, 10, "the site or its plugin answered with an error"),
)
#: Anything else is a bug in chatbridge: one line (the traceback with --debug), this code.
INTERNAL_ERROR = 11
INTERRUPTED = 130

_MEANINGS = dict.fromkeys((code, meaning) for _, code, meaning in _CODES)
_TABLE = (
    (0, "success"),
    (1, "a check failed"),
    *_MEANINGS,
    (INTERNAL_ERROR, "an internal error (a bug: rerun with --debug and report it)"),
    (INTERRUPTED, "interrupted (Ctrl-C)"),
)
#: The codes any command can end with: a usage error, a bug, Ctrl-C.
ALWAYS: frozenset[int] = frozenset({2, INTERNAL_ERROR, INTERRUPTED})


def exit_codes_help(codes: frozenset[int] | None = None) -> str:
    """The exit code table, limited to ``codes`` (``None``: every code)."""
    rows = (
        f"  {code:<3}  {meaning}\n" for code, meaning in _TABLE if codes is None or code in codes
    )
    return "exit codes:\n" + "".join(rows)


EXIT_CODES_HELP = exit_codes_help()


def exit_code(error: BaseException) -> int:
    if isinstance(error, AllTargetsFailedError) and error.errors:
        return exit_code(error.errors[-1])  # every target failed: the last one's reason
    for error_type, code, _ in _CODES:
        if isinstance(error, error_type):
            return code
    return 1


def describe(error: BaseException, args: argparse.Namespace | None = None) -> str:
    """The error's one line, with what to do on the command line where the library's words
    are not enough: a timeout names ``--timeout``, a streamed answer that was cut off on a
    route names ``--no-stream``."""
    text = str(error)
    last = error.errors[-1] if isinstance(error, AllTargetsFailedError) and error.errors else None
    if isinstance(error, RequestTimeoutError) or isinstance(last, RequestTimeoutError):
        # The deadline that applied: --timeout, or the route's policy, or the provider's.
        said = getattr(args, "deadline_said", None)
        given = getattr(args, "timeout", None)
        now = f" (now {said})" if said else f" (now {given:g} s)" if given else ""
        return f"{text}; to wait longer, give --timeout SECONDS{now}"
    routed = getattr(args, "config", None) and not getattr(args, "no_stream", True)
    if isinstance(error, TruncatedStreamError) and routed:  # the router's cut: fail over whole
        return f"{text} (here: --no-stream)"
    return text


def error_json(message: str, code: int) -> dict[str, Any]:
    """What ``--json`` prints on stdout for a failure (the stderr line stays)."""
    return {"error": message, "exit_code": code}


def fail(message: str, code: int, *, json_output: bool, prefix: str = "error: ") -> int:
    """Report a failure as ``chatbridge: PREFIX MESSAGE`` on stderr and, under ``--json``,
    as a one-line JSON object on stdout too; returns ``code``."""
    print(f"chatbridge: {prefix}{message}", file=sys.stderr, flush=True)
    if json_output:
        print_json_line(error_json(message, code))
    return code


def run_command(args: argparse.Namespace) -> int:
    """Run the chosen command; errors become one line on stderr and a distinct exit code."""
    json_output = bool(getattr(args, "json", False))
    try:
        result: int = args.handler(args)
        return result
    except KeyboardInterrupt:
        return fail("interrupted", INTERRUPTED, json_output=json_output, prefix="")
    except ChatbridgeError as error:
        if args.debug:
            traceback.print_exc()
        return fail(describe(error, args), exit_code(error), json_output=json_output)
    except ValueError as error:  # bad messages and other caller mistakes
        if args.debug:
            traceback.print_exc()
        return fail(str(error), 2, json_output=json_output)
    except BrokenPipeError:  # `chatbridge ... | head`: the reader left; nothing to report
        _silence_stdout()
        return 0
    except Exception as error:  # the CLI's top level: a bug must not end in a bare traceback
        if args.debug:
            traceback.print_exc()
        message = (
            f"internal error: {type(error).__name__}: {error} "
            "(rerun with --debug for the traceback)"
        )
        return fail(message, INTERNAL_ERROR, json_output=json_output, prefix="")


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
