"""Where a chat lives: the site, the page that holds it, the bot."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from .._constants import NONCE_REFRESH_AGE, WORDPRESS_TICK

__all__ = ["SiteTarget"]


@dataclass(frozen=True, slots=True)
class SiteTarget:
    """``chat_page`` is a path or URL of the page holding the chat (default: the home page);
    ``bot_id`` picks one bot by its ``botId`` or ``customId``. The page's REST root must be on
    the page's own origin, or on one of ``endpoint_origins`` (a bot embedded from another
    site: its ``crossSite`` setting)."""

    url: str
    chat_page: str | None = None
    bot_id: int | str | None = None
    #: WordPress nonce half-life the site uses (seconds); a nonce is fetched again once two
    #: tick boundaries have passed since the fetch, or after ``refresh_age`` seconds.
    nonce_tick: float = WORDPRESS_TICK
    refresh_age: float = NONCE_REFRESH_AGE
    #: Origins besides the page's own that the page may name as its REST root
    #: (``"https://admin.example"``; ``"*"``: any). None by default.
    endpoint_origins: tuple[str, ...] = ()

    @property
    def base(self) -> str:
        return self.url.rstrip("/") + "/"

    @property
    def key(self) -> str:
        """A short, stable name for the site (its URL, chat page and bot)."""
        text = json.dumps(
            ["ai-engine", self.url, self.chat_page, str(self.bot_id), self.endpoint_origins]
        )
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
