"""Pure stream decoders: bytes in, lines or server-sent events out. No I/O here.

Both decoders are fed chunks exactly as the network delivers them (split anywhere, even in
the middle of a UTF-8 sequence or a CRLF) and keep what is incomplete for the next feed.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._exceptions import ResponseTooLargeError

if TYPE_CHECKING:
    from typing_extensions import Buffer  # collections.abc.Buffer from Python 3.12

__all__ = ["LineDecoder", "SSEDecoder", "ServerSentEvent", "decode_text", "text_decoder"]

# Only CR, LF and CRLF end a line (str.splitlines would also split on U+2028 and friends,
# which may legally appear inside a JSON string).
_NEWLINE = re.compile(r"\r\n|\r|\n")


# UTF-16 and UTF-32 without a byte-order mark: Python's incremental decoders raise
# UnicodeError on them whatever ``errors`` says. RFC 2781 says to read such text big-endian.
_NO_BOM_FALLBACK = {"utf-16": "utf-16-be", "utf-32": "utf-32-be"}
_BOMS = {
    "utf-16": (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE),
    "utf-32": (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE),
}


class _BOMSniffer(codecs.IncrementalDecoder):
    """UTF-16/32 that honours a byte-order mark and reads big-endian without one."""

    def __init__(self, encoding: str, errors: str = "replace") -> None:
        super().__init__(errors)
        self._encoding = encoding
        self._head = b""
        self._inner: codecs.IncrementalDecoder | None = None

    def decode(self, input: Buffer, final: bool = False) -> str:
        if self._inner is None:
            self._head += bytes(input)
            if len(self._head) < 4 and not final:
                return ""
            boms = _BOMS[self._encoding]
            chosen = (
                self._encoding if self._head.startswith(boms) else _NO_BOM_FALLBACK[self._encoding]
            )
            self._inner = codecs.getincrementaldecoder(chosen)(self.errors)
            input, self._head = self._head, b""
        return self._inner.decode(input, final)

    def reset(self) -> None:
        self._head, self._inner = b"", None


def text_decoder(encoding: str) -> codecs.IncrementalDecoder:
    """An incremental decoder that never raises: bad bytes become U+FFFD, and UTF-16/32
    without a byte-order mark are read big-endian. ``encoding`` must be a known codec."""
    name = codecs.lookup(encoding).name
    if name in _NO_BOM_FALLBACK:
        return _BOMSniffer(name)
    return codecs.getincrementaldecoder(name)(errors="replace")


def decode_text(data: bytes, encoding: str) -> str:
    """``data`` decoded as :func:`text_decoder` does, in one go."""
    return text_decoder(encoding).decode(data, final=True)


class LineDecoder:
    """Splits a byte stream into text lines on ``\\n``, ``\\r\\n`` or ``\\r``.

    A line longer than ``max_line_bytes`` raises :class:`ResponseTooLargeError` rather than
    growing the buffer without bound.
    """

    def __init__(self, max_line_bytes: int = 1024 * 1024, encoding: str = "utf-8") -> None:
        self._decoder = text_decoder(encoding)
        # The unfinished line, in pieces: only new text is scanned for newlines, so a long
        # line that trickles in costs O(length), not O(length²).
        self._pending: list[str] = []
        self._pending_size = 0
        self._max = max_line_bytes
        self._cr_at_end = False

    def feed(self, chunk: bytes) -> list[str]:
        text = self._decoder.decode(chunk)
        if not text:
            return []
        if self._cr_at_end and text.startswith("\n"):
            text = text[1:]  # the second half of a CRLF split across two chunks
        self._cr_at_end = False
        if not text:
            return []
        self._cr_at_end = text.endswith("\r")
        lines = _NEWLINE.split(text)
        tail = lines.pop()  # "" when the chunk ended with a newline
        if lines:
            lines[0] = "".join([*self._pending, lines[0]])
            self._pending, self._pending_size = [], 0
        if tail:
            self._pending.append(tail)
            self._pending_size += len(tail)
        if self._pending_size > self._max:
            raise ResponseTooLargeError(f"a line exceeded {self._max} bytes")
        return lines

    def flush(self) -> list[str]:
        """The last line, if the stream ended without a newline."""
        tail = "".join(self._pending) + self._decoder.decode(b"", final=True)
        self._pending, self._pending_size = [], 0
        return [tail] if tail else []


@dataclass(slots=True)
class ServerSentEvent:
    """One dispatched event. ``event`` is ``""`` for unnamed events.

    One is made per event of every stream, so it is a plain slotted class: a frozen one
    sets each field through ``object.__setattr__`` and costs twice as much to make. Nothing
    changes an event once dispatched."""

    data: str
    event: str = ""
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Server-sent events per the WHATWG rules: fields, comments, blank-line dispatch.

    ``feed`` returns the events completed by that chunk; ``flush`` returns an event left
    undispatched at end of stream (a server that ends without the final blank line).
    Comment lines (``:`` …) are counted in :attr:`comments` and otherwise ignored.
    """

    def __init__(self, max_line_bytes: int = 1024 * 1024) -> None:
        self._lines = LineDecoder(max_line_bytes)
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None
        self._touched = False
        self.comments = 0

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        return self._process(self._lines.feed(chunk))

    def flush(self) -> list[ServerSentEvent]:
        events = self._process(self._lines.flush())
        pending = self._dispatch()
        return [*events, pending] if pending is not None else events

    def _process(self, lines: list[str]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        for line in lines:
            if not line:
                event = self._dispatch()
                if event is not None:
                    events.append(event)
                continue
            if line[0] == ":":
                self.comments += 1
                continue
            if line.startswith("data: "):  # by far the most common line: no field lookup
                self._data.append(line[6:])
                self._touched = True
                continue
            name, sep, value = line.partition(":")
            if sep and value.startswith(" "):
                value = value[1:]
            self._field(name, value)
        return events

    def _field(self, name: str, value: str) -> None:
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry":
            if value.isdigit():
                self._retry = int(value)
        else:
            return  # unknown fields are ignored, as the standard says
        self._touched = True

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._touched:
            return None
        event = ServerSentEvent("\n".join(self._data), self._event, self._id, self._retry)
        self._data = []
        self._event = ""
        self._retry = None
        self._touched = False
        return event
