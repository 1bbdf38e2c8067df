"""Pure stream decoders: bytes in, lines or server-sent events out. No I/O here.

Both decoders are fed chunks exactly as the network delivers them (split anywhere, even in
the middle of a UTF-8 sequence or a CRLF) and keep what is incomplete for the next feed.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from .._exceptions import ResponseTooLargeError

__all__ = ["LineDecoder", "SSEDecoder", "ServerSentEvent"]

# Only CR, LF and CRLF end a line (str.splitlines would also split on U+2028 and friends,
# which may legally appear inside a JSON string).
_NEWLINE = re.compile(r"\r\n|\r|\n")


class LineDecoder:
    """Splits a byte stream into text lines on ``\\n``, ``\\r\\n`` or ``\\r``.

    A line longer than ``max_line_bytes`` raises :class:`ResponseTooLargeError` rather than
    growing the buffer without bound.
    """

    def __init__(self, max_line_bytes: int = 1024 * 1024, encoding: str = "utf-8") -> None:
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._pending = ""
        self._max = max_line_bytes
        self._cr_at_end = False

    def feed(self, chunk: bytes) -> list[str]:
        text = self._decoder.decode(chunk)
        if not text:
            return []
        if self._cr_at_end and text.startswith("\n"):
            text = text[1:]  # the second half of a CRLF split across two chunks
        self._cr_at_end = text.endswith("\r")
        lines = _NEWLINE.split(self._pending + text)
        self._pending = lines.pop()  # "" when the chunk ended with a newline
        if len(self._pending) > self._max:
            raise ResponseTooLargeError(f"a line exceeded {self._max} bytes")
        return lines

    def flush(self) -> list[str]:
        """The last line, if the stream ended without a newline."""
        tail = self._pending + self._decoder.decode(b"", final=True)
        self._pending = ""
        return [tail] if tail else []


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event. ``event`` is ``""`` for unnamed events."""

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
            if line.startswith(":"):
                self.comments += 1
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
        event = ServerSentEvent(
            data="\n".join(self._data), event=self._event, id=self._id, retry=self._retry
        )
        self._data = []
        self._event = ""
        self._retry = None
        self._touched = False
        return event
