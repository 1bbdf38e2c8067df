"""Site behaviours the local site does not produce, served by small aiohttp apps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web

from chatbridge import (
    AIPower,
    BlockedError,
    EmptyResponseError,
    ResponseError,
    TruncatedStreamError,
)
from chatbridge._aipower._replies import CacheKeyExpired
from tests.conftest import serve_app
from tests.providers.conftest import SiteFactory, user

PAGE = (
    '<html><body><div class="wpaicg-chat-shortcode" data-nonce="0123456789" '
    'data-post-id="5" data-bot-id="0" data-type="shortcode" data-openai_stream_nav="0">'
    "</div></body></html>"
)


def legacy_app(ajax: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.Application:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_post("/wp-admin/admin-ajax.php", ajax)
    app.router.add_get("/{tail:.*}", page)
    return app


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ('{"status":"success","data":"  "}', EmptyResponseError),
        ("", EmptyResponseError),
        ("<html><body>Cached by an optimisation plugin</body></html>", ResponseError),
        ('{"status":"success","msg":"Something went wrong","data":"Hel', TruncatedStreamError),
    ],
)
async def test_empty_cut_or_non_json_answer_is_never_asked_twice(
    body: str, error: type[Exception]
) -> None:
    """The site may have run (and charged for) the model before it sent any of these, so the
    message is sent once: a typed public error, never the old retry (issue 8, item 3)."""
    posts: list[str] = []

    async def ajax(request: web.Request) -> web.Response:
        posts.append((await request.post())["message"])  # type: ignore[arg-type]
        return web.Response(text=body, content_type="text/html")

    async with serve_app(legacy_app(ajax)) as url:
        with pytest.raises(error) as caught:
            await AIPower.create_async("", [user("hi")], site_url=url)
    assert type(caught.value).__module__ == "chatbridge._exceptions"  # public, not a signal
    assert posts == ["hi"]


async def login_page(request: web.Request) -> web.Response:
    return web.Response(text="<html>Log In</html>", content_type="text/html")


async def test_login_wall_redirect_is_blocked() -> None:
    async def ajax(request: web.Request) -> web.Response:
        raise web.HTTPFound("/wp-login.php?redirect_to=%2Fwp-admin%2Fadmin-ajax.php")

    app = legacy_app(ajax)
    app.router.add_get("/wp-login.php", login_page)
    async with serve_app(app) as url:
        with pytest.raises(BlockedError, match="login"):
            await AIPower.create_async("", [user("hi")], site_url=url)


async def test_expired_aipkit_cache_key_redoes_the_cache_step_once(
    local_site: SiteFactory,
) -> None:
    site, url = await local_site(generation="aipkit", aipkit_cache_ttl=0.0)
    with pytest.raises(ResponseError, match=r"expired|not found") as caught:
        await AIPower.create_async("", [user("hi")], site_url=url)
    assert not isinstance(caught.value, CacheKeyExpired)  # the private signal stays inside
    assert site.stats.aipkit_cache_requests == 2


async def test_thread_id_from_an_assistant_reply_is_sent_back() -> None:
    forms: list[dict[str, str]] = []

    async def ajax(request: web.Request) -> web.Response:
        forms.append({k: str(v) for k, v in (await request.post()).items()})
        return web.json_response({"status": "success", "data": "ok", "thread_id": "thread_abc"})

    async with serve_app(legacy_app(ajax)) as url:
        messages = [user("first")]
        answer = await AIPower.create_async("", messages, site_url=url)
        messages += [{"role": "assistant", "content": answer}, user("second")]
        await AIPower.create_async("", messages, site_url=url)
    assert "thread_id" not in forms[0]
    assert forms[1]["thread_id"] == "thread_abc"
