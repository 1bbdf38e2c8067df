"""argparse ``type=`` checks for the site's options: a bad value is refused at parse time with
the option's own name (argparse adds it: ``argument --fault-rate: ...``), before the site
starts."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from urllib.parse import urlsplit

__all__ = [
    "bot_id",
    "chat_path",
    "fraction",
    "http_url",
    "port_number",
    "seconds",
    "whole_number",
]

#: Paths the site serves itself: a chat page there would never be seen.
_RESERVED_PATHS = ("/wp-admin/", "/__site__/")


def port_number(text: str) -> int:
    """``--port``: a TCP port, 0 to 65535 (0 = a free one)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0 to 65535: {text!r}")
    return port


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number: {text!r}")
    return value


def fraction(text: str) -> float:
    """``--fault-rate``: a probability, 0 to 1."""
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(
            f"must be from 0 to 1 (0.25 faults one request in four): {text!r}"
        )
    return value


def seconds(*, zero: bool) -> Callable[[str], float]:
    """A number of seconds: at least 0 with ``zero``, else more than 0."""

    def parse(text: str) -> float:
        value = _number(text)
        if value < 0 or (value == 0 and not zero):
            bound = "0 or more" if zero else "more than 0"
            raise argparse.ArgumentTypeError(f"must be {bound} seconds: {text!r}")
        return value

    return parse


def whole_number(minimum: int) -> Callable[[str], int]:
    """An integer of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more: {text!r}")
        return value

    return parse


def bot_id(text: str) -> str:
    """``--bot-id``: a whole number of 0 or more (AI Power) or a bot's name (AI Engine)."""
    if text.lstrip("-").isdigit():
        return str(whole_number(0)(text))
    if not text or not all(c.isalnum() or c in "-_" for c in text):
        raise argparse.ArgumentTypeError(
            f"not a bot id (a whole number, or letters, digits, - and _): {text!r}"
        )
    return text


def http_url(text: str) -> str:
    """``--upstream``: an http:// or https:// URL with a host."""
    try:
        parts = urlsplit(text)
        port_ok = parts.port is None or parts.port > 0  # ValueError when not a valid port
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise argparse.ArgumentTypeError(
            f"not an http:// or https:// URL with a host: {text!r} "
            "(for example http://127.0.0.1:8000/v1)"
        )
    return text


def chat_path(text: str) -> str:
    """``--chat-path``: a path on this site ("/" or "/chat/"), no query or fragment."""
    if not text.startswith("/") or any(c in text for c in "?# \t\r\n"):
        raise argparse.ArgumentTypeError(
            f"not a path on the site: {text!r} (a path starting with /, for example /chat/)"
        )
    if text.startswith(_RESERVED_PATHS) or text.rstrip("/") in ("/wp-admin", "/__site__"):
        raise argparse.ArgumentTypeError(f"{text!r} is where the site's own endpoints live")
    return text
