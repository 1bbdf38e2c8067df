"""JSON from sites, parsed safely. Pure.

The standard parser recurses once per nesting level, so a body of a few thousand ``[``
raises :class:`RecursionError` instead of :class:`ValueError`. Every parse of text a site
sent goes through here, so that callers catch one exception: ``ValueError``.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["json_object", "loads", "raw_decode"]

_DECODER = json.JSONDecoder()


def loads(text: str) -> Any:
    """``json.loads``, with too-deep nesting raised as ``ValueError``."""
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc


def raw_decode(text: str, start: int = 0) -> tuple[Any, int]:
    """``JSONDecoder.raw_decode``, with too-deep nesting raised as ``ValueError``."""
    try:
        return _DECODER.raw_decode(text, start)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc


def json_object(body: str) -> Any:
    """The first JSON value from the first ``{`` on: PHP notices or a BOM may come before
    it, a stray newline or notice after it. Raises ``ValueError`` if there is none."""
    start = body.find("{")
    if start < 0:
        raise ValueError("no JSON object")
    value, _ = raw_decode(body, start)
    return value
