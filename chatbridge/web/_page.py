"""Serving the chat page: ``GET /`` (the page), ``GET /ui/static/{name}`` (its assets, from
package data) and ``POST /ui/render`` (answer text to HTML, same API keys as ``/v1``).

Every asset is read once, when the app is built. The page names its stylesheet and script
with their content hash (``?v=...``): such a URL may be cached for a year; any other asset
request (and the page itself) carries an ETag and ``Cache-Control: no-cache``, so a browser
revalidates it and gets a 304 while it is unchanged.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from importlib import resources

from aiohttp import web

from .. import _constants as defaults
from ._render import render_markdown

__all__ = ["OPEN_PATHS", "add_page"]

STATIC = "/ui/static/"
RENDER = "/ui/render"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
#: What the page may load: its own origin only; no inline script or style anywhere.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


def _version(asset: Asset) -> str:
    return asset.etag.strip('"')


def _asset(name: str, body: bytes) -> Asset:
    suffix = name[name.rfind(".") :]
    return Asset(body, _TYPES[suffix], '"' + hashlib.sha256(body).hexdigest()[:20] + '"')


def _load() -> tuple[Asset, dict[str, Asset]]:
    """The page (its asset URLs filled in with their hashes) and the assets by name."""
    folder = resources.files(__package__).joinpath("static")
    assets = {
        item.name: _asset(item.name, item.read_bytes())
        for item in folder.iterdir()
        if item.is_file() and item.name[item.name.rfind(".") :] in _TYPES
    }
    page = assets.pop("index.html").body.decode()
    for name, asset in assets.items():
        page = page.replace("{{" + name + "}}", f"{STATIC}{name}?v={_version(asset)}")
    return _asset("index.html", page.encode()), assets


def _names() -> frozenset[str]:
    folder = resources.files(__package__).joinpath("static")
    return frozenset(item.name for item in folder.iterdir() if item.name != "index.html")


#: Paths served without an API key: the page and its assets hold no secret and no answer
#: (the page asks for the key when ``/v1/models`` says 401).
OPEN_PATHS = frozenset({"/", *(STATIC + name for name in _names())})


def _send(request: web.Request, asset: Asset, *, immutable: bool = False) -> web.Response:
    cache = f"public, max-age={defaults.UI_ASSET_MAX_AGE}, immutable" if immutable else "no-cache"
    headers = {**SECURITY_HEADERS, "ETag": asset.etag, "Cache-Control": cache}
    if asset.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    headers["Content-Type"] = asset.content_type
    return web.Response(body=asset.body, headers=headers)


def _handlers(page: Asset, assets: dict[str, Asset]) -> list[web.RouteDef]:
    async def index(request: web.Request) -> web.Response:
        return _send(request, page)

    async def static(request: web.Request) -> web.Response:
        asset = assets.get(request.match_info["name"])
        if asset is None:
            raise web.HTTPNotFound()
        version = request.query.get("v")
        return _send(request, asset, immutable=version == _version(asset))

    return [
        web.get("/", index),
        web.get(STATIC + "{name}", static),
        web.post(RENDER, render),
    ]


async def render(request: web.Request) -> web.Response:
    """``{"text": markdown}`` → ``{"html": ...}``: untrusted text rendered with raw HTML off.
    Mistakes are answered in OpenAI's error shape, like the API the page talks to."""
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _error(400, 'the body must be JSON: {"text": "..."}')
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str):
        return _error(400, "'text' must be a string", param="text")
    if len(text) > defaults.UI_RENDER_MAX_CHARS:
        return _error(
            413,
            f"text longer than {defaults.UI_RENDER_MAX_CHARS} characters is not rendered",
            code="render_too_large",
            param="text",
        )
    # a long text is rendered off the event loop (markdown-it-py is pure Python)
    html = await asyncio.to_thread(render_markdown, text) if len(text) > 4096 else None
    html = html if html is not None else render_markdown(text)
    return web.json_response({"html": html}, headers={"X-Content-Type-Options": "nosniff"})


def _error(
    status: int, message: str, *, code: str | None = None, param: str | None = None
) -> web.Response:
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return web.json_response({"error": error}, status=status)


def add_page(app: web.Application) -> None:
    """Serve the chat page on ``app`` (``/``, ``/ui/static/...``, ``POST /ui/render``)."""
    page, assets = _load()
    app.add_routes(_handlers(page, assets))
