"""WordPress nonces for logged-out visitors (``wp_create_nonce`` / ``wp_verify_nonce``).

A nonce is 10 hex characters of an HMAC keyed with the site secret over
``tick|action|uid|token``; guests have uid 0 and an empty session token, so one value serves
every anonymous visitor. ``tick = ceil(now / tick_seconds)``; verification accepts the current
and the previous tick. The clock can be pushed forward for tests with :meth:`NonceClock.advance`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time

#: Nonce action of the legacy chat (``data-nonce`` and ``wpaicgParams.search_nonce``).
CHAT_ACTION = "wpaicg-chatbox"
#: Nonce action of the AIPKit front-end chat (``data-config.nonce``).
AIPKIT_ACTION = "aipkit_frontend_chat_nonce"
#: Other nonces printed on real pages, which a client must not pick up.
IMG_ACTION = "wpaicg-img-nonce"
OTHER_PLUGIN_ACTION = "wpcf7-contact-form"


class NonceClock:
    """The site clock, its tick and the nonces of each tick (memoised per tick)."""

    __slots__ = ("_cache", "_key", "offset", "tick_seconds")

    def __init__(self, secret: str, tick_seconds: float) -> None:
        if tick_seconds <= 0:
            raise ValueError("tick_seconds must be positive")
        self._key = hashlib.sha256(("nonce" + secret).encode()).digest()
        self.tick_seconds = tick_seconds
        #: Seconds added to the wall clock (pushed by :meth:`advance`).
        self.offset = 0.0
        self._cache: dict[tuple[int, str], str] = {}

    def now(self) -> float:
        """The site's idea of the Unix time."""
        return time.time() + self.offset

    def tick(self) -> int:
        """``wp_nonce_tick()``."""
        return math.ceil(self.now() / self.tick_seconds)

    def advance(self, ticks: int = 1) -> None:
        """Push the clock forward by whole ticks."""
        self.offset += ticks * self.tick_seconds

    def create(self, action: str, tick: int | None = None) -> str:
        """``wp_create_nonce(action)`` for a guest, at ``tick`` (default: now)."""
        if tick is None:
            tick = self.tick()
        key = (tick, action)
        value = self._cache.get(key)
        if value is None:
            if len(self._cache) > 256:
                self._cache.clear()
            message = f"{tick}|{action}|0|".encode()
            digest = hmac.new(self._key, message, hashlib.md5).hexdigest()
            value = digest[-12:-2]
            self._cache[key] = value
        return value

    def verify(self, nonce: str | None, action: str) -> int:
        """``wp_verify_nonce``: 1 (this tick), 2 (previous tick) or 0 (invalid)."""
        # PHP's hash_equals is false for any non-hex text; Python's compare_digest raises on
        # non-ASCII str (a UTF-8 or undecodable nonce), so such a nonce is simply invalid.
        if not nonce or not nonce.isascii():
            return 0
        tick = self.tick()
        if hmac.compare_digest(nonce, self.create(action, tick)):
            return 1
        if hmac.compare_digest(nonce, self.create(action, tick - 1)):
            return 2
        return 0
