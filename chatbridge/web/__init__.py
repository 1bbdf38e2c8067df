"""The chat page that ``chatbridge serve`` shows at ``/`` (``--no-ui`` or ``[server] ui =
false`` turns it off).

It owns the page's files (``static/``: plain HTML, CSS and JavaScript shipped as package
data, no build step, nothing fetched from another origin), serving them with caching and
security headers (a strict Content-Security-Policy), and ``POST /ui/render``, which turns
untrusted answer text into HTML with markdown-it-py (raw HTML off), its code highlighted by
Pygments into classes the page's stylesheet colours. The page talks to the
server only through the public API (``/v1/models``, ``/v1/chat/completions``) and the
render endpoint; the server registers it with one call::

    add_page(app)
"""

from __future__ import annotations

from ._page import OPEN_PATHS, add_page
from ._render import render_markdown

__all__ = ["OPEN_PATHS", "add_page", "render_markdown"]
