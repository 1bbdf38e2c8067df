"""The chat page in a real headless Chromium against a real ``chatbridge serve``: streaming,
stop, conversations across reloads, hostile answers, errors, the key prompt, phone width."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from chatbridge.upstream import Behaviour, LocalUpstream, UpstreamConfig, expected_answer
from tests.web.conftest import (
    LAST,
    answered,
    ask,
    fake_route,
    open_page,
    open_tab,
    shown,
    until_words,
)

DOCS_SCREENSHOT = Path(__file__).parents[2] / "docs" / "chat-page.png"


async def _until(condition: Callable[[], bool], seconds: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


async def test_a_streamed_answer_appears_in_pieces(
    browser: Any, serve: Any, tmp_path: Path
) -> None:
    upstream = LocalUpstream(UpstreamConfig(token_delay=0.03, answer_tokens=40))
    async with upstream as base:
        served = await serve(config=fake_route(base))
        context, page, watch = await open_page(browser, served.url)
        await expect(page.locator("#model")).to_have_value("fake")
        await ask(page, "line one\nline two")  # Shift+Enter is a new line, Enter sends
        user = page.locator("article.message.user").last
        assert await user.locator(".raw").text_content() == "line one\nline two"
        seen: list[int] = []
        while await page.locator(LAST).get_attribute("data-state") in (None, "streaming"):
            text = await shown(page.locator(LAST))
            if text and (not seen or len(text) != seen[-1]):
                seen.append(len(text))
            await asyncio.sleep(0.05)
        last = await answered(page)
        answer = "".join(expected_answer([{"role": "user", "content": "line one\nline two"}], 40))
        assert (await last.locator(".md").text_content() or "").strip() == answer
        assert await last.locator(".raw").text_content() == ""
        assert len(seen) >= 4 and seen == sorted(seen) and seen[0] < len(answer) // 2, seen
        await expect(last.locator(".target")).to_have_text("answered by up0")
        assert upstream.stats.recent[-1].stream
        await page.screenshot(path=tmp_path / "streamed.png")
        watch.assert_clean()
        await context.close()


async def test_stop_mid_answer_keeps_the_partial_answer_and_cancels_upstream(
    browser: Any, serve: Any, tmp_path: Path
) -> None:
    upstream = LocalUpstream(UpstreamConfig(token_delay=0.1, answer_tokens=60))
    async with upstream as base:
        served = await serve(config=fake_route(base))
        context, page, watch = await open_page(browser, served.url)
        await ask(page, "tell me a long story")
        last = page.locator(LAST)
        await until_words(last, 3)
        await expect(page.locator("#stop")).to_be_visible()
        await page.locator("#stop").click()
        await answered(page, "stopped")
        await expect(last.locator(".badge")).to_have_text("stopped")
        # not "answered by": what happened, and who was answering
        await expect(last.locator(".target")).to_have_text(
            "partial answer from up0, stopped by you"
        )
        await expect(page.locator("#send")).to_be_visible()
        await _until(lambda: upstream.stats.disconnected == 1)
        assert upstream.stats.completed == 0
        partial = (await shown(last)).strip()
        await asyncio.sleep(0.4)
        assert (await shown(last)).strip() == partial
        full = "".join(expected_answer([{"role": "user", "content": "tell me a long story"}]))
        assert partial and full.startswith(partial) and len(partial) < len(full)
        await page.reload()
        await expect(page.locator("body")).to_have_attribute("data-ready", "true")
        kept = page.locator(LAST)
        await expect(kept).to_have_attribute("data-state", "stopped")
        await expect(kept).to_contain_text(partial)
        await expect(kept.locator(".target")).to_have_text(
            "partial answer from up0, stopped by you"
        )
        await page.screenshot(path=tmp_path / "stopped.png")
        watch.assert_clean()
        await context.close()


async def test_a_server_that_dies_mid_answer_leaves_it_marked_incomplete(
    browser: Any, serve: Any, tmp_path: Path
) -> None:
    upstream = LocalUpstream(UpstreamConfig(token_delay=0.1, answer_tokens=60))
    async with upstream as base:
        served = await serve(config=fake_route(base))
        context, page, watch = await open_page(browser, served.url)
        await ask(page, "a long answer please")
        last = page.locator(LAST)
        await until_words(last, 3)
        served.process.kill()  # no [DONE], no in-band error: the connection just ends
        await answered(page, "incomplete")
        await expect(last.locator(".badge")).to_have_text("incomplete")
        await expect(last.locator(".target")).to_have_text("partial answer from up0, cut off")
        await expect(last.locator(".error-message")).to_contain_text("before the answer was")
        await expect(last.locator(".error-hint")).to_contain_text("chatbridge serve is still")
        assert len((await shown(last)).split()) >= 3  # what arrived stays
        await page.screenshot(path=tmp_path / "server-died.png")
        # Chromium's line for the cut body (which one depends on when the kill lands), and
        # for the final rendering that finds no server
        watch.assert_clean(
            "net::ERR_INCOMPLETE_CHUNKED_ENCODING",
            "net::ERR_CONNECTION_RESET",
            "net::ERR_CONNECTION_REFUSED",
        )
        await context.close()


async def test_reload_keeps_conversations_and_rename_and_delete(
    browser: Any, serve: Any, tmp_path: Path
) -> None:
    served = await serve()  # the built-in local site: it echoes, with the history it got
    context, page, watch = await open_page(browser, served.url)
    other, other_watch = await open_tab(context, served.url)
    await ask(page, "first question")
    await expect((await answered(page)).locator(".md")).to_contain_text("Echo: first question")
    # the other tab follows the stored conversations (the storage event)
    await expect(other.locator("#conversations li .open")).to_have_text(["first question"])
    await expect(other.locator("article.message.assistant .md")).to_contain_text(
        "Echo: first question"
    )
    await other.close()
    other_watch.assert_clean()
    await page.locator("#new-chat").click()
    await expect(page.locator("article.message")).to_have_count(0)
    await ask(page, "second question")
    await answered(page)
    items = page.locator("#conversations li")
    await expect(items).to_have_count(2)
    await expect(items.nth(0).locator(".open")).to_have_text("second question")
    await items.nth(1).locator(".rename").click()
    await page.locator(".rename-input").fill("Renamed one")
    await page.locator(".rename-input").press("Enter")
    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    titles = page.locator("#conversations li .open")
    await expect(titles).to_have_text(["second question", "Renamed one"])
    await titles.nth(1).click()
    await expect(page.locator("#title")).to_have_text("Renamed one")
    await expect(page.locator("article.message.user .raw")).to_have_text(["first question"])
    await ask(page, "and a follow-up")  # the kept history goes with the next question
    follow = (await answered(page)).locator(".md")
    await expect(follow).to_contain_text("Echo: and a follow-up | history turns: 2")
    delete = page.locator("#conversations li").filter(has_text="second question").locator(".delete")
    await delete.click()
    await expect(delete).to_have_text("Delete?")
    await delete.click()
    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    await expect(page.locator("#conversations li .open")).to_have_text(["Renamed one"])
    await expect(page.locator("article.message")).to_have_count(4)
    await page.screenshot(path=tmp_path / "reloaded.png")
    watch.assert_clean()
    await context.close()


HOSTILE = (
    "<img src=x onerror=alert(1)> and <script>alert(2)</script> and "
    '[click me](javascript:alert(3)) and <a href="javascript:alert(4)">raw link</a> '
    "and ![pixel](http://198.51.100.7/track.png)"
)


async def test_hostile_answers_render_as_text_and_run_nothing(
    browser: Any, serve: Any, tmp_path: Path
) -> None:
    served = await serve()
    context, page, watch = await open_page(browser, served.url)
    await ask(page, HOSTILE)
    last = await answered(page)
    text = await last.locator(".md").text_content() or ""
    assert "<img src=x onerror=alert(1)>" in text and "<script>alert(2)</script>" in text
    assert "[click me](javascript:alert(3))" in text
    assert await page.locator("article img, article script, article iframe").count() == 0
    hrefs = await page.eval_on_selector_all("article a", "links => links.map(a => a.href)")
    assert hrefs == ["http://198.51.100.7/track.png"], hrefs  # the image, as a link only
    for link in await last.locator("a").all():
        assert await link.get_attribute("rel") == "noopener noreferrer nofollow"
    await page.mouse.move(10, 10)
    await asyncio.sleep(0.3)  # time for an onerror handler to fire, had one been inserted
    await page.screenshot(path=tmp_path / "hostile.png")
    watch.assert_clean()
    await context.close()


MARKDOWN = (
    "Here is **Markdown**\n\n"
    "- a list item\n- another one\n\n"
    '```python\ndef greet(name):\n    return f"Hello, {name}!"\n```\n\n'
    "That is all."
)


async def test_markdown_code_blocks_get_a_copy_button(
    browser: Any, serve: Any, tmp_path: Path
) -> None:
    served = await serve()
    context, page, watch = await open_page(browser, served.url)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served.url)
    await ask(page, MARKDOWN)
    last = await answered(page)
    await expect(last.locator(".md strong")).to_have_text("Markdown")
    await expect(last.locator(".md li")).to_have_text(["a list item", "another one"])
    code = last.locator(".md pre code.language-python")
    await expect(code).to_contain_text('return f"Hello, {name}!"')
    await page.locator("#input").focus()  # the screenshot shows the page at rest
    await page.screenshot(path=tmp_path / "markdown.png")
    if os.environ.get("CHATBRIDGE_DOCS_SCREENSHOT"):  # refreshes the README's picture
        await page.screenshot(path=DOCS_SCREENSHOT)
    copy = last.locator(".md .code-block button.copy")
    await copy.click()
    await expect(copy).to_have_text("Copied")
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert copied == await code.text_content()
    watch.assert_clean()
    await context.close()


async def test_a_route_whose_targets_all_rest_says_so_at_once(browser: Any, serve: Any) -> None:
    """Its breaker open for 20 s: the next question is answered with "not now, come back
    in N s" at once, not after 20 s of "answering…"."""
    config = """
[[routes.resting.targets]]
provider = "OpenAICompatible"
base_url = "http://127.0.0.1:9/v1"
model = "m"
name = "gone"
[policy]
failure_threshold = 1
cooldown = 20
cooldown_max = 20
"""
    served = await serve(config=config)
    context, page, watch = await open_page(browser, served.url)
    await ask(page, "first")
    await answered(page, "error")  # it fails: its breaker opens
    await ask(page, "second")
    last = await answered(page, "error")
    error = last.locator(".error")
    await expect(error.locator(".error-message")).to_have_text(
        "No target of this route can be asked right now."
    )
    await expect(error.locator(".error-targets li")).to_have_text(
        ["gone: not asked: it failed just before, so it rests for a while"]
    )
    await expect(error.locator(".error-hint")).to_contain_text(
        "Every target is resting: try again in"
    )
    watch.assert_clean(502, 503)
    await context.close()


async def test_a_failing_target_shows_its_error_and_keeps_the_conversation(
    browser: Any, serve: Any, tmp_path: Path
) -> None:
    upstream = LocalUpstream(UpstreamConfig(answer_tokens=20))
    upstream.set_plan([Behaviour("error_after", tokens=3, message="the quota is used up")])
    async with upstream as base:
        config = (
            fake_route(base)
            + """
[routes.broken]
targets = [{ provider = "AIPower", site_url = "http://127.0.0.1:9", name = "dead-one" }]
"""
        )
        served = await serve(config=config)
        context, page, watch = await open_page(browser, served.url)
        await page.locator("#model").select_option("broken")
        await ask(page, "hello broken")
        last = await answered(page, "error")
        error = last.locator(".error")
        await expect(error).to_be_visible()
        # plain words, one line per target, though the server tried it twice
        await expect(error.locator(".error-message")).to_have_text(
            "No target of this route could answer."
        )
        await expect(error.locator(".error-targets li")).to_have_text(
            ["dead-one (tried twice): could not be reached: is the site up, and its URL right?"]
        )
        await expect(error.locator(".error-hint")).to_contain_text("Try again in a moment")
        # the server's own text is behind the toggle
        raw = error.locator(".error-raw")
        await expect(raw).to_be_hidden()
        await error.locator(".error-details summary").click()
        await expect(raw).to_be_visible()
        await expect(raw).to_contain_text("HTTP 502, upstream_failed")
        assert (await raw.text_content() or "").count("dead-one: ConnectError") == 2
        await page.locator("#model").select_option("fake")
        await ask(page, "hello fake")  # after the first bytes: the in-band error
        last = await answered(page, "incomplete")
        await expect(last.locator(".error-message")).to_have_text(
            "The answer was cut off, and no other target could continue it."
        )
        await expect(last.locator(".error-targets li")).to_have_text(
            ["up0: sent an error: Upstream error (server_error): the quota is used up"]
        )
        await expect(last.locator(".error-hint")).to_contain_text("broke off")
        # the server's words, as it sent them (they go on: which target, what to do)
        await expect(last.locator(".error-raw")).to_contain_text(
            "stream_truncated\nThe answer was cut off and no target could continue it: "
        )
        first3 = "".join(expected_answer([{"role": "user", "content": "hello fake"}], 20)[:3])
        await expect(last.locator(".md")).to_have_text(first3.strip())
        await page.screenshot(path=tmp_path / "errors.png")
        assert (
            not await page.locator("article.message.assistant").first.locator(".retry").is_visible()
        )  # only the last answer can be asked again
        upstream.set_plan([Behaviour()])
        await last.locator(".retry").click()
        retried = await answered(page)
        full = "".join(expected_answer([{"role": "user", "content": "hello fake"}], 20))
        await expect(retried.locator(".md")).to_have_text(full)
        await expect(page.locator("article.message")).to_have_count(4)
        await page.reload()
        await expect(page.locator("body")).to_have_attribute("data-ready", "true")
        await expect(page.locator("article.message.user .raw")).to_have_text(
            ["hello broken", "hello fake"]
        )
        await expect(page.locator("article .error:visible")).to_have_count(1)  # the 502
        await expect(page.locator(LAST)).to_have_attribute("data-state", "done")
        watch.assert_clean(502)
        await context.close()


async def test_the_page_asks_for_the_key_once_per_session(
    browser: Any, serve: Any, tmp_path: Path
) -> None:
    served = await serve("--api-key", "sk-right")
    context, page, watch = await open_page(browser, served.url)
    panel = page.locator("#key-panel")
    await expect(panel).to_be_visible()
    await page.locator("#key-input").fill("sk-wrong")
    await page.locator("#key-input").press("Enter")
    await expect(page.locator("#key-error")).to_contain_text("refused")
    await page.screenshot(path=tmp_path / "key-refused.png")
    await page.locator("#key-input").fill("sk-right")
    await page.locator("#key-submit").click()
    await expect(panel).to_be_hidden()
    await expect(page.locator("#model")).to_have_value("default")
    await ask(page, "with a key")
    await expect((await answered(page)).locator(".md")).to_contain_text("Echo: with a key")
    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    await expect(panel).to_be_hidden()  # kept for the browser session
    assert await page.evaluate("sessionStorage.getItem('chatbridge.apiKey')") == "sk-right"
    assert "sk-right" not in (await page.evaluate("JSON.stringify(localStorage)"))
    await page.screenshot(path=tmp_path / "key.png")
    watch.assert_clean(401)
    await context.close()


async def test_phone_width_and_dark_theme(browser: Any, serve: Any, tmp_path: Path) -> None:
    served = await serve()
    context, page, watch = await open_page(browser, served.url, width=375, height=700, dark=True)
    await expect(page.locator("#sidebar")).not_to_be_in_viewport()
    await ask(page, "hello from a phone")
    await expect((await answered(page)).locator(".md")).to_contain_text("Echo: hello from a phone")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, width
    box = await page.locator("#send").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 375
    dark = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    await page.screenshot(path=tmp_path / "phone-dark-chat.png")
    await page.locator("#toggle-sidebar").click()
    await expect(page.locator("#sidebar")).to_be_in_viewport()
    await expect(page.locator("#backdrop")).to_be_visible()
    await expect(page.locator("#conversations li .open")).to_have_text(["hello from a phone"])
    await page.screenshot(path=tmp_path / "phone-dark.png")
    await page.locator("#backdrop").click(position={"x": 350, "y": 400})  # closes the drawer
    await expect(page.locator("#sidebar")).not_to_be_in_viewport()
    await page.emulate_media(color_scheme="light")
    light = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert dark != light and dark == "rgb(21, 23, 26)", (dark, light)
    watch.assert_clean()
    await context.close()
