"""What a user's type checker sees of ``create``: exact types, no ``Any`` and no cast needed.

A user's snippet is checked with ``mypy --strict``: the types it asserts must hold, and an
assignment that only ``Any`` would let through must be refused.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from mypy import api

USER_CODE = """
from typing import assert_type

from chatbridge import AsyncClient, ChatCompletion, ChatCompletionChunk, Client
from chatbridge._client._client import AsyncChatStream
from chatbridge._client._sync_client import ChatStream

QUESTION = [{"role": "user", "content": "Hello"}]


async def asynchronous(client: AsyncClient) -> str | None:
    resp = await client.chat.completions.create(model="default", messages=QUESTION)
    assert_type(resp, ChatCompletion)
    stream = await client.chat.completions.create(model="default", messages=QUESTION, stream=True)
    assert_type(stream, AsyncChatStream)
    async for chunk in stream:
        assert_type(chunk, ChatCompletionChunk)
        delta: str | None = chunk.choices[0].delta.content
    return resp.choices[0].message.content


def synchronous(client: Client) -> str | None:
    resp = client.chat.completions.create(model="default", messages=QUESTION)
    assert_type(resp, ChatCompletion)
    for chunk in client.chat.completions.create(model="default", messages=QUESTION, stream=True):
        assert_type(chunk, ChatCompletionChunk)
    either = client.chat.completions.create(model="default", messages=QUESTION, stream=bool(1))
    assert_type(either, ChatCompletion | ChatStream)
    return resp.choices[0].message.content
"""

#: Passes only if ``content`` were ``Any``.
WRONG_CODE = """
from chatbridge import AsyncClient, Client

async def asynchronous(client: AsyncClient) -> int:
    resp = await client.chat.completions.create(model="default", messages=[])
    return resp.choices[0].message.content

def synchronous(client: Client) -> int:
    return client.chat.completions.create(model="default", messages=[]).choices[0].message.content
"""


def test_create_is_typed_exactly_for_both_clients(tmp_path: Path) -> None:
    (tmp_path / "user.py").write_text(textwrap.dedent(USER_CODE))
    (tmp_path / "wrong.py").write_text(textwrap.dedent(WRONG_CODE))
    files = [str(tmp_path / "user.py"), str(tmp_path / "wrong.py")]
    out, err, _ = api.run(["--strict", "--cache-dir", str(tmp_path / "cache"), *files])
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert not [line for line in errors if "user.py" in line], out + err
    wrong = 'Incompatible return value type (got "str | None", expected "int")'
    assert len(errors) == 2 and all("wrong.py" in e and wrong in e for e in errors), out + err
