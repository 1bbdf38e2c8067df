"""JSON from sites, parsed safely. Pure.

The standard parser recurses once per nesting level, so a body of a few thousand ``[``
raises :class:`RecursionError` instead of :class:`ValueError`. Every parse of text a site
sent goes through here, so that callers catch one exception: ``ValueError``.
"""

from __future__ import annotations

import json
from typing import Any

from ._exceptions import CUT_OFF, EmptyResponseError, ResponseError, TruncatedStreamError

__all__ = ["cut_off_json", "json_object", "loads", "raw_decode", "unreadable_reply"]

_DECODER = json.JSONDecoder()


def loads(text: str) -> Any:
    """``json.loads``, with too-deep nesting raised as ``ValueError``. A text that is one JSON
    value and nothing else (the usual event or reply) is read by the decoder directly, without
    ``json.loads``' whitespace scans around it (half the cost of a short event); anything
    else goes through ``json.loads``, which says what is wrong with it."""
    try:
        value, end = _DECODER.raw_decode(text)
        if end == len(text):
            return value
    except ValueError:
        pass
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc
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


def cut_off_json(body: str) -> bool:
    """True when ``body`` starts a JSON object that ends early: the text runs out inside it
    (the reply was cut), as opposed to text that is not JSON at all."""
    start = body.find("{")
    if start < 0:
        return False
    try:
        raw_decode(body, start)
    except json.JSONDecodeError as exc:
        # Cut inside a string, or within the last token ("tru", "1.", "\\u00", "-Infinit":
        # at most 8 characters): the text ran out, which is not what a page that merely is
        # not JSON looks like.
        return exc.msg.startswith("Unterminated string") or exc.pos >= len(body.rstrip()) - 8
    except ValueError:
        return False
    return False


def unreadable_reply(body: str, what: str, **context: Any) -> ResponseError:
    """The error for a body that should have been JSON: cut off, empty, or something else."""
    if not body.strip():
        return EmptyResponseError(f"{what} was empty", body=body, **context)
    if cut_off_json(body):
        return TruncatedStreamError(f"{CUT_OFF}: {what} ends mid-JSON", body=body, **context)
    return ResponseError(f"{what} is not JSON", body=body, **context)
