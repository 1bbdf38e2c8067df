"""Checks that several layers make of what a caller or a file gives them, written once.

Each layer words its own error (a routes file says which field, a call says which argument),
so most of these answer yes or no; :func:`check_timeout` and :func:`resolve_env` raise the
error every caller of theirs raises.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ._constants import MAX_CONNECTIONS_PER_HOST
from ._exceptions import ConfigError, InvalidRequestError

__all__ = [
    "check_connections",
    "check_timeout",
    "is_connections",
    "is_finite_at_least_zero",
    "is_number",
    "resolve_env",
    "site_url_problem",
]


def is_number(value: object) -> bool:
    """An int or a float (a bool is not a number here)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_finite_at_least_zero(value: object) -> bool:
    """A finite number ≥ 0: not NaN, not infinite, not negative, not a bool."""
    return is_number(value) and math.isfinite(value) and value >= 0  # type: ignore[arg-type,operator]


def check_timeout(timeout: object) -> float | None:
    """A ``timeout=`` argument: seconds (a positive, finite number), or ``None`` (no deadline
    of the call's own). Anything else is the caller's mistake: ``InvalidRequestError`` (a
    ValueError)."""
    if timeout is None:
        return None
    if not is_number(timeout):
        raise InvalidRequestError(
            f"timeout must be a number of seconds or None, not {timeout!r}", param="timeout"
        )
    seconds = float(timeout)  # type: ignore[arg-type]
    if not math.isfinite(seconds) or seconds <= 0:
        raise InvalidRequestError(
            f"timeout must be a positive, finite number of seconds (None for no deadline), "
            f"not {timeout!r}",
            param="timeout",
        )
    return seconds


def is_connections(value: object) -> bool:
    """A ``connections_per_host``: a whole number from 1 to ``MAX_CONNECTIONS_PER_HOST``."""
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and 1 <= value <= MAX_CONNECTIONS_PER_HOST
    )


def check_connections(value: object, default: int) -> int:
    """A ``connections_per_host=`` argument (``None``: ``default``, the provider's own);
    anything but a whole number from 1 to ``MAX_CONNECTIONS_PER_HOST`` is the caller's
    mistake (``InvalidRequestError``)."""
    if value is None:
        return default
    if not is_connections(value):
        raise InvalidRequestError(
            f"connections_per_host must be a whole number from 1 to "
            f"{MAX_CONNECTIONS_PER_HOST}, not {value!r}",
            param="connections_per_host",
        )
    return value  # type: ignore[return-value]


def resolve_env(value: Any, where: str, environ: Mapping[str, str] | None = None) -> Any:
    """A string ``"env:NAME"`` is the environment variable ``NAME`` (a :class:`ConfigError`
    naming ``where`` when it is not set); any other value is itself."""
    if isinstance(value, str) and value.startswith("env:"):
        name = value[4:]
        resolved = (os.environ if environ is None else environ).get(name)
        if not name or resolved is None:
            raise ConfigError(f"{where}: the environment variable {name!r} is not set")
        return resolved
    return value


_BLANK = re.compile(r"[\s\x00-\x1f\x7f]")
_HOST_PORT = re.compile(r"^[\w.-]+(:\d+)?(/.*)?$")


def site_url_problem(url: str) -> str | None:
    """What is wrong with ``url`` (surrounding blanks ignored) as a site's address, as the
    end of a sentence that starts with the URL; ``None`` when it is an http(s) URL with a
    host, a valid port and no blank inside."""
    text = url.strip()
    if _BLANK.search(text):
        return (
            "has a space (or another blank) inside: a URL has none; write a space in a path "
            "as %20"
        )
    try:
        parts = urlsplit(text)
    except ValueError:  # for example an unclosed "[" of an IPv6 address
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        example = f"http://{text}" if _HOST_PORT.match(text) else "https://example.org"
        return (
            "is not a site URL: it needs http:// or https:// and a host "
            f"(for example {example})"
        )
    try:
        port = parts.port  # a ValueError when it is not a number or out of range
    except ValueError:
        port = 0
    if port == 0:
        return "has an invalid port: use a number from 1 to 65535"
    return None
