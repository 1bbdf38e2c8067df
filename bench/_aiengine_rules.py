"""5c of ``bench_providers.py``: what the issue's own rules cost per AI Engine message, alone.

The CPU goal compares ``AIEngine`` with a raw aiohttp loop that sends the same request and
parses the same reply. The issue also asks things of every message that such a loop leaves
out: the caller's messages checked and the bot's limits honoured before sending, a
``chatId`` per conversation kept across turns with no state in the caller (the transcript
digested and filed), the site session the reply starts, the reply's status and type checked
and the usage read only when real, one deadline for the whole call, and the connections a
site may have at once. Here those steps run alone, on a real page and a real reply of the
local site, with no I/O, and are counted under cachegrind (runs of n and 2n, the difference
per message), next to the floor's own two steps they stand in for (``json.dumps`` of the body
and ``json.loads`` of the reply).
"""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent

from bench._aiengine import cachegrind  # noqa: E402
from bench._common import median, server_process  # noqa: E402
from chatbridge._aiengine._body import submit_body  # noqa: E402
from chatbridge._aiengine._call import EngineCall  # noqa: E402
from chatbridge._aiengine._page import ChatConfig, parse_page  # noqa: E402
from chatbridge._aiengine._replies import whole_reply  # noqa: E402
from chatbridge._aiengine._thread import Thread  # noqa: E402
from chatbridge._aiengine._transcript import prepare, split_messages  # noqa: E402
from chatbridge._http._slots import Slots, origin_of  # noqa: E402
from chatbridge._state._book import ConversationBook  # noqa: E402

__all__ = ["engine_rules", "rule_steps"]

SUBMIT = "/mwai-ui/v1/chats/submit"
START = "/mwai/v1/start_session"


async def _sample(url: str) -> tuple[ChatConfig, bytes, list[str]]:
    """The site's chat settings, and one whole reply to ``message 0`` with its Set-Cookie."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        async with session.get(url + "/") as page:
            config = parse_page(await page.text(), url + "/")
        assert config is not None
        async with session.post(config.endpoint(START)) as started:
            nonce = (await started.json())["restNonce"]
        thread = Thread()
        prepared = prepare(split_messages([{"role": "user", "content": "message 0"}]), config)
        body = submit_body(config, thread, prepared, False)
        headers = {"Content-Type": "application/json", "X-WP-Nonce": nonce}
        async with session.post(config.endpoint(SUBMIT), data=body, headers=headers) as reply:
            return config, await reply.read(), reply.headers.getall("Set-Cookie", [])


def _floor_steps(config: ChatConfig, reply: bytes, index: int) -> None:
    """The floor's own: its body written, its reply read."""
    body = {
        "botId": config.bot_id, "customId": None, "session": None, "chatId": f"b{index:07d}",
        "contextId": config.context_id,
        "messages": [{"role": "assistant", "content": config.start_sentence}],
        "newMessage": f"message {index}", "newFileId": None, "newFileIds": None, "stream": False,
    }  # fmt: skip
    json.dumps(body).encode()
    json.loads(reply)["reply"]


def _engine_steps(
    book: ConversationBook[Thread], config: ChatConfig, reply: bytes, cookies: list[str], index: int
) -> None:
    """The same two as the engine takes them, with what the issue asks around them: the
    caller's messages checked, the bot's limits, the conversation found and filed, its chat
    id, its site session, the reply typed and its usage read only when real."""
    messages = [{"role": "user", "content": f"message {index}"}]
    split = split_messages(messages)
    thread = book.find(messages, split.earlier_key)
    thread.follow(split.earlier_key)
    submit_body(config, thread, prepare(split, config), False)
    final = whole_reply(reply.decode("utf-8", "replace"), url=config.page_url)
    thread.adopt_session(cookies)
    split.digest.add("assistant", final.reply)
    key = split.digest.key()
    thread.answered(key)
    book.file(key, thread)


def _deadline_steps(slots: Slots, submit: str) -> None:
    """One deadline for the call (what is left of it given to the request as aiohttp's
    timeout) and the site's connection slot taken and given back."""
    call = EngineCall(provider="AIEngine")
    call.start()
    aiohttp.ClientTimeout(total=call.remaining(), connect=15.0, sock_read=60.0)
    key = slots.take_now(origin_of(submit), 8)
    assert key is not None
    slots.give(key)


async def rule_steps(which: str, url: str, messages: int) -> None:
    """Run one kind of step ``messages`` times (the driver cachegrind counts)."""
    config, reply, cookies = await _sample(url)
    book: ConversationBook[Thread] = ConversationBook(Thread, lambda thread: thread.chat_id)
    slots, submit = Slots(), config.endpoint(SUBMIT)
    for index in range(messages):
        if which == "floor":
            _floor_steps(config, reply, index)
        elif which == "engine":
            _engine_steps(book, config, reply, cookies, index)
        else:
            _deadline_steps(slots, submit)


DRIVER = """
import asyncio, sys
sys.path.insert(0, {root!r})
from bench._aiengine_rules import rule_steps
asyncio.run(rule_steps(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


def _count(which: str, url: str, messages: int) -> int:
    return cachegrind(DRIVER.format(root=str(HERE.parent)), which, url, str(messages))


def engine_rules(messages: int, rounds: int, site: str, floor: float) -> None:
    """Instructions per message of each kind of step (medians of ``rounds``), and what they
    leave of the whole-answer goal against ``floor`` (the raw loop's instructions per whole
    message, from 5b)."""
    print(f"5c. AI Engine: the issue's per-message rules alone, instructions per message "
          f"({messages} and {2 * messages} a way, medians of {rounds} rounds)")  # fmt: skip
    per: dict[str, list[float]] = {"floor": [], "engine": [], "deadline": []}
    with server_process(site) as url:
        for _ in range(rounds):
            for which, counts in per.items():
                small, large = _count(which, url, messages), _count(which, url, 2 * messages)
                counts.append((large - small) / messages)
    result = {which: median(counts) for which, counts in per.items()}
    extra = result["engine"] - result["floor"] + result["deadline"]
    budget = 0.15 * floor
    print(
        f"   the floor's body and reply {result['floor']:,.0f}; the engine's in their place, "
        f"with the checks, limits, conversation and session {result['engine']:,.0f}; "
        f"one deadline and a connection slot {result['deadline']:,.0f}\n"
        f"   the rules add {extra:,.0f} a message: {(floor + extra) / floor:.3f}x the floor's "
        f"{floor:,.0f} by themselves; the whole goal (1.15x) leaves {budget - extra:,.0f} for "
        "everything else (the provider, the engine and the HTTP layer around them)"
    )
