"""Seeded fault injection: which request gets which fault, and the canned fault replies."""

from __future__ import annotations

import asyncio
import random
from typing import Any, Protocol

from aiohttp import web

from ._pages import FATAL_ERROR_TEXT, MAINTENANCE_TEXT, cloudflare_page, die_page
from ._stats import RecordedRequest

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


class FaultedState(Protocol):
    """What fault injection needs of a running site's state."""

    faults: FaultPlan
    stats: Any

    @property
    def cfg(self) -> Any: ...

    def count_fault(self, kind: str) -> None: ...


class FaultPlan:
    """Decides, request by request and reproducibly, whether and how to fail."""

    def __init__(self, cfg: Any) -> None:
        """``cfg``: a site's configuration (its ``faults``, ``fault_rate``, ``fault_every``,
        ``fault_target`` and ``fault_seed``)."""
        self._faults: tuple[str, ...] = tuple(cfg.faults)
        self._rate = cfg.fault_rate
        self._every = cfg.fault_every
        self._target = cfg.fault_target
        self._rng = random.Random(cfg.fault_seed)
        self._count = 0

    def pick(self, *, page: bool, kinds: frozenset[str] | None = None) -> str | None:
        """The fault for the next eligible request, or ``None``. ``kinds``: the faults that
        can happen to this request at all (an AI Engine site's ``session_down`` hits only its
        ``start_session``); ``None``: any."""
        faults = self._faults if kinds is None else [f for f in self._faults if f in kinds]
        if not faults:
            return None
        if self._target != "all" and (self._target == "pages") != page:
            return None
        self._count += 1
        every = self._every
        hit = self._count % every == 0 if every else self._rng.random() < self._rate
        if not hit:
            return None
        if len(faults) == 1:
            return faults[0]
        return self._rng.choice(faults)


#: WordPress's answer to a REST request whose PHP died (``wp_die`` in a REST context).
REST_FATAL = (
    b'{"code":"internal_server_error","message":"<p>There has been a critical error on this '
    b'website.<\\/p>","data":{"status":500},"additional_errors":[]}'
)


def replacing_reply(kind: str, *, ajax: bool, count: int, rest: bool = False) -> web.Response:
    """The reply of a fault that stands in for the site's own (``rest``: of a REST route)."""
    if kind == "http500" and rest:
        return web.Response(body=REST_FATAL, status=500, content_type="application/json")
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


async def inject_fault(
    state: FaultedState,
    record: RecordedRequest,
    *,
    page: bool,
    kinds: frozenset[str] | None = None,
    rest: bool = False,
) -> tuple[str | None, web.Response | None]:
    """Pick this request's fault (recorded); returns it and the reply that replaces the
    site's own, if the fault is of that kind (``rest``: the reply of a REST endpoint)."""
    fault = state.faults.pick(page=page, kinds=kinds)
    record.fault = fault
    if fault is None:
        return None, None
    state.count_fault(fault)
    if fault == "slow":
        await asyncio.sleep(state.cfg.slow_seconds)
        return fault, None
    if fault not in REPLACING:
        return fault, None
    replaced = replacing_reply(fault, ajax=not page, count=state.stats.faults_injected, rest=rest)
    record.status = replaced.status
    return fault, replaced


async def deliver(
    request: web.Request, resp: web.StreamResponse, fault: str | None
) -> web.StreamResponse:
    """Send a buffered reply half-way and abort the connection (the ``reset`` fault)."""
    if fault != "reset" or not isinstance(resp, web.Response) or resp.prepared:
        return resp
    body = resp.body if isinstance(resp.body, bytes) else b""
    partial = web.StreamResponse(status=resp.status, headers=resp.headers)
    partial.content_length = len(body)
    await partial.prepare(request)
    await partial.write(body[: len(body) // 2])
    if request.transport is not None:
        request.transport.abort()
    return partial
