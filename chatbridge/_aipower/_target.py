"""Where a chat lives: the site, the page that holds it, the bot."""

from __future__ import annotations

from dataclasses import dataclass

from .._constants import NONCE_REFRESH_AGE, WORDPRESS_TICK

__all__ = ["SiteTarget"]


@dataclass(frozen=True, slots=True)
class SiteTarget:
    """``chat_page`` is a path or URL of the page holding the chat (default: the home page);
    ``bot_id`` picks one bot (and is kept even when the page shows another: rule 32). The
    page's chat endpoint must be on the page's own origin, or on one of
    ``endpoint_origins``."""

    url: str
    chat_page: str | None = None
    bot_id: int | str | None = None
    #: WordPress nonce half-life the site uses (seconds); tokens are refreshed once two
    #: tick boundaries have passed since the fetch, or after ``refresh_age`` seconds.
    nonce_tick: float = WORDPRESS_TICK
    refresh_age: float = NONCE_REFRESH_AGE
    #: Origins besides the page's own that the page may name as its chat endpoint
    #: (``"https://admin.example"``; ``"*"``: any). None by default.
    endpoint_origins: tuple[str, ...] = ()

    @property
    def base(self) -> str:
        return self.url.rstrip("/") + "/"
