"""Seeded fault injection: which request gets which fault, and the canned fault replies."""

from __future__ import annotations

import random

from aiohttp import web

from ._config import SiteConfig
from ._pages import FATAL_ERROR_TEXT, MAINTENANCE_TEXT, cloudflare_page, die_page

#: What each fault does to a request it hits (``chatbridge site --help`` and the README).
FAULT_EFFECTS: dict[str, str] = {
    "http500": "HTTP 500, WordPress's 'There has been a critical error on this website.'",
    "cloudflare": "HTTP 403, a Cloudflare challenge page instead of the site's reply",
    "cloudflare503": "the same challenge page with HTTP 503",
    "maintenance": "HTTP 503, WordPress's maintenance page (Retry-After: 600)",
    "php_warning": "a PHP warning printed before the reply (JSON no longer parses)",
    "truncate": "the reply cut off half-way (a stream after a few events), connection closed",
    "reset": "half the reply, then the connection is reset",
    "slow": "the normal reply, after --slow-seconds",
}
#: Faults that replace the reply entirely.
REPLACING = frozenset({"http500", "cloudflare", "cloudflare503", "maintenance"})
#: Faults that damage the real reply on its way out.
DAMAGING = frozenset({"php_warning", "truncate", "reset"})

PHP_WARNING = (
    b"<br />\n<b>Warning</b>:  Undefined variable $wpaicg_client_id in "
    b"<b>/var/www/html/wp-content/plugins/gpt3-ai-content-generator/classes/wpaicg_chat.php</b> "
    b"on line <b>1377</b><br />\n"
)


class FaultPlan:
    """Decides, request by request and reproducibly, whether and how to fail."""

    def __init__(self, cfg: SiteConfig) -> None:
        self._faults = cfg.faults
        self._rate = cfg.fault_rate
        self._every = cfg.fault_every
        self._target = cfg.fault_target
        self._rng = random.Random(cfg.fault_seed)
        self._count = 0

    def pick(self, *, page: bool) -> str | None:
        """The fault for the next eligible request, or ``None``."""
        if not self._faults:
            return None
        if self._target != "all" and (self._target == "pages") != page:
            return None
        self._count += 1
        every = self._every
        hit = self._count % every == 0 if every else self._rng.random() < self._rate
        if not hit:
            return None
        if len(self._faults) == 1:
            return self._faults[0]
        return self._rng.choice(self._faults)


def replacing_reply(kind: str, *, ajax: bool, count: int) -> web.Response:
    """The reply of a fault that stands in for the site's own."""
    if kind == "http500":
        body = (
            FATAL_ERROR_TEXT.encode()
            if ajax
            else die_page("WordPress &rsaquo; Error", FATAL_ERROR_TEXT)
        )
        return web.Response(body=body, status=500, content_type="text/html", charset="UTF-8")
    if kind == "maintenance":
        return web.Response(
            body=die_page("Maintenance", MAINTENANCE_TEXT),
            status=503,
            content_type="text/html",
            charset="UTF-8",
            headers={"Retry-After": "600"},
        )
    ray = f"{0x8F00000000000000 + count:x}"
    return web.Response(
        body=cloudflare_page(ray),
        status=503 if kind == "cloudflare503" else 403,
        content_type="text/html",
        charset="UTF-8",
        headers={
            "cf-mitigated": "challenge",
            "Server": "cloudflare",
            "CF-RAY": f"{ray}-LHR",
            "Cache-Control": "private, max-age=0, no-store, no-cache, must-revalidate",
        },
    )
