"""TextBuffer: every piece, in order, whatever the count (across the joins of blocks)."""

from __future__ import annotations

import pytest

from chatbridge._text import BLOCK, TextBuffer


@pytest.mark.parametrize("count", [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 7])
def test_the_text_is_every_piece_in_order(count: int) -> None:
    pieces = [f"{n}é " for n in range(count)]
    buffer = TextBuffer()
    for piece in pieces:
        buffer.append(piece)
    assert buffer.text() == "".join(pieces) and buffer.pieces == count
