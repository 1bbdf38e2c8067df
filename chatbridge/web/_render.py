"""Markdown to HTML for untrusted answer text, with markdown-it-py (no hand-written parser).

The ``js-default`` preset has raw HTML off (``<script>`` comes out as text) and validates
links (no ``javascript:``, ``vbscript:``, ``file:`` or non-image ``data:`` URLs). A single
line break is a line break (``breaks``), as a chat user expects and the CLI shows it. Fenced
code in a common language is highlighted with Pygments (see ``_highlight``) for at most
``UI_HIGHLIGHT_SECONDS`` of CPU per rendering (later code is plain), so the cost of a rendering
stays linear in its length. Three more things keep the page inside its
Content-Security-Policy and its own origin:

- an image is never loaded: it becomes a link to its source (a ``data:image/...`` one, which
  the policy allows, is kept), so an answer cannot make the browser fetch another origin;
- table alignment is a class (``align-left``...), not a ``style`` attribute the policy
  would refuse;
- links open in a new tab without a referrer or an opener.

This is pure: text in, HTML out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml as _escape
from markdown_it.common.utils import unescapeAll
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from .. import _constants as defaults
from ._highlight import HighlightBudget

__all__ = ["render_markdown"]

_REL = "noopener noreferrer nofollow"
_NEW_TAB = f' target="_blank" rel="{_REL}"'
_ALIGN = {f"text-align:{side}": f"align-{side}" for side in ("left", "center", "right")}
#: The ``env`` key of a rendering's highlighting budget.
_BUDGET = "chatbridge_highlight"


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


def _fence(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """A fenced block: highlighted while the rendering's time lasts, else markdown-it's."""
    token = tokens[idx]
    info = unescapeAll(token.info).strip()
    language = info.split(maxsplit=1)[0] if info else ""
    budget: HighlightBudget = env[_BUDGET]
    html = budget.highlight(token.content, language) if language else None
    if html is None:
        return self.fence(tokens, idx, options, env)
    return f'<pre><code class="language-{_escape(language)}">{html}</code></pre>\n'


def _parser() -> MarkdownIt:
    md = MarkdownIt("js-default", {"breaks": True})
    rules: dict[str, Any] = {
        "fence": _fence,
        "image": _image,
        "link_open": _link_open,
        "th_open": _table_cell,
        "td_open": _table_cell,
    }
    for name, rule in rules.items():
        md.add_render_rule(name, rule)
    return md


_MD = _parser()


def render_markdown(text: str, *, clock: Callable[[], float] = time.thread_time) -> str:
    """``text`` (untrusted Markdown) as HTML safe to insert into the chat page. ``clock``
    times the highlighting (``UI_HIGHLIGHT_SECONDS`` of this thread's CPU per call)."""
    budget = HighlightBudget(defaults.UI_HIGHLIGHT_SECONDS, clock)
    html: str = _MD.render(text, {_BUDGET: budget})
    return html
