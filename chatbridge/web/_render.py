"""Markdown to HTML for untrusted answer text, with markdown-it-py (no hand-written parser).

The ``js-default`` preset has raw HTML off (``<script>`` comes out as text) and validates
links (no ``javascript:``, ``vbscript:``, ``file:`` or non-image ``data:`` URLs). On top of
it, three things keep the page inside its Content-Security-Policy and its own origin:

- an image is never loaded: it becomes a link to its source (a ``data:image/...`` one, which
  the policy allows, is kept), so an answer cannot make the browser fetch another origin;
- table alignment is a class (``align-left``...), not a ``style`` attribute the policy
  would refuse;
- links open in a new tab without a referrer or an opener.

This is pure: text in, HTML out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml as _escape
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

__all__ = ["render_markdown"]

_REL = "noopener noreferrer nofollow"
_NEW_TAB = f' target="_blank" rel="{_REL}"'
_ALIGN = {f"text-align:{side}": f"align-{side}" for side in ("left", "center", "right")}


def _image(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env)
    if src.lower().startswith("data:image/"):
        return f'<img src="{_escape(src)}" alt="{_escape(alt)}">'
    label = _escape(alt or "image")
    return f'<a href="{_escape(src)}" class="image-link"{_NEW_TAB}>[image: {label}]</a>'


def _link_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    token.attrSet("target", "_blank")
    token.attrSet("rel", _REL)
    return self.renderToken(tokens, idx, options, env)


def _table_cell(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    style = token.attrGet("style")
    if style is not None:
        token.attrs.pop("style", None)
        if style in _ALIGN:
            token.attrSet("class", _ALIGN[str(style)])
    return self.renderToken(tokens, idx, options, env)


def _parser() -> MarkdownIt:
    md = MarkdownIt("js-default")
    rules: dict[str, Any] = {
        "image": _image,
        "link_open": _link_open,
        "th_open": _table_cell,
        "td_open": _table_cell,
    }
    for name, rule in rules.items():
        md.add_render_rule(name, rule)
    return md


_MD = _parser()


def render_markdown(text: str) -> str:
    """``text`` (untrusted Markdown) as HTML safe to insert into the chat page."""
    html: str = _MD.render(text)
    return html
