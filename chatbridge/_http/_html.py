"""Finding ``<div …>`` start tags and their attributes in a page a site sent. Pure.

Both plugin engines anchor on a chat container ``div`` and read its ``data-*`` attributes,
so both scan pages here. Every pattern runs on text the site controls, so none may backtrack
over more than a bounded span: a page of ``"<div" * n`` or ``'<div "' * n`` costs O(n), not
O(n²). Tags are found by scanning forward, never by a pattern that can fail only at the end of
the page from every start.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

__all__ = ["attributes", "classes", "div_attributes", "div_tags"]

_DIV_START = re.compile(r"<div\b", re.IGNORECASE)
_TAG_SPECIAL = re.compile(r"""[>"']""")
_ATTRIBUTE = re.compile(
    r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""", re.DOTALL
)


def div_tags(page: str) -> Iterator[str]:
    """Each ``<div …>`` start tag; quoted attribute values may hold ``>`` and newlines.

    One forward pass: a tag whose quote never closes, or that never ends, stops the scan
    there (as it would swallow the rest of the page in a browser) instead of being retried
    from every later ``<div``, which would make the scan quadratic.
    """
    position = 0
    while (start := _DIV_START.search(page, position)) is not None:
        cursor = start.end()
        while True:
            special = _TAG_SPECIAL.search(page, cursor)
            if special is None:
                return  # no ">" anywhere after: no later tag can end either
            char = special.group()
            if char == ">":
                yield page[start.start() : special.end()]
                position = special.end()
                break
            closing = page.find(char, special.end())
            if closing < 0:  # an unclosed quote: go on after it, not from the next "<div"
                position = special.end()
                break
            cursor = closing + 1


def attributes(tag: str) -> dict[str, str]:
    """A ``<div …>`` tag's attributes, names lower-cased, values HTML-unescaped; the first of
    a repeated name wins (as in a browser)."""
    body = tag[4:-1]  # drop "<div" and ">"
    result: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(body):
        name = match.group(1).lower()
        value = next((g for g in match.groups()[1:] if g is not None), "")
        result.setdefault(name, html.unescape(value))
    return result


def div_attributes(page: str) -> list[dict[str, str]]:
    """The attributes of every ``div`` of ``page``, in document order."""
    return [attributes(tag) for tag in div_tags(page)]


def classes(attrs: dict[str, str]) -> set[str]:
    """The class names of a tag's attributes."""
    return set(attrs.get("class", "").split())
