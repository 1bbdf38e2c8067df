"""Where a chat lives: the site, the page that holds it, the bot (by its ``botId`` or
``customId``). An embedded bot's REST root may be on another site (its ``crossSite``
setting): ``endpoint_origins`` lists it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from .. import _wordpress

__all__ = ["SiteTarget"]


@dataclass(frozen=True, slots=True)
class SiteTarget(_wordpress.SiteTarget):
    # Worked out once: a target is looked up on every call (the registry of site clients).
    _key: str = field(init=False, repr=False, compare=False)
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        text = json.dumps(
            ["ai-engine", self.url, self.chat_page, str(self.bot_id), self.endpoint_origins]
        )
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        fields = (
            self.url,
            self.chat_page,
            self.bot_id,
            self.nonce_tick,
            self.refresh_age,
            self.endpoint_origins,
        )
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_hash", hash(fields))

    def __hash__(self) -> int:
        return self._hash

    @property
    def key(self) -> str:
        """A short, stable name for the site (its URL, chat page and bot)."""
        return self._key
