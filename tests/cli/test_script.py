"""``chatbridge chat --jsonl``: one conversation driven by a script (issue 22, item 7)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from chatbridge.site import LocalSite, SiteConfig

from .conftest import CLI, ENV, run_cli


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def turns(answer: str) -> int:
    return int(answer.split("| history turns: ")[1].split(" ")[0])


async def test_each_line_is_one_turn_of_one_conversation(site_url: str) -> None:
    script = '"first message"\n\n{"content": "second message"}\n"third message"\n'
    result = await run_cli("chat", "--url", site_url, "--jsonl", stdin=script)

    assert result.code == 0, result.err
    first, second, third = lines(result.out)
    assert "Echo: first message |" in first["answer"]
    assert [turns(reply["answer"]) for reply in (first, second, third)] == [0, 2, 4]
    assert first["provider"] == "AIPower" and first["site"] == site_url
    assert first["history"] is None
    assert result.err == ""


async def test_a_failed_turn_is_an_error_line_and_the_conversation_goes_on() -> None:
    config = SiteConfig(faults=("http500",), fault_every=2)  # every second chat fails
    async with LocalSite(config) as url:
        script = '"one"\n"two"\n"three"\n'
        result = await run_cli("chat", "--url", url, "--jsonl", stdin=script)

    answered, failed, third = lines(result.out)
    assert "Echo: one |" in answered["answer"]
    assert failed["exit_code"] == 10 and failed["line"] == 2 and "500" in failed["error"]
    assert turns(third["answer"]) == 2  # the failed turn left no trace
    assert result.code == 10


async def test_a_line_that_is_no_message_is_named_and_skipped(site_url: str) -> None:
    script = 'plain text\n{"role": "system", "content": "Be brief."}\n[1]\n"  "\n"hi"\n'
    result = await run_cli("chat", "--url", site_url, "--jsonl", stdin=script)

    *refused, answered = lines(result.out)
    assert [(error["line"], error["exit_code"]) for error in refused] == [(1, 2), (3, 2), (4, 2)]
    assert "not JSON" in refused[0]["error"] and "empty" in refused[2]["error"]
    assert "Echo: System: Be brief." in answered["answer"]  # the system line counted
    assert result.code == 2


async def test_a_program_can_wait_for_each_answer_before_it_writes_the_next(
    site_url: str,
) -> None:
    process = await asyncio.create_subprocess_exec(
        *CLI, "chat", "--url", site_url, "--jsonl",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=ENV,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(b'"what is two and two?"\n')
        await process.stdin.drain()
        first = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
        assert "Echo: what is two and two?" in first["answer"]
        follow_up = json.dumps(f"you said: {first['answer'][:40]}")
        process.stdin.write(follow_up.encode() + b"\n")
        process.stdin.close()
        second = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
        assert turns(second["answer"]) == 2
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_jsonl_takes_no_message_argument(site_url: str) -> None:
    result = await run_cli("chat", "--url", site_url, "--jsonl", "hello")

    assert result.code == 2 and "--jsonl reads the messages from stdin" in result.err


async def test_the_json_answer_says_when_the_history_was_shortened() -> None:
    """Plugin 1.7 after a long answer: the next turn goes flattened, shortened, and says so."""
    async with LocalSite(SiteConfig(generation="1.7")) as url:
        script = json.dumps("remember teal " + "and more words " * 1000) + '\n"which colour?"\n'
        result = await run_cli("chat", "--url", url, "--jsonl", stdin=script)

    assert result.code == 0, result.err
    first, second = lines(result.out)
    assert first["history"] is None
    history = second["history"]
    assert (history["dropped"], history["shortened"], history["budget"]) == (0, 2, 12_000)
    assert history["removed_chars"] > 0 and "shortened in the middle" in history["message"]
    assert "Echo: User: remember teal and more words" in second["answer"]
