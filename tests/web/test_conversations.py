"""The conversations kept in the browser (issue 22, items 17 to 19): a stored list that is
partly or wholly unreadable, two tabs answering at once, and titles in plain text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from chatbridge.upstream import LocalUpstream, UpstreamConfig, expected_answer
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

ITEM = "chatbridge.conversations.v1"
GOOD = {
    "id": "good",
    "title": "kept one",
    "renamed": False,
    "model": "default",
    "updated": 20,
    "messages": [
        {"role": "user", "content": "kept question"},
        None,
        {"role": "assistant", "content": 5, "state": "done"},
        {"role": "tool", "content": "not ours"},
        {"role": "assistant", "content": "kept **answer**", "state": "sideways",
         "target": {"label": "site-a"}, "error": "not an object"},
        {"role": "user", "content": "and then?"},
        # as an earlier version of the page stored a failure
        {"role": "assistant", "content": "", "state": "error", "target": None,
         "error": {"message": "HTTP 502 from all", "status": 502, "code": "upstream_failed",
                   "hint": "The hint it had."}},
    ],
}  # fmt: skip
UNREADABLE = [
    None,
    7,
    "text",
    {"id": 3, "title": "a number for an id", "messages": []},
    {"id": "no-messages", "title": "no list of messages"},
    {"id": "odd", "title": ["a", "list"], "updated": 10, "messages": [None, {"role": "user"}]},
    {"id": "good", "title": "the same id again", "messages": []},
]


async def store(page: Any, raw: str) -> None:
    await page.evaluate("raw => localStorage.setItem('chatbridge.conversations.v1', raw)", raw)
    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")


async def test_what_cannot_be_read_is_skipped_and_the_rest_kept(
    browser: Any, serve: Any, tmp_path: Path
) -> None:
    served = await serve()
    context, page, watch = await open_page(browser, served.url)
    await store(page, json.dumps([*UNREADABLE[:5], GOOD, *UNREADABLE[5:]]))
    await expect(page.locator("#notice")).to_contain_text("could not be read and were skipped")
    await expect(page.locator("#conversations li .open")).to_have_text(["kept one", "New chat"])
    await expect(page.locator("article.message.user .raw")).to_have_text(
        ["kept question", "and then?"]
    )
    kept = page.locator("article.message.assistant").first
    await expect(kept.locator(".md strong")).to_have_text("answer")
    await expect(kept).to_have_attribute("data-state", "done")
    await expect(kept.locator(".target")).to_have_text("answered by site-a")
    await expect(kept.locator(".error")).to_be_hidden()
    failed = page.locator(LAST)
    await expect(failed.locator(".error-message")).to_have_text("HTTP 502 from all")
    await expect(failed.locator(".error-hint")).to_have_text("The hint it had.")
    await ask(page, "still works")  # the page is usable: the kept history goes along
    follow = (await answered(page)).locator(".md")
    await expect(follow).to_contain_text("Echo: still works | history turns: 3")
    stored = json.loads(await page.evaluate(f"localStorage.getItem('{ITEM}')"))
    assert [c["id"] for c in stored] == ["good", "odd"]  # stored again, readable
    await page.screenshot(path=tmp_path / "skipped.png")
    watch.assert_clean()
    await context.close()


async def test_a_list_that_cannot_be_parsed_is_kept_aside(
    browser: Any, serve: Any, tmp_path: Path
) -> None:
    served = await serve()
    context, page, watch = await open_page(browser, served.url)
    await store(page, '[{"id": "cut off in the mid')
    await expect(page.locator("#notice")).to_contain_text("could not be read")
    await expect(page.locator("#conversations li")).to_have_count(0)
    aside = await page.evaluate(f"localStorage.getItem('{ITEM}.unreadable')")
    assert aside == '[{"id": "cut off in the mid'  # nothing thrown away
    await ask(page, "a fresh start")
    await answered(page)
    await expect(page.locator("#conversations li .open")).to_have_text(["a fresh start"])
    watch.assert_clean()
    await context.close()


async def test_two_tabs_answering_at_once_keep_both_answers(
    browser: Any, serve: Any, tmp_path: Path
) -> None:
    upstream = LocalUpstream(UpstreamConfig(token_delay=0.05, answer_tokens=40))
    async with upstream as base:
        served = await serve(config=fake_route(base))
        context, first, watch = await open_page(browser, served.url)
        second, second_watch = await open_tab(context, served.url)
        await ask(first, "from the first tab")
        await expect(first.locator(LAST)).to_have_attribute("data-state", "streaming")
        await until_words(first.locator(LAST), 5)
        await second.locator("#new-chat").click()
        await ask(second, "from the second tab")  # it ends after the first tab's answer
        for tab, question in ((first, "from the first tab"), (second, "from the second tab")):
            full = "".join(expected_answer([{"role": "user", "content": question}], 40))
            await expect((await answered(tab)).locator(".md")).to_have_text(full)
        # both are stored, complete, and each tab lists both
        stored = json.loads(await first.evaluate(f"localStorage.getItem('{ITEM}')"))
        answers = {c["title"]: c["messages"][-1] for c in stored}
        assert set(answers) == {"from the first tab", "from the second tab"}, answers
        for answer in answers.values():
            assert answer["state"] == "done" and len(answer["content"].split()) == 40, answer
        titles = ["from the second tab", "from the first tab"]
        for tab in (first, second):
            await expect(tab.locator("#conversations li .open")).to_have_text(titles)
        # the second tab shows the first tab's answer as it ended
        await second.locator("#conversations li .open").nth(1).click()
        await expect(second.locator(LAST)).to_have_attribute("data-state", "done")
        await expect(second.locator(LAST).locator(".target")).to_have_text("answered by up0")
        await second.screenshot(path=tmp_path / "second-tab.png")
        second_watch.assert_clean()
        watch.assert_clean()
        await context.close()


async def test_titles_are_plain_text(browser: Any, serve: Any, tmp_path: Path) -> None:
    served = await serve()
    context, page, watch = await open_page(browser, served.url)
    await ask(page, "**browser** tips: see [the docs](https://example.org) and `cfg`")
    await answered(page)
    plain = "browser tips: see the docs and cfg"
    await expect(page.locator("#title")).to_have_text(plain)
    await expect(page.locator("#conversations li .open")).to_have_text([plain])
    await ask(page, "# a second question does not rename it")
    await answered(page)
    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    await expect(page.locator("#conversations li .open")).to_have_text([plain])
    await expect(page.locator("#conversations li .open strong, #title *")).to_have_count(0)
    watch.assert_clean()
    await context.close()


async def test_a_tab_closed_mid_answer_leaves_what_arrived_to_the_others(
    browser: Any, serve: Any, tmp_path: Path
) -> None:
    upstream = LocalUpstream(UpstreamConfig(token_delay=0.1, answer_tokens=60))
    async with upstream as base:
        served = await serve(config=fake_route(base))
        context, first, watch = await open_page(browser, served.url)
        second, second_watch = await open_tab(context, served.url)
        await ask(first, "left half-way")
        # the other tab follows the conversation while it streams: not cut, still answering
        await expect(second.locator(LAST)).to_have_attribute("data-state", "streaming")
        await until_words(first.locator(LAST), 5)
        await first.goto("about:blank")  # the tab leaves mid-answer
        kept = second.locator(LAST)
        await expect(kept).to_have_attribute("data-state", "incomplete")
        await expect(kept.locator(".target")).to_have_text("partial answer from up0, cut off")
        assert len((await shown(kept)).split()) >= 5  # what had arrived is kept
        second_watch.assert_clean()
        watch.assert_clean()
        await context.close()
