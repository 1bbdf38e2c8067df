"""``chatbridge chat`` one-shot: argument, stdin, --json, providers, --system."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from chatbridge.site import LocalSite, SiteConfig
from chatbridge.upstream import LocalUpstream, expected_answer

from .conftest import run_cli


async def test_one_shot_streams_the_answer_to_stdout(site_url: str) -> None:
    result = await run_cli("chat", "--url", site_url, "hello there")

    assert result.code == 0, result.err
    assert result.out == (
        "[local AI Power site] Echo: hello there | history turns: 0 (user 0, assistant 0)\n"
    )
    assert result.err == ""  # no spinner, nothing decorative, when stderr is not a terminal


async def test_piped_stdin_is_the_message(site_url: str) -> None:
    result = await run_cli("chat", "--url", site_url, stdin="a question\nfrom a pipe\n")

    assert result.code == 0, result.err
    assert result.out.startswith("[local AI Power site] Echo: a question\nfrom a pipe |")


async def test_json_output_is_one_parseable_object(site_url: str) -> None:
    result = await run_cli("chat", "--url", site_url, "--json", "hi")

    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["provider"] == "AIPower"
    assert data["site"] == site_url
    assert data["answer"].startswith("[local AI Power site] Echo: hi |")
    assert data["streamed"] is True
    assert data["chunks"] > 1
    assert data["seconds"] >= data["first_token_seconds"] > 0


async def test_no_stream_json_reports_one_piece(site_url: str) -> None:
    result = await run_cli("chat", "--url", site_url, "--no-stream", "--json", "hi")

    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert (data["streamed"], data["chunks"]) == (False, 1)


async def test_a_site_that_cannot_stream_is_not_reported_as_streamed() -> None:
    async with LocalSite(SiteConfig(generation="1.7")) as url:
        result = await run_cli("chat", "--url", url, "--json", "hi")

    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert (data["streamed"], data["chunks"]) == (False, 1)
    assert "Echo: hi |" in data["answer"]


async def test_named_providers_talk_to_the_given_site(site_url: str) -> None:
    gpt4o = await run_cli("chat", "--provider", "chatgpt4o", "--url", site_url, "--json", "a")
    gptt = await run_cli(
        "chat", "--provider", "ChatGptt", "--model", "gpt-4", "--url", site_url, "--json", "b"
    )

    assert (gpt4o.code, gptt.code) == (0, 0), gpt4o.err + gptt.err
    first, second = json.loads(gpt4o.out), json.loads(gptt.out)
    assert (first["provider"], first["model"]) == ("Chatgpt4o", "gpt-4o-mini-2024-07-18")
    assert first["streamed"] is False  # Chatgpt4o answers whole
    assert (second["provider"], second["model"]) == ("ChatGptt", "gpt-4")
    assert "Echo: b |" in second["answer"]


async def test_system_prompt_travels_with_the_message(site_url: str) -> None:
    result = await run_cli("chat", "--url", site_url, "--system", "Answer in French.", "hi")

    assert result.code == 0, result.err
    assert "System: Answer in French." in result.out
    assert "User: hi" in result.out


async def test_unquoted_words_are_one_message(site_url: str) -> None:
    plain = await run_cli("chat", "--url", site_url, "hello", "world")
    around = await run_cli("chat", "hello", "--url", site_url, "wide", "world")

    assert plain.code == 0, plain.err
    assert plain.out.startswith("[local AI Power site] Echo: hello world |")
    assert around.code == 0, around.err
    assert around.out.startswith("[local AI Power site] Echo: hello wide world |")


async def test_url_may_name_the_home_page_or_the_chat_page() -> None:
    # An AIPKit site with its chat on /chat/: the home page carries no chat at all.
    async with LocalSite(SiteConfig(generation="aipkit", chat_path="/chat/")) as url:
        home = await run_cli("chat", "--url", url, "hi")
        page = await run_cli("chat", "--url", f"{url}/chat/", "hi")
        option = await run_cli("chat", "--url", url, "--chat-page", "/chat/", "hi")

    assert home.code == 6 and "neither an AI Power site nor an AI Engine site" in home.err
    assert "--chat-page /chat/" in home.err  # issue 22 item 9: says what to do
    for result in (page, option):
        assert result.code == 0, result.err
        assert result.out.startswith("[local AI Power site] Echo: hi |")


async def test_bot_id_option_picks_the_bot() -> None:
    site = LocalSite(SiteConfig(generation="2.2", bot_id=7))  # the page shows bot 7
    async with site as url:
        result = await run_cli("chat", "--url", url, "--bot-id", "9", "hi")

    assert result.code == 0, result.err
    chats = [r for r in site.requests if r.action == "wpaicg_chat_shortcode_message"]
    assert [r.fields["bot_id"] for r in chats] == ["9"]  # the option, not the page's


async def test_url_is_the_base_url_of_an_openai_compatible_endpoint(
    local_upstream: Callable[..., Awaitable[tuple[LocalUpstream, str]]],
) -> None:
    """`chatbridge providers` says OpenAICompatible takes any endpoint with --url: it is the
    endpoint's base URL (it used to end in "pass base_url=…", Python to a shell user)."""
    upstream, base_url = await local_upstream()
    question = "Name three trees."
    chat = ("chat", "--provider", "OpenAICompatible", "--url", base_url)
    result = await run_cli(*chat, "--model", "m", "--json", question)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["answer"] == "".join(expected_answer([{"role": "user", "content": question}]))
    assert (data["provider"], data["site"], data["model"]) == ("OpenAICompatible", base_url, "m")
    assert upstream.stats.completed == 1

    for args, says in (
        ((*chat, "hi"), "pass --model NAME"),
        (("chat", "--provider", "OpenAICompatible", "--model", "m", "hi"), "pass --url"),
        ((*chat, "--model", "m", "--chat-page", "/chat/", "hi"), "--url is its base URL"),
    ):
        refused = await run_cli(*args)
        assert refused.code == 2 and says in refused.err, refused.err
        assert "base_url=" not in refused.err and len(refused.err.splitlines()) == 1
    assert upstream.stats.requests == 1
