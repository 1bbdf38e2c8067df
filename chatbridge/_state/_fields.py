"""Reading back a value an engine put in the shared store, field by field: it may come from
another version, another program or a person, so each field is checked for type and size
(``ValueError`` when wrong: the caller then treats the whole value as absent)."""

from __future__ import annotations

import math
import time
from typing import Any

__all__ = ["SHORT", "URL_TEXT", "fetched_at", "optional_text", "text"]

SHORT = 256
URL_TEXT = 2048
#: A fetch time further in the future than this (seconds: clock skew between hosts) is a lie.
SKEW = 300.0


def text(data: dict[str, Any], name: str, most: int = SHORT, *, url: bool = False) -> str:
    """A string of at most ``most`` characters (an http(s) URL when ``url``)."""
    value = data.get(name)
    if not isinstance(value, str) or len(value) > most:
        raise ValueError(name)
    if url and not value.startswith(("http://", "https://")):
        raise ValueError(name)
    return value


def optional_text(data: dict[str, Any], name: str) -> str | None:
    """A short string, or ``None`` when absent."""
    return None if data.get(name) is None else text(data, name)


def fetched_at(data: dict[str, Any]) -> float:
    """When the value was fetched (wall clock): a finite number, not in the future."""
    value = data.get("fetched_at")
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value > time.time() + SKEW
    ):
        raise ValueError("fetched_at")
    return float(value)
