"""Every parser of site-controlled text is linear in its input (issue 8, items 1 and 6), and
so is the chat page's rendering of an answer (issue 22, item 13).

The shapes are the review's: each made the old patterns retry from every start (×4 time per
doubling), freezing the event loop for seconds at 64 KB and for hours at the size caps. The
code shapes are ones on which Pygments lexers take time growing with the square of the
block (seconds at 64 KB): the rendering's highlighting budget must cut them off.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest

from chatbridge import ChatbridgeError, LineDecoder, SSEDecoder
from chatbridge._aiengine._page import parse_page as parse_engine_page
from chatbridge._aiengine._replies import FrameStream, whole_reply
from chatbridge._aipower._page import parse_page
from chatbridge._aipower._replies import LegacyStream, interpret_legacy_json
from chatbridge._http._decoders import ServerSentEvent
from chatbridge._http._status import classify_status
from chatbridge.web import render_markdown
from tests.fuzz._timing import assert_linear

PAGE_SHAPES = [
    "<div",
    '<div "',
    "<div '",
    "<div a='b' \"",
    "wpaicgParams = {",
    '<div class="wpaicg-chat-shortcode" data-nonce="',
    '<div data-config=\'{"nonce":"',
]


@pytest.mark.parametrize("unit", PAGE_SHAPES)
def test_page_parsing_is_linear(unit: str) -> None:
    def make(n: int) -> Callable[[], object]:
        page = unit * n
        return lambda: parse_page(page, "http://site.test/")

    assert_linear(make, 16_000)


def test_content_tail_fallback_is_linear() -> None:
    def make(n: int) -> Callable[[], object]:
        event = ServerSentEvent(data='"content":"' * n, event="message")

        def run() -> None:
            stream = LegacyStream()
            stream.feed(event)

        return run

    assert_linear(make, 16_000)


@pytest.mark.parametrize("decoder", [LineDecoder, SSEDecoder])
def test_a_long_line_trickling_in_is_linear(decoder: type[LineDecoder | SSEDecoder]) -> None:
    def make(n: int) -> Callable[[], object]:
        chunks = [b"x" * 64] * (n // 64)

        def run() -> None:
            lines = decoder(max_line_bytes=4 * 1024 * 1024)
            for chunk in chunks:
                lines.feed(chunk)
            lines.flush()

        return run

    assert_linear(make, 64 * 1024)


@pytest.mark.parametrize("unit", ['{"a":', '{"data":"', "[", '"content":"', "<br />{"])
def test_legacy_json_reading_is_linear(unit: str) -> None:
    def make(n: int) -> Callable[[], object]:
        body = unit * n

        def run() -> None:
            with contextlib.suppress(ChatbridgeError):
                interpret_legacy_json(body)

        return run

    assert_linear(make, 16_000)


@pytest.mark.parametrize("unit", ["<html", '{"message":"', " ", "error code: 1015"])
def test_error_page_classification_is_linear(unit: str) -> None:
    def make(n: int) -> Callable[[], object]:
        body = unit * n
        return lambda: classify_status(500, {}, body)

    assert_linear(make, 16_000)


ENGINE_PAGE_SHAPES = [
    "<div",
    "<div class='mwai-chatbot-container' data-system='",
    "<div class='mwai-chatbot-container' data-system='{&quot;a&quot;:",
    "&quot;",
]


@pytest.mark.parametrize("unit", ENGINE_PAGE_SHAPES)
def test_ai_engine_page_parsing_is_linear(unit: str) -> None:
    def make(n: int) -> Callable[[], object]:
        page = unit * n
        return lambda: parse_engine_page(page, "http://site.test/")

    assert_linear(make, 16_000)


@pytest.mark.parametrize("unit", ['{"type":"end","data":"', '\\"', "data: ", '{"type":"live",'])
def test_ai_engine_replies_are_read_in_linear_time(unit: str) -> None:
    def make(n: int) -> Callable[[], object]:
        body = unit * n

        def run() -> None:
            with contextlib.suppress(ChatbridgeError):
                whole_reply(body)
            with contextlib.suppress(ChatbridgeError):
                FrameStream().feed(ServerSentEvent(body))

        return run

    assert_linear(make, 64_000)  # a few ms a call: large enough to stand above the noise


MARKDOWN_SHAPES = ["a\n", "*", "**a", "[", "[a](", "`", "``a", "- ", "<", "&", "![", "_a", "|-|\n",
                   "a  \n", "```\n", "    x\n"]  # fmt: skip


@pytest.mark.parametrize("unit", MARKDOWN_SHAPES)
def test_rendering_markdown_is_linear(unit: str) -> None:
    def make(n: int) -> Callable[[], object]:
        text = unit * n
        return lambda: render_markdown(text)

    assert_linear(make, 2_000)


#: (language, unit): an unterminated HTML comment, long lines of Java and of a Makefile, and
#: a garbage mix for CSS: ×16 time or worse for ×4 code without the budget.
CODE_SHAPES = [
    ("html", "<!--\n"),
    ("java", "x" * 79 + "\n"),
    ("makefile", "x"),
    ("css", "\"'`/*{[(\\#$x1. -\n"),
]


@pytest.mark.parametrize(("language", "unit"), CODE_SHAPES)
def test_highlighting_code_is_linear(language: str, unit: str) -> None:
    def make(n: int) -> Callable[[], object]:
        text = f"```{language}\n{unit * n}\n```\n"
        return lambda: render_markdown(text)

    assert_linear(make, 16_000 // len(unit))
