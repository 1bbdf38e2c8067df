"""The Responses door (``POST /v1/responses``, OpenAI's Responses API as the ``openai``
SDK's ``client.responses.create`` and ``.stream`` send it): the request is read into one chat
call (``_responses_input``), the answer rendered as a ``response`` object
(``_responses_objects``) or its event stream (``_responses_events``).

``previous_response_id`` continues a stored response: the target gets the stored
conversation plus the new input (``instructions`` are the request's own, never carried over,
as OpenAI does). With ``store`` (default true) the answer is stored for the server's
``responses_ttl`` under the key that asked (``_stored``); an unknown, expired or other key's
id is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic_core import to_json

from ..._client._models import ChatCompletion
from .._auth import OWNER
from .._errors import ApiError
from .._request import ChatRequest, bad, check_messages, read_flag, read_object
from .._settings import ServerSettings
from .._state import State
from . import _responses_input as read
from ._responses_events import ResponsesEvents
from ._responses_objects import (
    Echo,
    new_id,
    now,
    output_items,
    response_object,
    status_of,
    usage_of,
)
from ._stored import recall, remember

__all__ = ["RESPONSES", "ResponsesExchange"]

#: Fields passed on to the targets, renamed to the chat API's.
_NUMBERS = {"temperature": "temperature", "top_p": "top_p", "max_output_tokens": "max_tokens"}


def _number(data: dict[str, Any], name: str) -> Any:
    value = data.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise bad(f"'{name}' must be a number", name)
    if name == "max_output_tokens" and value is not None and (value < 1 or value != int(value)):
        raise bad("'max_output_tokens' must be a whole number > 0", name)
    return value


def _text_or_none(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise bad(f"'{name}' must be a string", name)
    return value


def _metadata(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > 16:
        raise bad("'metadata' must be an object of at most 16 keys", "metadata")
    return value


def _options(data: dict[str, Any], echo: Echo, tools: list[Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for name, sent in _NUMBERS.items():
        value = _number(data, name)
        if value is not None:
            options[sent] = value
    if tools:
        options["tools"] = tools
    if echo.tool_choice is not None and tools:
        options["tool_choice"] = read.tool_choice(echo.tool_choice)
    if data.get("parallel_tool_calls") is not None and tools:
        options["parallel_tool_calls"] = echo.parallel_tool_calls
    if echo.user:
        options["user"] = echo.user
    return options


def _echo(data: dict[str, Any], settings: ServerSettings) -> Echo:
    echo = Echo(model=data["model"])
    echo.instructions = _text_or_none(data, "instructions")
    echo.previous_response_id = _text_or_none(data, "previous_response_id")
    echo.user = _text_or_none(data, "user")
    echo.max_output_tokens = _number(data, "max_output_tokens")
    echo.temperature, echo.top_p = _number(data, "temperature"), _number(data, "top_p")
    echo.parallel_tool_calls = read_flag(data, "parallel_tool_calls", True)
    echo.tool_choice = data.get("tool_choice") or "auto"
    echo.tools = [t for t in data.get("tools") or () if isinstance(t, dict)]
    echo.metadata = _metadata(data.get("metadata"))
    echo.store = read_flag(data, "store", True) and settings.responses_ttl > 0
    return echo


async def _earlier(request: web.Request, echo: Echo) -> list[dict[str, Any]]:
    """The stored conversation ``previous_response_id`` continues (none without one)."""
    ident = echo.previous_response_id
    if ident is None:
        return []
    stored = await recall(ident, request.get(OWNER, ""))
    if stored is None:
        raise ApiError(
            404,
            f"Previous response with id '{ident}' not found.",
            "invalid_request_error",
            "previous_response_not_found",
            "previous_response_id",
        )
    return stored.conversation


@dataclass(slots=True)
class ResponsesExchange:
    call: ChatRequest
    echo: Echo
    #: The conversation so far without the instructions: what a stored answer continues.
    conversation: list[dict[str, Any]]
    owner: str
    ttl: float
    ident: str = field(default_factory=lambda: new_id("resp"))
    created: int = field(default_factory=now)

    async def whole(self, completion: ChatCompletion) -> bytes:
        message = completion.choices[0].message
        status, incomplete = status_of(completion.choices[0].finish_reason)
        response = response_object(
            self.ident,
            self.created,
            self.echo,
            model=completion.model,
            status=status,
            output=output_items(message.content, message.tool_calls),
            usage=usage_of(completion.usage),
            info=completion.chatbridge,
            incomplete=incomplete,
        )
        return await self.keep(response, message.content, message.tool_calls)

    def events(self) -> ResponsesEvents:
        return ResponsesEvents(self)

    async def keep(self, response: dict[str, Any], text: str | None, calls: Any) -> bytes:
        """Store the answer (when asked to), with the conversation it ends; the response,
        encoded (once: the stored value holds the same bytes)."""
        encoded = to_json(response)
        if not self.echo.store:
            return encoded
        answer: dict[str, Any] = {"role": "assistant", "content": text or None}
        if calls:
            answer["tool_calls"] = [call.model_dump() for call in calls]
        conversation = [*self.conversation, answer]
        if await remember(self.ident, self.owner, encoded, conversation, self.ttl):
            return encoded
        response["store"] = False  # too large to keep: the object says so
        return to_json(response)


class _ResponsesDoor:
    endpoint = "responses"

    async def read(self, request: web.Request, body: bytes, state: State) -> ResponsesExchange:
        data = read_object(body)
        settings = state.settings
        echo = _echo(data, settings)
        if "input" not in data and echo.previous_response_id is None:
            raise bad("'input' is required", "input")
        tools, echo.ignored_tools = read.tools(data.get("tools"))
        options = _options(data, echo, tools)
        new = read.input_messages(data.get("input", []))
        conversation = [*await _earlier(request, echo), *new]
        messages = conversation
        if echo.instructions:
            messages = [{"role": "system", "content": echo.instructions}, *conversation]
        if not messages:
            raise bad("'input' must hold at least one item", "input")
        call = ChatRequest(
            model=echo.model,
            messages=check_messages(messages, settings),
            stream=read_flag(data, "stream"),
            include_usage=True,
            options=options,
        )
        owner = request.get(OWNER, "")
        return ResponsesExchange(call, echo, conversation, owner, settings.responses_ttl)


RESPONSES = _ResponsesDoor()
