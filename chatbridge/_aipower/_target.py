"""Where a chat lives: the site, the page that holds it, the bot (``bot_id`` is kept even
when the page shows another: one nonce serves every bot). Shared with the AI Engine engine:
``chatbridge._wordpress``."""

from __future__ import annotations

from .._wordpress import SiteTarget

__all__ = ["SiteTarget"]
