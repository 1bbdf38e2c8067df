"""Counts the shared store has not got yet, so none is lost and none is counted twice.

While Redis is away, :class:`FallbackStore` counts here: counts made then are summed by
counter and field (they were never sent: nothing can have counted them); a count whose call
failed is kept whole, under its mark (its fate is unknown: Redis may have counted it before
the reply was lost). When Redis answers again, each goes back under its own mark, which Redis
remembers for what it counted (``_scripts.TALLY``), so what it had counted already is not
counted again. Marks are a writer (one per process) and a rising number; ``low`` tells Redis
which marks it may forget, those of counts never to be sent again.

A process that dies with counts owed loses them (they live in its memory only). While Redis
is away, a counter reads as its last value seen from Redis plus what is owed to it.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass

from ._interface import Counts, Mark, Tally, asked, refused

__all__ = ["Owed", "Sending"]

#: Counters whose last values seen from the shared store are kept (least recent go first).
_MAX_SEEN = 10_000


@dataclass(frozen=True, slots=True)
class Sending:
    """One count on its way back: its mark's number, the amounts and their lifetime."""

    seq: int
    counts: dict[str, dict[str, int]]
    ttl: float


class Owed:
    def __init__(self, writer: str | None = None) -> None:
        self.writer = writer or secrets.token_hex(8)
        self._seq = 0
        #: Counts sent when the store failed, by mark number: fate unknown.
        self._unknown: dict[int, Sending] = {}
        #: Counts made while the store was away (never sent), summed; and their lifetime.
        self._unsent: dict[str, dict[str, int]] = {}
        self._unsent_ttl = 0.0
        #: The sum of unsent counts being sent now, under a mark of its own.
        self._sending: Sending | None = None
        #: The last values seen from the store, by counter.
        self._seen: OrderedDict[str, dict[str, int]] = OrderedDict()

    def __bool__(self) -> bool:
        return bool(self._unknown or self._unsent or self._sending)

    def mark(self) -> Mark:
        """The mark of a count about to be sent live."""
        self._seq += 1
        return Mark(self.writer, self._seq, self._low(self._seq))

    def _low(self, seq: int) -> int:
        pending = [*self._unknown, *([self._sending.seq] if self._sending else [])]
        return min([*pending, seq])

    def seen(self, values: dict[str, dict[str, int]], whole: bool = False) -> None:
        """Values read from the store (``whole``: every field of those counters)."""
        for key, fields in values.items():
            kept = {} if whole else self._seen.get(key, {})
            self._seen[key] = {**kept, **fields}
            self._seen.move_to_end(key)
        while len(self._seen) > _MAX_SEEN:
            self._seen.popitem(last=False)

    def view(self, keys: tuple[str, ...] | list[str]) -> list[dict[str, int]]:
        """Counters as this process knows them: last seen, plus what is owed."""
        return [self._current(key) for key in keys]

    def _current(self, key: str) -> dict[str, int]:
        fields = dict(self._seen.get(key, {}))
        owed = [entry.counts for entry in self._unknown.values()]
        if self._sending is not None:
            owed.append(self._sending.counts)
        owed.append(self._unsent)
        for counts in owed:
            for name, amount in counts.get(key, {}).items():
                fields[name] = fields.get(name, 0) + amount
        return fields

    def keep(self, counts: Counts, ttl: float, limits: Counts | None) -> Tally:
        """A count made while the store is away: checked against what is known, summed."""
        current = {key: self._current(key) for key in {**counts, **(limits or {})}}
        if refused(current, counts, limits):
            return Tally(False, asked(current, counts, limits))
        _add(self._unsent, counts)
        self._unsent_ttl = max(self._unsent_ttl, ttl)
        _add(current, counts)
        return Tally(True, asked(current, counts, limits))

    def unknown(self, mark: Mark, counts: Counts, ttl: float, limits: Counts | None) -> Tally:
        """A count whose call failed: the store may have counted it, so it is kept under
        its mark and counted (a limit cannot refuse what may have been counted already)."""
        current = {key: self._current(key) for key in {**counts, **(limits or {})}}
        self._unknown[mark.seq] = Sending(mark.seq, _copy(counts), ttl)
        _add(current, counts)
        return Tally(True, asked(current, counts, limits))

    def next(self) -> Sending | None:
        """The next count to send back (the oldest of unknown fate first), or ``None``."""
        if self._unknown:
            return self._unknown[min(self._unknown)]
        if self._sending is None and self._unsent:
            self._seq += 1
            self._sending = Sending(self._seq, self._unsent, self._unsent_ttl)
            self._unsent, self._unsent_ttl = {}, 0.0
        return self._sending

    def sent_mark(self, entry: Sending) -> Mark:
        return Mark(self.writer, entry.seq, self._low(entry.seq))

    def delivered(self, entry: Sending) -> None:
        """The store has ``entry`` (counted now, or before under its mark)."""
        self._unknown.pop(entry.seq, None)
        if self._sending is entry:
            self._sending = None


def _add(into: dict[str, dict[str, int]], counts: Counts) -> None:
    for key, fields in counts.items():
        target = into.setdefault(key, {})
        for name, amount in fields.items():
            target[name] = target.get(name, 0) + amount


def _copy(counts: Counts) -> dict[str, dict[str, int]]:
    return {key: dict(fields) for key, fields in counts.items()}
