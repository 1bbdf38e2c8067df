"""``python -m chatbridge.upstream``: a separate process a test scripts over HTTP."""

from __future__ import annotations

import asyncio
import sys

import aiohttp
import pytest

from chatbridge import OpenAICompatible, RateLimitError
from chatbridge.upstream import expected_answer

MESSAGES = [{"role": "user", "content": "hello"}]


async def test_serves_in_its_own_process_scripted_over_http() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "chatbridge.upstream",
        "--port",
        "0",
        "--api-key",
        "sk-cli",
        "--answer-tokens",
        "4",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode().strip()
        assert line.startswith("Serving on http://127.0.0.1:") and line.endswith("/v1")
        url = line.split()[-1]
        plan = [{"kind": "status", "status": 429, "retry_after": "3"}, {"kind": "ok"}]
        async with aiohttp.ClientSession() as http:
            async with http.post(url.removesuffix("/v1") + "/__upstream__/plan", json=plan) as r:
                assert r.status == 200

        with pytest.raises(RateLimitError) as limited:
            await OpenAICompatible.create_async("m", MESSAGES, base_url=url, api_key="sk-cli")
        answer = await OpenAICompatible.create_async("m", MESSAGES, base_url=url, api_key="sk-cli")

        assert limited.value.retry_after == 3.0
        assert answer == "".join(expected_answer(MESSAGES, tokens=4))
    finally:
        process.terminate()
        await process.wait()


@pytest.mark.parametrize(
    ("args", "expected"),
    [(["--port", "99999"], "must be 0 to 65535"), (["--answer-tokens", "0"], "answer_tokens")],
)
async def test_bad_arguments_exit_2_with_one_line(args: list[str], expected: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "chatbridge.upstream",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 20)

    assert process.returncode == 2
    assert expected in err.decode() and "Traceback" not in err.decode()
