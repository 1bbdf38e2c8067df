"""The page over HTTP: its security and caching headers, the open paths under API keys,
``POST /ui/render`` and switching the page off (``[server] ui = false`` / ``--no-ui``)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from chatbridge import _constants as defaults
from chatbridge.server import ServerSettings, parse_settings
from chatbridge.web import OPEN_PATHS
from tests.server.conftest import CLI, ENV, ServeApp

ROUTES = {"default": [{"provider": "AIPower", "site_url": "http://127.0.0.1:9"}]}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; font-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'"
)


async def test_page_headers_and_hashed_asset_urls(serve_app: ServeApp) -> None:
    async with serve_app(ROUTES) as url, aiohttp.ClientSession() as session:
        async with session.get(url + "/") as page:
            assert page.status == 200 and page.content_type == "text/html"
            assert page.headers["Content-Security-Policy"] == CSP
            assert page.headers["X-Content-Type-Options"] == "nosniff"
            assert page.headers["Referrer-Policy"] == "no-referrer"
            assert page.headers["Cache-Control"] == "no-cache"
            etag = page.headers["ETag"]
            html = await page.text()
        assert "<script>" not in html and "style=" not in html and "http" not in html.lower()
        assets = re.findall(r'(?:src|href)="(/ui/static/[^"?]+)\?v=([0-9a-f]+)"', html)
        assert {path for path, _ in assets} == {
            "/ui/static/app.js", "/ui/static/style.css", "/ui/static/icon.svg"
        }  # fmt: skip
        async with session.get(url + "/", headers={"If-None-Match": etag}) as again:
            assert again.status == 304 and await again.read() == b""
        for path, version in assets:
            async with session.get(f"{url}{path}?v={version}") as asset:
                assert asset.status == 200
                assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
                assert asset.headers["X-Content-Type-Options"] == "nosniff"
                assert asset.headers["ETag"] == f'"{version}"'
            async with session.get(f"{url}{path}?v=old") as stale:
                assert stale.headers["Cache-Control"] == "no-cache"
        async with session.get(url + "/ui/static/api.js") as module:
            assert module.content_type == "text/javascript"
            assert "fetch(" in await module.text()
        async with session.get(url + "/ui/static/../_page.py") as escape:
            assert escape.status == 404


async def test_the_page_is_open_but_render_needs_the_key(serve_app: ServeApp) -> None:
    async with serve_app(ROUTES, api_keys=("sk-1",)) as url, aiohttp.ClientSession() as session:
        for path in sorted(OPEN_PATHS):
            async with session.get(url + path) as response:
                assert response.status == 200, path
        async with session.get(url + "/v1/models") as models:
            assert models.status == 401
        body = {"text": "*hi*"}
        async with session.post(url + "/ui/render", json=body) as denied:
            assert denied.status == 401
            assert (await denied.json())["error"]["code"] == "invalid_api_key"
        auth = {"Authorization": "Bearer sk-1"}
        async with session.post(url + "/ui/render", json=body, headers=auth) as rendered:
            assert rendered.status == 200
            assert await rendered.json() == {"html": "<p><em>hi</em></p>\n"}


async def test_render_refuses_bad_and_oversized_input(serve_app: ServeApp) -> None:
    async with serve_app(ROUTES) as url, aiohttp.ClientSession() as session:
        async with session.post(url + "/ui/render", data=b"not json") as bad:
            assert bad.status == 400
        async with session.post(url + "/ui/render", json={"text": 3}) as wrong:
            assert wrong.status == 400 and (await wrong.json())["error"]["param"] == "text"
        async with session.post(url + "/ui/render", json={"text": "x" * 200_001}) as big:
            assert big.status == 413
            assert (await big.json())["error"]["code"] == "render_too_large"
        long_text = "word " * 20_000  # rendered off the event loop
        async with session.post(url + "/ui/render", json={"text": long_text}) as ok:
            assert ok.status == 200 and (await ok.json())["html"].startswith("<p>word word")
        async with session.get(url + "/ui/render") as method:
            assert method.status == 405


async def test_the_page_can_be_switched_off(serve_app: ServeApp) -> None:
    assert parse_settings({"ui": False}).ui is False
    assert ServerSettings().ui is True
    async with serve_app(ROUTES, ui=False) as url, aiohttp.ClientSession() as session:
        for path in ("/", "/ui/static/app.js"):
            async with session.get(url + path) as response:
                assert response.status == 404
                assert (await response.json())["error"]["code"] == "unknown_url"
        async with session.post(url + "/ui/render", json={"text": "x"}) as render:
            assert render.status == 404


def test_serve_help_names_the_switch() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "chatbridge", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--no-ui" in out and "chat page" in out


def test_the_readme_shows_the_page() -> None:
    root = Path(__file__).parents[2]
    picture = root / "docs" / "chat-page.png"
    data = picture.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) < 200_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1000, 700)
    readme = (root / "README.md").read_text()
    assert "](docs/chat-page.png)" in readme
    budget = round(defaults.UI_HIGHLIGHT_SECONDS * 1000)
    assert f"at most {budget} ms of CPU per rendering" in " ".join(readme.split())  # as set


def test_serve_no_ui_serves_the_api_only() -> None:
    process = subprocess.Popen(
        [*CLI, "serve", "--port", "0", "--no-ui"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=ENV,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[-1]
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
        with pytest.raises(urllib.error.HTTPError) as missing:
            direct.open(url + "/", timeout=10)
        missing.value.close()  # the error holds the response open
        assert missing.value.code == 404
        with direct.open(url + "/v1/models", timeout=10) as models:
            assert [m["id"] for m in json.load(models)["data"]] == ["default"]
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=15)
    assert process.returncode == 0 and "Chat page" not in out
