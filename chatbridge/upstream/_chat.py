"""``POST /v1/chat/completions``: check the request, take the next behaviour, act it out."""

from __future__ import annotations

import asyncio
import hmac
import time
from dataclasses import dataclass, field

from aiohttp import web

from ..site._responder import split_words
from ._answer import continuation, expected_answer, prompt_tokens
from ._behaviour import Behaviour
from ._request import BadRequest, ChatRequest, parse_request
from ._state import UpstreamState
from ._stats import RequestRecord
from ._tools import Call, planned_calls
from ._wire import DONE, StreamFrames, completion_body, error_response

__all__ = ["chat_completions"]

#: "Never answer" lasts this long (seconds); the client gives up long before.
_FOREVER = 3600.0
_SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}


def _unauthorized(request: web.Request, key: str) -> web.Response | None:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), key.encode()):
        return None
    if not header:
        message = (
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        )
    else:
        # Deliberately worse than OpenAI (which masks it): the key sent comes back in full,
        # so tests can prove a client keeps it out of its own errors.
        message = f"Incorrect API key provided: {given.strip()}."
    return error_response(401, message, "invalid_request_error", "invalid_api_key")


async def chat_completions(state: UpstreamState, request: web.Request) -> web.StreamResponse:
    stats = state.stats
    stats.requests += 1
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        stats.rejected += 1
        return error_response(413, "The request body is too large.", code="request_too_large")
    key = state.config.api_key
    refusal = _unauthorized(request, key) if key is not None else None
    if refusal is not None:
        stats.rejected += 1
        return refusal
    try:
        chat = parse_request(raw)
    except BadRequest as bad:
        stats.rejected += 1
        return error_response(400, bad.message, param=bad.param, code=bad.code)
    behaviour = state.next_behaviour(chat.model)
    stats.by_kind[behaviour.kind] = stats.by_kind.get(behaviour.kind, 0) + 1
    stats.by_model[chat.model] = stats.by_model.get(chat.model, 0) + 1
    record = RequestRecord(
        time=time.time(),
        kind=behaviour.kind,
        model=chat.model,
        roles=[str(m["role"]) for m in chat.messages],
        prefill=chat.prefill is not None,
        stream=chat.stream,
        authorization="Authorization" in request.headers,
        options=chat.options,
    )
    stats.recent.append(record)
    stats.active += 1
    stats.most_active = max(stats.most_active, stats.active)
    try:
        response = await _act(state, request, chat, behaviour, record)
    except (asyncio.CancelledError, ConnectionError):
        if record.outcome == "active":
            record.outcome = "disconnected"
            stats.disconnected += 1
        raise
    finally:
        stats.active -= 1
    if record.outcome == "active":
        record.outcome = "completed"
        record.status = response.status
        stats.completed += 1
    return response


def _abort(request: web.Request, record: RequestRecord, state: UpstreamState) -> None:
    record.outcome = "aborted"
    state.stats.aborted += 1
    if request.transport is not None:
        request.transport.abort()


async def _act(
    state: UpstreamState,
    request: web.Request,
    chat: ChatRequest,
    behaviour: Behaviour,
    record: RequestRecord,
) -> web.StreamResponse:
    kind = behaviour.kind
    if kind == "reset":
        _abort(request, record, state)
        return web.Response(status=500)  # never sent: the connection is gone
    if kind == "status":
        headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else None
        return error_response(
            behaviour.status,
            behaviour.message or f"Scripted failure (HTTP {behaviour.status})",
            behaviour.error_type or _default_type(behaviour.status),
            behaviour.code,
            headers=headers,
        )
    if kind == "context_length":
        return error_response(
            400,
            behaviour.message
            or "This model's maximum context length is 4096 tokens. However, your messages "
            f"resulted in {prompt_tokens(chat.messages) + 4096} tokens. Please reduce the "
            "length of the messages.",
            "invalid_request_error",
            "context_length_exceeded",
            "messages",
        )
    if kind == "content_filter":
        return error_response(
            400,
            behaviour.message or "Your request was rejected as a result of our safety system.",
            "invalid_request_error",
            "content_policy_violation",
        )
    if kind == "reject_prefill" and chat.prefill is not None:
        return error_response(
            400,
            "This model does not support assistant message prefill: the last message must "
            "be a user message.",
            "invalid_request_error",
            "unsupported_prefill",
            f"messages[{len(chat.messages) - 1}]",
        )
    if kind == "silent":
        await asyncio.sleep(_FOREVER if behaviour.seconds is None else behaviour.seconds)
    calls = _calls(chat, behaviour)
    if calls:
        used = sum(len(call.fragments()) + 1 for call in calls)
        usage = (prompt_tokens(chat.messages), used) if state.config.usage else None
        answer = _Answer([], "tool_calls", usage, calls)
        if chat.stream:
            return await _stream(state, request, chat, behaviour, record, answer)
        return await _whole(state, request, chat, behaviour, record, answer)
    if kind == "reply":
        deltas = split_words(behaviour.message or "")
    else:
        deltas = expected_answer(chat.messages, state.config.answer_tokens)
    if chat.prefill is not None and state.config.continuation:
        rest = continuation(deltas, chat.prefill)
        if rest is None:
            return error_response(
                400,
                "The assistant prefill is not a prefix of this model's answer.",
                "invalid_request_error",
                "invalid_prefill",
                f"messages[{len(chat.messages) - 1}]",
            )
        deltas = rest
    reason = "stop"
    if chat.max_tokens is not None and len(deltas) > chat.max_tokens:
        deltas, reason = deltas[: chat.max_tokens], "length"
    reports = state.config.usage and chat.model not in state.config.models_without_usage
    usage = (prompt_tokens(chat.messages), len(deltas)) if reports else None
    answer = _Answer(deltas, reason, usage)
    if chat.stream:
        return await _stream(state, request, chat, behaviour, record, answer)
    return await _whole(state, request, chat, behaviour, record, answer)


@dataclass(frozen=True, slots=True)
class _Answer:
    """What the answer holds: text deltas, or tool calls."""

    deltas: list[str]
    reason: str
    usage: tuple[int, int] | None
    calls: list[Call] = field(default_factory=list)


def _calls(chat: ChatRequest, behaviour: Behaviour) -> list[Call]:
    if behaviour.kind == "tool_call":
        return planned_calls(
            chat.messages,
            chat.options,
            name=behaviour.tool,
            arguments=behaviour.arguments,
            count=max(behaviour.tokens, 1),
        )
    if behaviour.kind == "reply":
        return []
    return planned_calls(chat.messages, chat.options)


def _default_type(status: int) -> str:
    if status == 429:
        return "rate_limit_error"
    if status in (401, 403):
        return "authentication_error"
    return "server_error" if status >= 500 else "invalid_request_error"


async def _whole(
    state: UpstreamState,
    request: web.Request,
    chat: ChatRequest,
    behaviour: Behaviour,
    record: RequestRecord,
    answer: _Answer,
) -> web.StreamResponse:
    kind = behaviour.kind
    if kind in ("first_token_delay", "stall_after") and behaviour.seconds:
        await asyncio.sleep(behaviour.seconds)
    if kind == "error_after":
        return error_response(
            200,
            behaviour.message or "The server had an error while processing your request.",
            behaviour.error_type or "server_error",
            behaviour.code,
        )
    body = completion_body(
        state.next_id(),
        int(time.time()),
        chat.model,
        "".join(answer.deltas),
        answer.reason,
        answer.usage,
        answer.calls,
    )
    if kind == "malformed_at":
        body = body[: len(body) // 2]
    if kind != "cut_after":
        return web.Response(body=body, content_type="application/json")
    partial = web.StreamResponse(headers={"Content-Type": "application/json"})
    partial.content_length = len(body)
    await partial.prepare(request)
    await partial.write(body[: len(body) // 2])
    _abort(request, record, state)
    return partial


async def _stream(
    state: UpstreamState,
    request: web.Request,
    chat: ChatRequest,
    behaviour: Behaviour,
    record: RequestRecord,
    answer: _Answer,
) -> web.StreamResponse:
    kind = behaviour.kind
    frames = StreamFrames(state.next_id(), int(time.time()), chat.model)
    content = frames.calls(answer.calls) if answer.calls else frames.content(answer.deltas)
    events = [frames.role(), *content, frames.finish(answer.reason)]
    if answer.usage is not None and chat.include_usage:
        events.append(frames.usage(*answer.usage))
    events.append(DONE)
    pause_at, pause = -1, 0.0  # silence before event number pause_at (0-based)
    cut = False
    if kind == "first_token_delay":
        pause_at, pause = 0, behaviour.seconds or 0.0
    elif kind == "stall_after":
        pause_at, pause = 1 + behaviour.tokens, behaviour.seconds or 0.0
    elif kind == "cut_after":
        sent = 1 + behaviour.tokens if behaviour.tokens < len(content) else 2 + len(content)
        events, cut = events[:sent], True
    elif kind == "malformed_at":
        if behaviour.at <= len(events):
            events[behaviour.at - 1] = frames.malformed()
    elif kind == "no_done":
        events.pop()
    elif kind == "error_after":
        message = behaviour.message or "The server had an error while processing your request."
        error = frames.error(message, behaviour.error_type or "server_error", behaviour.code)
        events = [*events[: 1 + behaviour.tokens], error]
    response = web.StreamResponse(headers=_SSE_HEADERS)
    await response.prepare(request)
    delay = state.config.token_delay
    if delay or pause_at >= 0:
        for index, event in enumerate(events):
            if index == pause_at:
                await asyncio.sleep(pause)
            elif delay and 1 < index <= len(content):
                await asyncio.sleep(delay)
            await response.write(event)
    else:
        await response.write(b"".join(events))
    if cut:
        _abort(request, record, state)
        return response
    await response.write_eof()
    return response
