"""Checks that several layers make of what a caller or a file gives them, written once.

Each layer words its own error (a routes file says which field, a call says which argument),
so most of these answer yes or no; :func:`check_timeout` and :func:`resolve_env` raise the
error every caller of theirs raises.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from ._constants import MAX_CONNECTIONS_PER_HOST
from ._exceptions import ConfigError, InvalidRequestError

__all__ = [
    "check_connections",
    "check_timeout",
    "is_connections",
    "is_finite_at_least_zero",
    "is_number",
    "resolve_env",
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
