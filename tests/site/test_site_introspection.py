"""Introspection (``site.stats``, ``site.requests``, ``/__site__/*``), the package surface and
the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys

import aiohttp

import chatbridge.site
from chatbridge.site import LocalSite, SiteConfig
from chatbridge.site._main import add_arguments, config_from_args

from ._site_helpers import AJAX, chat, config, fetch, legacy_nonce


def test_exports() -> None:
    assert chatbridge.site.__all__ == sorted(chatbridge.site.__all__)
    assert set(chatbridge.site.__all__) == {"AIEngineSiteConfig", "LocalSite", "SiteConfig"}
    assert SiteConfig().generation == "2.2" and SiteConfig().streams()
    assert not SiteConfig(generation="1.7", stream=True).streams()


async def test_stats_and_requests(http: aiohttp.ClientSession) -> None:
    site = LocalSite(config(stream=False))
    async with site as url:
        assert url.startswith("http://127.0.0.1:") and not url.endswith("/")
        assert site.url == url
        nonce = await legacy_nonce(http, url)
        await chat(http, url, nonce, "counted")
        record = site.requests[-1]
        assert (record.method, record.path, record.action) == ("POST", AJAX, "wpaicg_chat_"
                                                                "shortcode_message")
        assert record.fields["message"] == "counted" and record.status == 200
        stats = (await fetch(http, "GET", url + "/__site__/stats")).json()
        assert stats["page_fetches"] == 1 and stats["chat_requests"] == 1
        assert stats["generation"] == "2.2"
        listed = (await fetch(http, "GET", url + "/__site__/requests")).json()
        assert listed[-1]["fields"]["message"] == "counted"
        advanced = (await fetch(http, "POST", url + "/__site__/advance?ticks=2")).json()
        assert advanced["tick"] == stats["tick"] + 2
        assert (await chat(http, url, nonce)).status == 403
        assert site.stats.nonce_failures == 1
        await fetch(http, "POST", url + "/__site__/reset")
        assert site.stats.chat_requests == 0 and site.requests == []
        site.reset_stats()
        site.advance_ticks()
        assert (await fetch(http, "GET", url + "/__site__/stats")).json()["requests"] == 0


def test_config_from_args() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    ns = parser.parse_args(["--generation", "1.8", "--stream", "--fault", "http500", "--fault",
                            "slow", "--fault-rate", "0.5", "--upgrade-after", "3",
                            "--chat-path", "/chat/", "--no-page-cache", "--port", "0"])
    cfg = config_from_args(ns)
    assert (cfg.generation, cfg.stream, cfg.faults) == ("1.8", True, ("http500", "slow"))
    assert (cfg.fault_rate, cfg.upgrade_after, cfg.chat_path) == (0.5, 3, "/chat/")
    assert config_from_args(parser.parse_args([])) == SiteConfig()


async def test_python_m_serves(http: aiohttp.ClientSession) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chatbridge.site", "--generation", "1.7", "--port", "0",
        stdout=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert line.startswith("AI Power site (generation 1.7) listening on http://127.0.0.1:")
        url = line.split()[-1]
        assert (await fetch(http, "GET", url + "/")).status == 200
    finally:
        proc.terminate()
        await proc.wait()
