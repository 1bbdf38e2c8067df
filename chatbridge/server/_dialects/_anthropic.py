"""The Messages door (``POST /v1/messages``, Anthropic's Messages API as the ``anthropic``
SDK and Claude Code send it; the key in ``x-api-key`` or ``Authorization: Bearer``, the
``anthropic-version`` header accepted): the request is read into one chat call
(``_anthropic_input``), the answer rendered as a ``message`` object or its event stream
(``_anthropic_events``), errors in Anthropic's shape (``_anthropic_objects``).

Beside it: ``POST /v1/messages/count_tokens`` (an estimate, see :func:`count_tokens`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic_core import to_json

from ..._client._models import ChatCompletion
from .._request import ChatRequest, bad, check_messages, read_flag, read_object
from .._state import STATE, State
from ._anthropic_events import MessagesEvents
from ._anthropic_input import (
    anthropic_messages,
    anthropic_tool_choice,
    anthropic_tools,
    system_text,
)
from ._anthropic_objects import blocks, extension, message_object, new_message_id

__all__ = ["MESSAGES", "MessagesExchange", "count_tokens"]

_NUMBERS = ("temperature", "top_p")


def _options(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    max_tokens = data.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise bad("'max_tokens' is required: a whole number > 0", "max_tokens")
    options: dict[str, Any] = {"max_tokens": max_tokens}
    for name in _NUMBERS:
        value = data.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise bad(f"'{name}' must be a number", name)
        if value is not None:
            options[name] = value
    stops = data.get("stop_sequences")
    if stops is not None:
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise bad("'stop_sequences' must be a list of strings", "stop_sequences")
        options["stop"] = stops
    tools, ignored = anthropic_tools(data.get("tools"))
    if tools:
        options["tools"] = tools
        choice, parallel = anthropic_tool_choice(data.get("tool_choice"))
        if choice is not None:
            options["tool_choice"] = choice
        if parallel is not None:
            options["parallel_tool_calls"] = parallel
    return options, ignored


def _conversation(data: dict[str, Any]) -> list[dict[str, Any]]:
    messages = anthropic_messages(data.get("messages"))
    system = system_text(data.get("system"))
    return [{"role": "system", "content": system}, *messages] if system else messages


@dataclass(slots=True)
class MessagesExchange:
    call: ChatRequest
    ignored_tools: list[str]
    ident: str = field(default_factory=new_message_id)

    async def whole(self, completion: ChatCompletion) -> bytes:
        message = completion.choices[0].message
        body = message_object(
            self.ident,
            completion.model,
            blocks(message.content, message.tool_calls),
            completion.choices[0].finish_reason,
            completion.usage,
            extension(completion.chatbridge, completion.usage, self.ignored_tools),
        )
        return to_json(body)

    def events(self) -> MessagesEvents:
        return MessagesEvents(self.ident, self.ignored_tools)


class _MessagesDoor:
    endpoint = "messages"

    async def read(self, request: web.Request, body: bytes, state: State) -> MessagesExchange:
        data = read_object(body)
        options, ignored = _options(data)
        call = ChatRequest(
            model=data["model"],
            messages=check_messages(_conversation(data), state.settings),
            stream=read_flag(data, "stream"),
            include_usage=True,
            options=options,
        )
        return MessagesExchange(call, ignored)


MESSAGES = _MessagesDoor()


async def count_tokens(request: web.Request) -> web.Response:
    """``POST /v1/messages/count_tokens``: the request is read and checked as a message
    would be; the answer is an *estimate* (characters / 4, rounded up), as the endpoint's own
    purpose is to plan a request. The ``chatbridge`` field says it is one: no target of
    chatbridge counts tokens before it answers."""
    state = request.app[STATE]
    data = read_object(await request.read())
    messages = check_messages(_conversation(data), state.settings)
    text = json.dumps(messages, ensure_ascii=False) + json.dumps(data.get("tools") or [])
    estimate = -(-len(text) // 4)
    return web.json_response({"input_tokens": estimate, "chatbridge": {"estimated": True}})
