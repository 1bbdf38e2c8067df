"""The chat page in a real headless Chromium over an AI Engine site (``serve --site``):
a conversation that keeps its history, and a refusal shown as the site's error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import expect

from chatbridge.site import AIEngineSiteConfig, LocalSite
from tests.web.test_browser import answered, ask, open_page


async def test_a_conversation_with_an_ai_engine_site(
    browser: Any, serve: Any, tmp_path: Path
) -> None:
    async with LocalSite(AIEngineSiteConfig(event_logs=True, faults=("thinking",))) as site:
        served = await serve("--site", site)
        context, page, watch = await open_page(browser, served.url)
        await ask(page, "first question")
        first = await answered(page)
        # Status and thinking frames are the plugin's chatter, never the answer.
        await expect(first.locator(".md")).to_have_text(
            "[local AI Engine site] Echo: first question | history turns: 0 (user 0, assistant 0)"
        )
        await ask(page, "and a follow-up")  # the transcript goes with the next question
        follow = (await answered(page)).locator(".md")
        await expect(follow).to_contain_text("Echo: and a follow-up | history turns: 2")
        await page.screenshot(path=tmp_path / "ai-engine.png")
        watch.assert_clean()
        await context.close()


async def test_a_refusal_of_an_ai_engine_site_shows_its_message(
    browser: Any, serve: Any, tmp_path: Path
) -> None:
    async with LocalSite(AIEngineSiteConfig(banned_words=("forbidden",))) as site:
        served = await serve("--site", site)
        context, page, watch = await open_page(browser, served.url)
        await ask(page, "a forbidden word")
        last = await answered(page, "error")
        message = last.locator(".error-message")
        await expect(message).to_contain_text("Your query has been rejected.")
        await ask(page, "an allowed word")  # the conversation goes on
        await expect((await answered(page)).locator(".md")).to_contain_text("Echo: an allowed")
        watch.assert_clean(400)
        await context.close()
