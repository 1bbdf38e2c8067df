"""What makes a string a site's address: checked before anything is sent, so a typo is a
clear error now instead of a DNS failure (or a dependency's bare ValueError) later. Pure."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["site_url_problem"]

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
