"""How an answer shows in the page (issue 22, items 12 to 16): an error card scrolled into
view, code blocks with a language label, highlighting and a Copy button that covers no code,
line breaks kept, what a stopped or cut answer says, and one plain line per target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import expect

from chatbridge.upstream import Behaviour, LocalUpstream, UpstreamConfig
from tests.web.conftest import answered, ask, fake_route, open_page

DEAD = """
[routes.broken]
targets = [
  { provider = "AIPower", site_url = "http://127.0.0.1:9", name = "dead-one" },
  { provider = "AIPower", site_url = "http://127.0.0.1:7", name = "dead-two" },
]
"""


async def test_an_error_card_is_scrolled_into_view(
    browser: Any, serve: Any, tmp_path: Path
) -> None:
    served = await serve(config=DEAD)
    context, page, watch = await open_page(browser, served.url)
    # a question taller than the view: the answer's error card comes below the fold
    await page.locator("#input").fill("\n".join(f"line {i}" for i in range(40)))
    await page.locator("#input").press("Enter")
    last = await answered(page, "error")
    box = page.locator("#messages")
    assert await box.evaluate("b => b.scrollHeight > b.clientHeight + 200")
    await expect(last.locator(".error")).to_be_in_viewport(ratio=1)
    await expect(last.locator(".retry")).to_be_in_viewport(ratio=1)
    # the details opened at the bottom are followed too
    await last.locator(".error-details summary").click()
    await expect(last.locator(".error-raw")).to_be_in_viewport(ratio=1)
    await page.screenshot(path=tmp_path / "error-in-view.png")
    watch.assert_clean(502)
    await context.close()


async def test_the_error_card_has_one_plain_line_per_target(
    browser: Any, serve: Any, tmp_path: Path
) -> None:
    served = await serve(config=DEAD)
    context, page, watch = await open_page(browser, served.url, width=375)
    await ask(page, "anyone there?")
    error = (await answered(page, "error")).locator(".error")
    await expect(error.locator(".error-message")).to_have_text(
        "No target of this route could answer."
    )
    reached = "could not be reached: is the site up, and its URL right?"
    await expect(error.locator(".error-targets li")).to_have_text(
        [f"dead-one (tried twice): {reached}", f"dead-two (tried twice): {reached}"]
    )
    assert "ConnectError" not in (await error.inner_text())  # the class names are details
    details = error.locator(".error-details")
    assert await details.get_attribute("open") is None
    await details.locator("summary").focus()  # the toggle works from the keyboard
    await page.keyboard.press("Enter")
    raw = error.locator(".error-raw")
    await expect(raw).to_contain_text("Every target of route 'broken' failed: dead-one: ")
    await expect(raw).to_contain_text("dead-two: ConnectError")
    await page.screenshot(path=tmp_path / "error-phone.png")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    watch.assert_clean(502)
    await context.close()


CODE = "wide = '" + "w" * 240 + "'\ndef f():\n    return wide\n"
WIDE = f"Wide code:\n\n```python\n{CODE}```\n\nThat is all."  # echoed after a prefix


async def test_code_blocks_are_labelled_highlighted_and_the_copy_button_covers_no_code(
    browser: Any, serve: Any, tmp_path: Path
) -> None:
    served = await serve()
    context, page, watch = await open_page(browser, served.url)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served.url)
    await page.locator("#input").fill(WIDE)
    await page.locator("#input").press("Enter")
    last = await answered(page)
    block = last.locator(".code-block")
    await expect(block.locator(".code-lang")).to_have_text("python")
    code = block.locator("pre code")
    await expect(code.locator("span.tok-k")).to_have_text(["def", "return"])
    colours = await code.evaluate(
        """c => [c, c.querySelector('.tok-k'), c.querySelector('.tok-s1')]
                 .map(e => getComputedStyle(e).color)"""
    )
    assert len(set(colours)) == 3, colours  # the stylesheet colours keywords and strings
    copy = block.locator("button.copy")
    button, pre = await copy.bounding_box(), await block.locator("pre").bounding_box()
    assert button is not None and pre is not None
    assert button["y"] + button["height"] <= pre["y"], (button, pre)  # above the code
    await page.screenshot(path=tmp_path / "code.png")
    await copy.click()
    await expect(copy).to_have_text("Copied")
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert copied == CODE  # the code, exactly
    watch.assert_clean()  # an inline style refused by the CSP would be a console error
    await context.close()


async def test_a_single_line_break_shows_as_one(browser: Any, serve: Any, tmp_path: Path) -> None:
    served = await serve()  # the local site echoes the question, line break included
    context, page, watch = await open_page(browser, served.url)
    await ask(page, "line one\nline two")
    md = (await answered(page)).locator(".md")
    await expect(md.locator("br")).to_have_count(1)
    assert "line one\nline two" in await md.inner_text()
    watch.assert_clean()
    await context.close()


async def test_a_cut_answer_with_fail_over_names_the_target_that_cut_it(
    browser: Any, serve: Any, tmp_path: Path
) -> None:
    upstream = LocalUpstream(UpstreamConfig(answer_tokens=20))
    upstream.set_plan([Behaviour("cut_after", tokens=4)])
    async with upstream as base:
        served = await serve(config=fake_route(base))
        context, page, watch = await open_page(browser, served.url)
        await ask(page, "cut me off")
        last = await answered(page, "incomplete")
        await expect(last.locator(".target")).to_have_text("partial answer from up0, cut off")
        await expect(last.locator(".error-message")).to_have_text(
            "The answer was cut off, and no other target could continue it."
        )
        await expect(last.locator(".error-targets li")).to_have_text(["up0: cut its answer off"])
        watch.assert_clean()
        await context.close()


async def test_a_refused_request_keeps_the_servers_words(
    browser: Any, serve: Any, tmp_path: Path
) -> None:
    upstream = LocalUpstream(UpstreamConfig(answer_tokens=20))
    upstream.set_plan([Behaviour("context_length", message="This model holds 8 tokens.")])
    async with upstream as base:
        served = await serve(config=fake_route(base))
        context, page, watch = await open_page(browser, served.url)
        await ask(page, "a long conversation")
        error = (await answered(page, "error")).locator(".error")
        await expect(error.locator(".error-message")).to_contain_text("This model holds 8 tokens.")
        await expect(error.locator(".error-targets li")).to_have_text(
            ["up0: cannot take a conversation this long"]
        )
        await expect(error.locator(".error-hint")).to_have_text(
            "The conversation is too long for this model: start a new chat."
        )
        watch.assert_clean(400)
        await context.close()
