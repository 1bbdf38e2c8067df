"""Answer text to HTML: markdown-it-py with raw HTML off, plus the page's own rules (no
image is loaded, alignment is a class, links open in a new tab without a referrer, a line
break is a line break, code is highlighted with classes within a time budget)."""

from __future__ import annotations

import html as htmllib
import itertools
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chatbridge.web import render_markdown
from chatbridge.web._highlight import HighlightBudget


def test_markdown_renders_paragraphs_lists_and_code() -> None:
    html = render_markdown("Hi **there**\n\n- one\n- two\n\n```py\nx = 1 < 2\n```\n")
    assert "<strong>there</strong>" in html
    assert "<li>one</li>" in html and "<li>two</li>" in html
    assert (
        '<pre><code class="language-py"><span class="tok-n">x</span> '
        '<span class="tok-o">=</span> <span class="tok-mi">1</span> '
        '<span class="tok-o">&lt;</span> <span class="tok-mi">2</span>\n</code></pre>'
    ) in html


def test_a_single_line_break_is_a_line_break() -> None:
    assert render_markdown("line one\nline two") == "<p>line one<br>\nline two</p>\n"


def _text(html: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]*>", "", html))


def test_code_in_an_unknown_language_or_none_is_plain_and_labelled() -> None:
    html = render_markdown("```zzz\na < b\n```\n\n```\nc\n```\n\n    indented\n")
    assert '<pre><code class="language-zzz">a &lt; b\n</code></pre>' in html
    assert "<pre><code>c\n</code></pre>" in html and "<pre><code>indented\n</code></pre>" in html


def test_a_hostile_language_name_stays_text() -> None:
    html = render_markdown('```"><script>alert(1)</script>\nx\n```\n')
    assert "<script" not in html
    assert 'class="language-&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["python", "js", "html", "c", "bash", "json", "yaml", "diff", "sql"]),
    st.text(alphabet=st.sampled_from(list("<>\"'&=/ :()[]{}!`*#-;\\\n\tabcdefx019$@%")),
            max_size=120),
)  # fmt: skip
def test_highlighting_keeps_the_text_and_uses_classes_only(language: str, code: str) -> None:
    # A line of three or more backticks (up to 3 spaces in) closes the fence: the block would
    # end there, as Markdown says, so such text is not one code block's.
    assume(not re.search(r"^ {0,3}`{3,}[ \t]*$", code, re.MULTILINE))
    html = render_markdown(f"```{language}\n{code}\n```\n", clock=lambda: 0.0)
    body = re.fullmatch(rf'<pre><code class="language-{language}">(.*)</code></pre>\n', html, re.S)
    assert body is not None, html
    assert _text(body.group(1)) == code + "\n"  # exactly the text sent: Copy copies it
    tags = re.findall(r"<[^>]*>", body.group(1))
    classes = r"tok-[\w-]+(?: tok-[\w-]+)*"  # a token type without a short name: its path
    assert all(re.fullmatch(rf'<span class="{classes}">|</span>', tag) for tag in tags), tags


CODE = "```python\ndef f():\n    return 1\n```\n\n```js\nlet x = 2;\n```\n"


def test_a_rendering_highlights_within_its_time_budget() -> None:
    frozen = render_markdown(CODE, clock=lambda: 0.0)
    assert frozen.count('<span class="tok-k') == 3  # def, return, let
    ticks = itertools.count()
    late = render_markdown(CODE, clock=lambda: float(next(ticks)))  # a second per look
    assert "<span" not in late
    assert _text(late) == _text(frozen)  # the same text, plain


def test_the_budget_is_shared_by_the_blocks_of_a_rendering() -> None:
    ticks = itertools.count()
    budget = HighlightBudget(0.05, clock=lambda: next(ticks) * 0.001)  # a millisecond per look
    assert budget.highlight("x = 1\n", "python") is not None
    assert 0 < budget.seconds < 0.05
    budget.seconds = 0.0
    assert budget.highlight("x = 1\n", "python") is None


@pytest.mark.parametrize(
    ("language", "cut"),
    [
        ("python", "x = 1  # a comment"),
        ("python", 'x = """open'),
        ("c", "int x; /* open"),
        ("html", "<p>a</p><!-- open"),
        ("yaml", "key: value"),
        ("bash", "echo $HOME"),
    ],
)
def test_a_block_still_streaming_in_is_highlighted_as_it_stands(language: str, cut: str) -> None:
    html = render_markdown(f"```{language}\n{cut}", clock=lambda: 0.0)  # no closing fence
    body = re.fullmatch(rf'<pre><code class="language-{language}">(.*)</code></pre>\n', html, re.S)
    assert body is not None and "<span" in body.group(1), html
    assert _text(body.group(1)) == cut  # no newline added


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
                    "tr", "th", "td", "s", "img", "span"}  # fmt: skip
    for href in re.findall(r'(?:href|src)="([^"]*)"', html):
        assert not href.lower().lstrip().startswith(("javascript:", "vbscript:", "data:text"))
    assert " on" not in re.sub(r">[^<]*<", "><", html)  # no event-handler attribute
