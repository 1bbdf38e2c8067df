"""A text that grows a piece at a time, kept close to its own size.

A streamed answer arrives in pieces of a few characters. Kept as they come, each piece costs
its own string object, some fifty bytes over its characters, so a long answer kept that way
holds about fifteen times its size (an 8 MiB answer, over 100 MB). :class:`TextBuffer` joins
every ``BLOCK`` pieces into one string, at the cost of one join per block, so what it holds
stays within a few percent of the text itself. (``io.StringIO`` does not do this on Python
3.11: it keeps the pieces themselves until 100,000 of them have come.)
"""

from __future__ import annotations

__all__ = ["TextBuffer"]

#: Pieces joined into one string at a time.
BLOCK = 256


class TextBuffer:
    """``append`` pieces; ``text()`` is all of them, in order; ``pieces`` counts them."""

    __slots__ = ("_blocks", "_pieces", "pieces")

    def __init__(self) -> None:
        self._blocks: list[str] = []
        self._pieces: list[str] = []
        self.pieces = 0

    def append(self, piece: str) -> None:
        pieces = self._pieces
        pieces.append(piece)
        self.pieces += 1
        if len(pieces) >= BLOCK:
            self._blocks.append("".join(pieces))
            pieces.clear()

    def text(self) -> str:
        return "".join(self._blocks) + "".join(self._pieces)
