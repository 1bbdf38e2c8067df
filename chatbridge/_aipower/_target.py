"""Where a chat lives: the site, the page that holds it, the bot (``bot_id`` is kept even
when the page shows another: rule 32). Shared with the AI Engine engine: ``_http._site``."""

from __future__ import annotations

from .._http._site import SiteTarget

__all__ = ["SiteTarget"]
