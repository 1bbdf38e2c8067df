"""What the server writes to its log, and only that: text a caller sent (a path, a model
name, a header) is escaped and cut before it reaches a line, and the libraries under the
server (aiohttp, asyncio) speak one line per event, without the request's bytes, its headers
or a traceback.

    escape('/v1\\nPOST /forged', 64)   -> '/v1\\\\nPOST /forged'   (one line, whatever came in)
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import TextIO

__all__ = [
    "LIBRARY_LOGGERS",
    "Every",
    "LineFormatter",
    "OneLineFormatter",
    "escape",
    "lean_records",
    "own_library_loggers",
]

#: Loggers of the libraries the server runs on; their records go through
#: :class:`OneLineFormatter` (aiohttp's own would print a malformed request's bytes).
LIBRARY_LOGGERS = ("aiohttp", "asyncio")
_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]")
_ESCAPES = {'"': '\\"', "\\": "\\\\"}


def _escape_char(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape(text: object, most: int, *, spaces: bool = False) -> str:
    """``text`` as one printable run of at most ``most`` characters of its own (then
    ``…``): every control, format or separator character, quote and backslash is escaped
    (and spaces, with ``spaces``: for a field that is not quoted), so no caller's text can
    end a log line, forge a field or hide itself."""
    value = text if isinstance(text, str) else str(text)
    cut = len(value) > most
    value = value[:most]
    if not value.isprintable() or '"' in value or "\\" in value or (spaces and " " in value):
        value = "".join(
            c
            if c.isprintable() and c not in _ESCAPES and not (spaces and c == " ")
            else _escape_char(c)
            for c in value
        )
    return value + "…" if cut else value


class LineFormatter(logging.Formatter):
    """``%(asctime)s %(message)s``, the time written as ``logging`` writes it, but its date
    and clock made once per second, not once per line (``time.strftime`` was a tenth of
    what a request's access-log line cost)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(message)s")
        self._second = -1
        self._stamp = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second = int(record.created)
        if second != self._second:
            self._second, self._stamp = second, time.strftime(
                self.default_time_format, self.converter(second)
            )
        return f"{self._stamp},{int(record.msecs):03d}"


def lean_records() -> None:
    """Records that carry no caller, thread or process (no line shows them): ``logging`` then
    walks no stack frames and asks no thread for its name on every line (the optimization
    ``logging``'s documentation names). For a server process, whose lines are its own."""
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


class OneLineFormatter(logging.Formatter):
    """A library's record as one line: the logger, the level and the message's own words,
    with no argument filled in (an argument may be a request's bytes or a header's value)
    and no traceback (only the exception's type)."""

    def format(self, record: logging.LogRecord) -> str:
        template = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
        text = _PLACEHOLDER.sub("…", template) if record.args else template
        if record.exc_info and record.exc_info[0] is not None:
            text = f"{text} ({record.exc_info[0].__name__})"
        when = self.formatTime(record)
        return f"{when} {record.name} {record.levelname.lower()}: {escape(text, 200)}"


def own_library_loggers(stream: TextIO) -> None:
    """The libraries' warnings and errors to ``stream``, one line each."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(OneLineFormatter())
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.WARNING)
        logger.propagate = False


class Every:
    """A log line at most once per ``seconds``: ``due()`` counts one event and says how
    many happened since the last line when a line is due (``None`` when it is not)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._last: float | None = None
        self._count = 0

    def due(self) -> int | None:
        self._count += 1
        now = self._clock()
        if self._last is not None and now - self._last < self.seconds:
            return None
        count, self._count, self._last = self._count, 0, now
        return count
