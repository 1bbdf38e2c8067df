"""Where a chat lives: the site, the page that holds it, the bot (by its ``botId`` or
``customId``). An embedded bot's REST root may be on another site (its ``crossSite``
setting): ``endpoint_origins`` lists it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from .. import _wordpress

__all__ = ["SiteTarget"]


@dataclass(frozen=True, slots=True)
class SiteTarget(_wordpress.SiteTarget):
    @property
    def key(self) -> str:
        """A short, stable name for the site (its URL, chat page and bot)."""
        text = json.dumps(
            ["ai-engine", self.url, self.chat_page, str(self.bot_id), self.endpoint_origins]
        )
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
