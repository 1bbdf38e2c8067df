"""The page rule in the library, for any AI Power site (routes file or Python): a page whose
chat endpoint is on another origin is refused unless the target lists that origin."""

from __future__ import annotations

import pytest

from chatbridge import AIEngine, AIPower, AnySite, ResponseError
from chatbridge._client._config import load_config
from chatbridge.site import AIEngineSiteConfig, LocalSite, SiteConfig
from tests.server.test_ssrf import page_proxy

USER = [{"role": "user", "content": "Hello"}]


async def test_an_endpoint_on_another_origin_needs_the_target_to_list_it(tmp_path: object) -> None:
    site = LocalSite(SiteConfig())
    async with site as url, page_proxy(url) as front:  # the page at front names url's endpoint
        with pytest.raises(ResponseError, match="another origin"):
            await AIPower.create_async(model="", messages=USER, site_url=front)
        assert site.stats.chat_requests == 0
        answer = await AIPower.create_async(
            model="", messages=USER, site_url=front, endpoint_origins=[url]
        )
        assert "Echo: Hello" in answer and site.stats.chat_requests == 1
        with pytest.raises(ValueError, match="endpoint_origins"):
            await AIPower.create_async(
                model="", messages=USER, site_url=front, endpoint_origins=["blog.example"]
            )


def test_the_routes_file_field(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "routes.toml"
    path.write_text(
        '[routes.default]\ntargets = [{ provider = "AIPower", site_url = "https://a.example", '
        'endpoint_origins = ["https://admin.a.example"] }]\n'
    )
    target = load_config(path).routes["default"].targets[0]
    assert target.options["endpoint_origins"] == ("https://admin.a.example",)
    path.write_text(
        '[routes.default]\ntargets = [{ provider = "AIPower", site_url = "https://a.example", '
        "endpoint_origins = [1] }]\n"
    )
    with pytest.raises(ValueError, match="endpoint_origins': wants a list of non-empty strings"):
        load_config(path)


@pytest.mark.parametrize("provider", [AIEngine, AnySite])
async def test_an_ai_engine_rest_root_on_another_origin_needs_the_target_to_list_it(
    provider: type[AIEngine | AnySite],
) -> None:
    """The nonce and the conversation's session go to the page's REST root: the same rule."""
    site = LocalSite(AIEngineSiteConfig())
    async with site as url, page_proxy(url) as front:  # the page at front names url's REST
        with pytest.raises(ResponseError, match="REST API on another origin"):
            await provider.create_async(model="", messages=USER, site_url=front)
        assert site.stats.session_starts == site.stats.chat_requests == 0
        answer = await provider.create_async(
            model="", messages=USER, site_url=front, endpoint_origins=[url]
        )
        assert "Echo: Hello" in answer and site.stats.chat_requests == 1
