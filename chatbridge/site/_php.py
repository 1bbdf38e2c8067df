"""The bits of PHP and WordPress behaviour the plugin's handler depends on.

Pure functions on strings: ``wp_magic_quotes`` slashing, ``sanitize_text_field`` /
``sanitize_textarea_field``, ``esc_html``, ``wp_json_encode`` and PHP ``serialize``.
Form values are decoded with ``surrogateescape`` so that invalid UTF-8 survives to the point
where WordPress would notice it.
"""

from __future__ import annotations

import json
import re
from typing import Any

_LESS_THAN = re.compile(r"<[^>]*?((?=<)|>|$)")
_SCRIPT_STYLE = re.compile(r"<(script|style)[^>]*?>.*?</\1>", re.IGNORECASE | re.DOTALL)
_WHITESPACE = re.compile(r"[\r\n\t ]+")
_OCTET = re.compile(r"%[a-fA-F0-9]{2}")
_SPACES = re.compile(r" +")
_SERIALIZED_STR = re.compile(rb's:(\d+):"')


def has_invalid_utf8(text: str) -> bool:
    """True when ``text`` came from bytes that were not valid UTF-8."""
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def clean_utf8(text: str) -> str:
    """Replace undecodable bytes by U+FFFD (what PHP's JSON encoder ends up sending)."""
    if not has_invalid_utf8(text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def add_slashes(text: str) -> str:
    """``addslashes``, as ``wp_magic_quotes`` applies it to every request value."""
    if not any(ch in text for ch in "'\"\\\0"):
        return text
    return text.replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"').replace("\0", "\\0")


def _sanitize(text: str, keep_newlines: bool) -> str:
    if has_invalid_utf8(text):
        return ""
    if "<" in text:
        text = _LESS_THAN.sub(
            lambda m: m.group(0) if ">" in m.group(0) else esc_html(m.group(0)), text
        )
        text = strip_tags(_SCRIPT_STYLE.sub("", text))
        text = text.replace("<\n", "&lt;\n")
    if not keep_newlines:
        text = _WHITESPACE.sub(" ", text)
    text = text.strip(" \t\n\r\0\x0b")
    if _OCTET.search(text):
        text = _OCTET.sub("", text)
        while _OCTET.search(text):
            text = _OCTET.sub("", text)
        text = _SPACES.sub(" ", text).strip(" \t\n\r\0\x0b")
    return text


_C_SPACE = frozenset(" \t\n\r\x0b\x0c")


def strip_tags(text: str) -> str:
    """PHP ``strip_tags`` (no allowed tags): the ``php_strip_tags_ex`` state machine.

    States: 0 text, 1 tag, 2 ``<?…?>``, 3 ``<!…>``, 4 ``<!-- … -->``. A ``<`` followed by C
    whitespace is text; quotes inside a tag hide ``<`` and ``>``; NUL bytes are dropped.
    """
    out: list[str] = []
    state = depth = 0
    in_q = lc = ""
    br = 0
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        prev = text[i - 1] if i > 0 else ""
        if c == "\0":
            pass
        elif state == 0:
            if c == "<" and nxt not in _C_SPACE:
                state, lc = 1, "<"
            elif c != ">" or not depth:
                out.append(c)
            else:
                depth -= 1
        elif state == 1:
            if c == "<":
                if not in_q and nxt not in _C_SPACE:
                    depth += 1
            elif c == ">":
                if depth:
                    depth -= 1
                elif not in_q:
                    lc = ">"
                    state, in_q = 0, ""
            elif c in "\"'":
                in_q = "" if in_q == c else (in_q or c)
            elif c in "!?" and prev == "<":
                state = 3 if c == "!" else 2
                lc, br = c, 0
        elif state == 2:  # <?php … ?>
            if c in "()" and lc not in ("\"", "'"):
                lc = c
                br += 1 if c == "(" else -1
            elif c == ">":
                if depth:
                    depth -= 1
                elif not in_q and not br and lc != '"' and prev == "?":
                    state, in_q = 0, ""
            elif c in "\"'":
                if prev != "\\":
                    lc = "" if lc == c else (c if lc != "\\" else lc)
                in_q = "" if in_q == c else (in_q or c)
            elif c in "lL" and text[max(i - 4, 0) : i].lower() == "<?xm":
                state = 1
        elif state == 3:  # <!…> (comment start, DOCTYPE, CDATA)
            if c == ">":
                if depth:
                    depth -= 1
                elif not in_q:
                    state, in_q = 0, ""
            elif c in "\"'":
                if prev != "\\" and (not in_q or c == in_q):
                    in_q = "" if in_q else c
            elif c == "-" and text[max(i - 2, 0) : i] == "!-":
                state = 4
            elif c in "eE" and text[max(i - 6, 0) : i].lower() == "doctyp":
                state = 1
        elif c == ">" and not in_q and text[max(i - 2, 0) : i] == "--":  # state 4
            state = 0
        i += 1
    return "".join(out)


def sanitize_text_field(text: str) -> str:
    """WordPress ``sanitize_text_field``: tags stripped, whitespace collapsed, octets removed."""
    return _sanitize(text, keep_newlines=False)


def sanitize_textarea_field(text: str) -> str:
    """WordPress ``sanitize_textarea_field``: like the above but newlines are kept."""
    return _sanitize(text, keep_newlines=True)


_INTVAL = re.compile(r"[ \t\n\r\x0b\x0c]*([+-]?[0-9]+)")
_NOT_KEY = re.compile(r"[^a-z0-9_\-]")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def intval(text: str) -> int:
    """PHP ``intval`` of a string: optional C whitespace, a sign, ASCII digits; else 0."""
    match = _INTVAL.match(text)
    return int(match.group(1)) if match else 0


def sanitize_key(text: str) -> str:
    """WordPress ``sanitize_key``: ASCII-lower-cased, only ``a-z 0-9 _ -`` kept."""
    return _NOT_KEY.sub("", text.translate(_ASCII_LOWER))


def esc_html(text: str) -> str:
    """``esc_html`` / ``esc_attr`` (quotes included)."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#039;")
    )


def wp_json(value: Any) -> bytes:
    """``wp_json_encode``: ASCII with ``\\u`` + 4-hex-digit escapes and escaped slashes."""
    return json.dumps(value, separators=(",", ":")).replace("/", "\\/").encode()


def php_serialize_list(items: list[str]) -> bytes:
    """``serialize(array_of_strings)`` (lengths in UTF-8 bytes)."""
    parts = [b"a:%d:{" % len(items)]
    for index, item in enumerate(items):
        raw = item.encode("utf-8", "surrogateescape")
        parts.append(b'i:%d;s:%d:"%s";' % (index, len(raw), raw))
    parts.append(b"}")
    return b"".join(parts)


def php_unserialize_list(data: bytes) -> list[str] | None:
    """``unserialize`` of an array of strings; ``None`` where PHP would return false."""
    head = re.match(rb"a:(\d+):\{", data)
    if head is None:
        return None
    count = int(head.group(1))
    pos = head.end()
    items: list[str] = []
    for _ in range(count):
        key = re.match(rb"i:\d+;", data[pos:])
        if key is None:
            return None
        pos += key.end()
        match = _SERIALIZED_STR.match(data, pos)
        if match is None:
            return None
        length = int(match.group(1))
        start = match.end()
        end = start + length
        if data[end : end + 2] != b'";':
            return None
        items.append(data[start:end].decode("utf-8", "surrogateescape"))
        pos = end + 2
    if data[pos:] != b"}":
        return None
    return items
