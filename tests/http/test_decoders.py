"""The pure decoders, fed bytes split at every possible point."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatbridge import LineDecoder, ResponseTooLargeError, ServerSentEvent, SSEDecoder

STREAM = (
    ": padding comment\n"
    "event: message_start\n"
    'data: {"message_id":"m1"}\n'
    "\n"
    'data: {"delta":"Hé"}\r\n'
    "\r\n"
    "data: line one\n"
    "data: line two\n"
    "id: 7\n"
    "retry: 1500\n"
    "\n"
    "event: done\n"
    "data: {\"finished\":true}\n"
    "\n"
).encode()

EXPECTED = [
    ServerSentEvent(data='{"message_id":"m1"}', event="message_start"),
    ServerSentEvent(data='{"delta":"Hé"}'),
    ServerSentEvent(data="line one\nline two", id="7", retry=1500),
    ServerSentEvent(data='{"finished":true}', event="done", id="7"),
]


def decode_in_pieces(data: bytes, cuts: list[int]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    previous = 0
    for cut in sorted(cuts):
        events += decoder.feed(data[previous:cut])
        previous = cut
    events += decoder.feed(data[previous:])
    return events + decoder.flush()


def test_sse_whole() -> None:
    assert decode_in_pieces(STREAM, []) == EXPECTED


def test_sse_every_single_split_point() -> None:
    for cut in range(len(STREAM) + 1):
        assert decode_in_pieces(STREAM, [cut]) == EXPECTED, cut


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_sse_any_splits(cuts: list[int]) -> None:
    assert decode_in_pieces(STREAM, cuts) == EXPECTED


def test_comment_counted_and_unterminated_event_flushed() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b":" + b" " * 4096 + b"\n") == []
    assert decoder.comments == 1
    assert decoder.feed(b"data: [DONE]") == []
    assert decoder.flush() == [ServerSentEvent(data="[DONE]")]


def test_unicode_line_separator_inside_data_is_not_a_newline() -> None:
    decoder = SSEDecoder()
    events = decoder.feed('data: a\u2028b\n\n'.encode())
    assert events == [ServerSentEvent(data="a\u2028b")]


def test_line_decoder_caps_line_length() -> None:
    decoder = LineDecoder(max_line_bytes=10)
    with pytest.raises(ResponseTooLargeError):
        decoder.feed(b"x" * 11)


@given(st.binary(max_size=300))
def test_decoders_never_crash_on_garbage(data: bytes) -> None:
    decoder = SSEDecoder()
    decoder.feed(data)
    decoder.flush()


@given(st.dictionaries(st.text(max_size=12), st.text(max_size=40), max_size=8))
def test_form_encoding_matches_urlencode(fields: dict[str, str]) -> None:
    from urllib.parse import urlencode

    from chatbridge._http._forms import encode_form

    assert encode_form(fields) == urlencode(fields).encode()


def test_a_form_with_a_value_that_is_not_a_string_is_left_to_aiohttp() -> None:
    from chatbridge._http._forms import encode_form

    assert encode_form({"message": "hi", "post_id": 7}) is None
    assert encode_form({b"raw": "x"}) is None
    assert encode_form({"message": "a b&c"}) == b"message=a+b%26c"
