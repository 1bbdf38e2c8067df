"""Answer text to HTML: markdown-it-py with raw HTML off, plus the page's own rules (no
image is loaded, alignment is a class, links open in a new tab without a referrer)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatbridge.web import render_markdown


def test_markdown_renders_paragraphs_lists_and_code() -> None:
    html = render_markdown("Hi **there**\n\n- one\n- two\n\n```py\nx = 1 < 2\n```\n")
    assert "<strong>there</strong>" in html
    assert "<li>one</li>" in html and "<li>two</li>" in html
    assert '<pre><code class="language-py">x = 1 &lt; 2\n</code></pre>' in html


@pytest.mark.parametrize(
    "hostile",
    [
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        "<iframe src=//evil.example></iframe>",
        '<a href="javascript:alert(1)">x</a>',
        "<svg onload=alert(1)>",
    ],
)
def test_raw_html_is_text(hostile: str) -> None:
    html = render_markdown(f"before {hostile} after")
    assert "<" + hostile[1:] not in html
    assert hostile.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in (
        html.replace("&quot;", '"')
    )


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "vbscript:msgbox(1)", "data:text/html,x"]
)
def test_dangerous_links_are_not_links(url: str) -> None:
    html = render_markdown(f"[click]({url}) <{url}>")
    assert "<a " not in html and "href" not in html


def test_images_are_never_loaded_except_inline_data_images() -> None:
    html = render_markdown('![a "pic"](http://198.51.100.7/p.png) ![dot](data:image/png;base64,AA)')
    assert '<img src="data:image/png;base64,AA" alt="dot">' in html
    assert html.count("<img") == 1
    assert (
        '<a href="http://198.51.100.7/p.png" class="image-link" target="_blank" '
        'rel="noopener noreferrer nofollow">[image: a &quot;pic&quot;]</a>'
    ) in html


def test_links_open_apart_and_tables_use_classes() -> None:
    html = render_markdown("[ok](https://example.org)\n\n| a | b |\n|:-|-:|\n| 1 | 2 |\n")
    assert (
        '<a href="https://example.org" target="_blank" rel="noopener noreferrer nofollow">ok</a>'
        in html
    )
    assert '<th class="align-left">a</th>' in html and '<td class="align-right">2</td>' in html
    assert "style=" not in html


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>\"'&=/ :()[]!`*-\nabcjsvrpticon")), max_size=80))
def test_no_generated_text_yields_markup_outside_the_allowed_set(text: str) -> None:
    html = render_markdown(text)
    tags = {m.lower() for m in re.findall(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9]*)", html)}
    assert tags <= {"p", "a", "em", "strong", "code", "pre", "ul", "ol", "li", "br", "hr",
                    "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody",
                    "tr", "th", "td", "s", "img"}  # fmt: skip
    for href in re.findall(r'(?:href|src)="([^"]*)"', html):
        assert not href.lower().lstrip().startswith(("javascript:", "vbscript:", "data:text"))
    assert " on" not in re.sub(r">[^<]*<", "><", html)  # no event-handler attribute
