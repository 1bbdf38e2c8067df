"""``chatbridge check``: live probes of working and broken sites."""

from __future__ import annotations

import json

import aiohttp
import pytest

from chatbridge.site import AIEngineSiteConfig, LocalSite, SiteConfig
from tests.conftest import free_port

from .conftest import run_cli


async def test_check_passes_on_a_working_site(site_url: str) -> None:
    result = await run_cli("check", "--url", site_url)

    assert result.code == 0, result.out + result.err
    row = next(line for line in result.out.splitlines() if line.startswith("AIPower"))
    assert row.split()[:9] == [
        "AIPower", site_url, "yes", "AI", "Power", "legacy", "1.9.4–2.2", "yes", "yes"
    ]
    assert row.split()[-1] == "ms"
    assert "1 of 1 sites answered" in result.out


async def test_check_json_reports_each_site(site_url: str) -> None:
    async with (
        LocalSite(SiteConfig(generation="aipkit")) as aipkit_url,
        LocalSite(AIEngineSiteConfig(generation="3.6")) as g3_url,
        LocalSite(AIEngineSiteConfig(generation="2.4", permalinks="plain")) as g2_url,
    ):
        urls = (site_url, aipkit_url, g3_url, g2_url)
        result = await run_cli("check", *(f"--url={url}" for url in urls), "--json")

    assert result.code == 0, result.out + result.err
    legacy, aipkit, g3, g2 = json.loads(result.out)
    # The plugin and its generation, as narrowly as the page shows it (issue 22 item 10:
    # a 2.2 site is not "legacy 1.8+").
    assert [(p["site"], p["provider"], p["plugin"], p["generation"]) for p in json.loads(
        result.out
    )] == [
        (site_url, "AIPower", "AI Power", "legacy 1.9.4–2.2"),
        (aipkit_url, "AIPower", "AI Power", "aipkit 2.3+"),
        (g3_url, "AIEngine", "AI Engine", "G3 3.5.2+"),
        (g2_url, "AIEngine", "AI Engine", "G2 1.6.76–2.4.3"),
    ]
    assert legacy["streaming"] is True and g3["streaming"] is True
    for probe in (legacy, aipkit, g3, g2):
        assert probe["reachable"] and probe["answered"]
        assert probe["nonce_accepted"] is True and probe["nonce_refreshed"] is False
        assert probe["latency_ms"] > 0 and probe["error"] is None


async def test_check_sees_a_json_only_site_as_not_streaming() -> None:
    async with LocalSite(SiteConfig(generation="1.8", stream=False)) as url:
        result = await run_cli("check", "--url", url, "--json")

    assert result.code == 0, result.err
    [probe] = json.loads(result.out)
    assert probe["streaming"] is False and probe["answered"] is True


async def test_check_reports_a_nonce_accepted_after_a_refresh() -> None:
    # A page cache serves the first rendered page, and its nonce, until the URL has a query
    # string; two ticks later that nonce is dead, so the probe must refresh past the cache.
    local = LocalSite(SiteConfig(page_cache=True))
    async with local as url, aiohttp.ClientSession() as session:
        async with session.get(f"{url}/") as page:  # the cache now holds this nonce
            assert page.status == 200
        local.advance_ticks(2)
        result = await run_cli("check", "--url", url, "--json")
        table = await run_cli("check", "--url", url)

    assert result.code == 0, result.out + result.err
    [probe] = json.loads(result.out)
    assert (probe["nonce_accepted"], probe["nonce_refreshed"]) == (True, True)
    row = next(line for line in table.out.splitlines() if line.startswith("AIPower"))
    assert "after refresh" in row


async def test_check_reports_a_nonce_refused_even_after_a_refresh(expired_nonce_url: str) -> None:
    result = await run_cli("check", "--url", expired_nonce_url, "--json")

    assert result.code == 1
    [probe] = json.loads(result.out)
    assert (probe["nonce_accepted"], probe["nonce_refreshed"]) == (False, True)
    assert probe["exit_code"] == 8 and probe["answered"] is False


async def test_check_fails_on_a_broken_site(site_url: str) -> None:
    broken = SiteConfig(faults=("http500",), fault_target="chat")
    async with LocalSite(broken) as broken_url:
        result = await run_cli("check", "--url", site_url, "--url", broken_url)

    assert result.code == 1
    failed = [line for line in result.out.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1
    assert broken_url in failed[0] and "HTTP 500" in failed[0]
    assert "1 of 2 sites answered" in result.out


async def test_a_slow_site_in_check_names_the_timeout_option() -> None:
    async with LocalSite(SiteConfig(faults=("slow",), slow_seconds=4)) as slow_url:
        result = await run_cli("check", "--url", slow_url, "--timeout", "1", "--json")

    assert result.code == 1
    (probe,) = json.loads(result.out)
    assert probe["error"].endswith("; to wait longer, give --timeout SECONDS")
    assert "1.0 s" in probe["error"] and probe["exit_code"] == 5


async def test_check_reports_why_each_site_failed(plain_url: str) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    async with LocalSite(SiteConfig(faults=("cloudflare",), fault_target="all")) as challenged:
        result = await run_cli(
            "check",
            "--url",
            plain_url,
            "--url",
            challenged,
            "--url",
            closed,
            "--json",
        )

    assert result.code == 1
    probes = {probe["site"]: probe for probe in json.loads(result.out)}
    assert probes[plain_url]["exit_code"] == 6 and probes[plain_url]["reachable"] is True
    assert probes[challenged]["exit_code"] == 7
    assert probes[closed]["exit_code"] == 5
    assert probes[closed]["reachable"] is False
    assert not any(probe["answered"] for probe in probes.values())


async def test_check_refuses_a_malformed_url_before_probing() -> None:
    result = await run_cli("check", "--url", "not a url")

    assert result.code == 2
    assert result.out == ""
    assert len(result.err_lines) == 1 and "--url 'not a url'" in result.err


def test_check_without_targets_probes_what_can_work(monkeypatch: pytest.MonkeyPatch) -> None:
    # In-process and offline: only which targets would be probed, not the probing itself.
    from chatbridge import ChatGptt
    from chatbridge._cli._check_cmd import _targets, default_targets
    from chatbridge._cli._main import build_parser

    assert default_targets() == []  # no working provider has a site of its own today
    monkeypatch.setattr(ChatGptt, "working", True)  # as if its site came back
    args = build_parser().parse_args(["check"])
    assert [(t.name, t.url) for t in _targets(args)] == [("ChatGptt", "https://chatgptt.me")]
    named = _targets(build_parser().parse_args(["check", "chatgpt4o", "--url", "http://a.test/"]))
    assert [(t.name, t.url) for t in named] == [
        ("Chatgpt4o", "https://chatgpt4o.one"),
        ("AnySite", "http://a.test"),  # its plugin is found from its page when probed
    ]


async def test_check_with_nothing_that_can_work_says_how_to_check_a_site() -> None:
    result = await run_cli("check")

    assert result.code == 2, result.out + result.err
    assert result.out == ""  # nothing was probed: no dead seed sites
    [line] = result.err_lines
    assert line.startswith("chatbridge: error: nothing to check")
    assert "chatbridge check --url" in line


async def test_check_of_a_provider_without_a_site_asks_for_url() -> None:
    result = await run_cli("check", "AIPower", "--json")

    assert result.code == 2
    [line] = result.err_lines
    assert "AIPower has no site of its own" in line and "--url" in line
    assert "site_url" not in line  # library advice is no use on a command line
    assert json.loads(result.out)["exit_code"] == 2  # no probe row claims it was reached


async def test_check_json_says_the_nonce_passed_when_the_sites_ai_backend_failed() -> None:
    # The site's AI backend answered 429: the plugin got past the nonce check to ask it.
    config = SiteConfig(upstream_error="Rate limit reached for gpt-4o-mini (429)")
    async with LocalSite(config) as url:
        result = await run_cli("check", "--url", url, "--json")

    assert result.code == 1
    [probe] = json.loads(result.out)
    assert (probe["reachable"], probe["answered"], probe["exit_code"]) == (True, False, 10)
    assert probe["nonce_accepted"] is True


@pytest.mark.parametrize(
    ("config", "accepted", "code"),
    [
        (SiteConfig(generation="aipkit", upstream_error="Rate limit reached (429)"), True, 10),
        (SiteConfig(generation="1.8", upstream_error="Rate limit reached (429)"), True, 10),
        (SiteConfig(guest_token_limit=-1), True, 9),  # the plugin's own token limit
        (SiteConfig(banned_ips=("127.0.0.1",)), True, 7),  # a ban, checked after the nonce
        (SiteConfig(faults=("cloudflare",)), None, 7),  # a challenge in front of the plugin
        (SiteConfig(faults=("http500",)), None, 10),  # PHP died: before or after, unknown
        (SiteConfig(generation="1.7", misconfigured=True), None, 10),  # 1.7: key before nonce
    ],
)
async def test_check_reports_what_a_failed_chat_said_about_the_nonce(
    config: SiteConfig, accepted: bool | None, code: int
) -> None:
    from chatbridge import AIPower
    from chatbridge._cli._options import Destination
    from chatbridge._cli._probe import probe_site

    async with LocalSite(config) as url:
        probe = await probe_site(Destination(AIPower, url, "site-default"), None, 30.0)

    assert probe.reachable is True and probe.answered is False
    assert probe.exit_code == code, probe
    assert probe.nonce_accepted is accepted, probe


async def test_check_reads_streaming_from_the_reply_not_the_page_hint() -> None:
    # The widget template prints data-openai_stream_nav="0" while the server streams.
    async with LocalSite(SiteConfig(generation="2.2", placement="widget")) as url:
        result = await run_cli("check", "--url", url, "--json")

    (probe,) = json.loads(result.out)
    assert probe["answered"] is True
    assert probe["streaming"] is True
