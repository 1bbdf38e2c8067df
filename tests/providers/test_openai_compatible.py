"""OpenAICompatible against the real fake upstream (chatbridge.upstream), fault by fault."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from aiohttp import web

from chatbridge import (
    ChatbridgeError,
    ContentFilterError,
    ContextLengthError,
    FinishReason,
    InvalidRequestError,
    MissingAuthError,
    MissingSiteError,
    ModelNotSupportedError,
    OpenAICompatible,
    RateLimitError,
    RequestTimeoutError,
    ResponseError,
    ResponseStatusError,
    TransportError,
    TruncatedStreamError,
    Usage,
)
from chatbridge._constants import MAX_RETRY_AFTER
from chatbridge._providers import openai_compatible
from chatbridge.upstream import Behaviour, LocalUpstream, expected_answer
from chatbridge.upstream._answer import prompt_tokens
from tests.conftest import local_proxy

Start = Callable[..., Awaitable[tuple[LocalUpstream, str]]]
MODEL = "fake-model"
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Name a few trees."},
]
FULL = expected_answer(MESSAGES)
KEY = "sk-test-Zq81xVb27Lp0"


async def collect(base_url: str, messages: Any = MESSAGES, **options: Any) -> list[Any]:
    stream = OpenAICompatible.create_async_generator(MODEL, messages, base_url=base_url, **options)
    return [chunk async for chunk in stream]


def texts(chunks: list[Any]) -> str:
    return "".join(chunk for chunk in chunks if isinstance(chunk, str))


async def failure(base_url: str, messages: Any = MESSAGES, **options: Any) -> ChatbridgeError:
    with pytest.raises(ChatbridgeError) as caught:
        await collect(base_url, messages, **options)
    return caught.value


# --- the happy paths ---------------------------------------------------------------------


async def test_streams_the_answer_then_finish_reason_then_usage(local_upstream: Start) -> None:
    upstream, url = await local_upstream()

    chunks = await collect(url)

    usage = Usage(prompt_tokens(MESSAGES), len(FULL), prompt_tokens(MESSAGES) + len(FULL))
    assert chunks == [*FULL, FinishReason("stop"), usage]
    record = upstream.stats.recent[-1]
    assert record.stream and record.options["stream_options"] == {"include_usage": True}
    assert record.roles == ["system", "user"] and record.model == MODEL
    assert upstream.stats.completed == 1 and upstream.stats.active == 0


async def test_not_streamed_yields_the_whole_answer_then_finish_then_usage(
    local_upstream: Start,
) -> None:
    upstream, url = await local_upstream()

    chunks = await collect(url, stream=False)

    assert chunks[0] == "".join(FULL)
    prompt = prompt_tokens(MESSAGES)
    assert chunks[1:] == [FinishReason("stop"), Usage(prompt, len(FULL), prompt + len(FULL))]
    record = upstream.stats.recent[-1]
    assert not record.stream and "stream_options" not in record.options


@pytest.mark.parametrize("stream", [True, False])
async def test_usage_only_when_the_upstream_reports_it(local_upstream: Start, stream: bool) -> None:
    _, url = await local_upstream(usage=False)

    chunks = await collect(url, stream=stream)

    assert texts(chunks) == "".join(FULL)
    assert chunks[-1] == FinishReason("stop")
    assert not any(isinstance(chunk, Usage) for chunk in chunks)


async def test_base_url_with_or_without_slash_or_endpoint(local_upstream: Start) -> None:
    upstream, url = await local_upstream()

    for base in (url, url + "/", url + "/chat/completions"):
        assert texts(await collect(base)) == "".join(FULL)
    assert upstream.stats.completed == 3


async def test_create_async_and_the_sync_call_keep_only_text(local_upstream: Start) -> None:
    _, url = await local_upstream()

    answer = await OpenAICompatible.create_async(MODEL, MESSAGES, base_url=url)
    pieces = await asyncio.to_thread(
        lambda: list(OpenAICompatible.create_completion(MODEL, MESSAGES, base_url=url))
    )

    assert answer == "".join(FULL)
    assert pieces == ["".join(FULL)]


async def test_through_an_http_proxy(local_upstream: Start) -> None:
    _, url = await local_upstream()

    async with local_proxy() as (proxy, seen):
        answer = await OpenAICompatible.create_async(MODEL, MESSAGES, base_url=url, proxy=proxy)

    assert answer == "".join(FULL)
    assert seen == [url + "/chat/completions"]


async def test_a_subclass_may_name_its_endpoint(local_upstream: Start) -> None:
    _, url = await local_upstream()

    class Local(OpenAICompatible):
        url = None

    Local.url = url
    assert await Local.create_async(MODEL, MESSAGES) == "".join(FULL)


def test_class_attributes() -> None:
    described = OpenAICompatible.describe()

    assert described["working"] is True and described["needs_auth"] is False
    assert described["supports_stream"] and described["supports_system_message"]
    assert described["supports_message_history"]
    assert described["models"] == [] and described["url"] is None
    assert OpenAICompatible.get_model("any-name") == "any-name"
    assert OpenAICompatible.retryable_statuses == {500, 502, 503}
    assert "base_url" in OpenAICompatible.params and "api_key" in OpenAICompatible.params


async def test_missing_base_url_or_model_is_a_typed_value_error() -> None:
    with pytest.raises(MissingSiteError, match="base_url") as missing:
        await collect("")
    with pytest.raises(ModelNotSupportedError, match="No model given") as no_model:
        await OpenAICompatible.create_async("", MESSAGES, base_url="http://127.0.0.1:9/v1")
    assert isinstance(missing.value, ValueError) and isinstance(no_model.value, ValueError)


async def test_empty_messages_and_n_other_than_one_are_refused_before_sending(
    local_upstream: Start,
) -> None:
    upstream, url = await local_upstream()

    with pytest.raises(InvalidRequestError, match="messages"):
        await collect(url, [])
    with pytest.raises(InvalidRequestError) as n:
        await collect(url, n=2)

    assert n.value.param == "n" and n.value.provider == "OpenAICompatible"
    with pytest.raises(InvalidRequestError, match="cannot be encoded"):
        await collect(url, [{"role": "user", "content": object()}])
    assert upstream.stats.requests == 0


# --- what is sent ------------------------------------------------------------------------


async def test_options_are_passed_through_and_unknown_ones_ignored(local_upstream: Start) -> None:
    upstream, url = await local_upstream()
    options = {
        "temperature": 0.2,
        "top_p": 0.9,
        "max_tokens": 4,
        "stop": ["\n\n"],
        "presence_penalty": 0.1,
        "frequency_penalty": 0.3,
        "seed": 7,
        "user": "tester",
        "response_format": {"type": "text"},
        # Tools go through as given (they were once dropped: an answer made without them).
        "tools": [{"type": "function", "function": {"name": "get_time"}}],
        "tool_choice": "none",
        "parallel_tool_calls": False,
    }

    chunks = await collect(url, **options, max_completion_tokens=None, cookies={})

    sent = upstream.stats.recent[-1].options
    assert {name: sent[name] for name in options} == options
    assert "max_completion_tokens" not in sent and "cookies" not in sent
    assert chunks[:5] == [*FULL[:4], FinishReason("length")]  # the upstream honoured max_tokens


async def test_messages_go_as_given_list_contents_included(local_upstream: Start) -> None:
    upstream, url = await local_upstream()
    messages = [{"role": "user", "content": [{"type": "text", "text": "Name a few trees."}]}]

    chunks = await collect(url, messages)

    assert texts(chunks) == "".join(expected_answer(messages))
    assert expected_answer(messages) == FULL  # the same text, as parts
    assert upstream.stats.recent[-1].roles == ["user"]


async def test_prefill_continuation_yields_only_the_remainder(local_upstream: Start) -> None:
    upstream, url = await local_upstream()
    for cut in (5, len("".join(FULL[:5])) + 2):  # on a token boundary, then mid-token
        prefix = "".join(FULL)[:cut]
        messages = [*MESSAGES, {"role": "assistant", "content": prefix}]

        rest = texts(await collect(url, messages))

        assert prefix + rest == "".join(FULL)
        assert not rest.startswith(prefix[:3])  # no repeated prefix
    assert all(record.prefill for record in upstream.stats.recent)


async def test_a_prefill_that_is_not_a_prefix_is_an_invalid_request(local_upstream: Start) -> None:
    _, url = await local_upstream()
    messages = [*MESSAGES, {"role": "assistant", "content": "Something else entirely"}]

    error = await failure(url, messages)

    assert type(error) is InvalidRequestError
    assert error.code == "invalid_prefill" and error.status == 400


async def test_without_continuation_a_prefill_is_ignored(local_upstream: Start) -> None:
    _, url = await local_upstream(continuation=False)
    messages = [*MESSAGES, {"role": "assistant", "content": "Anything"}]

    assert texts(await collect(url, messages)) == "".join(FULL)


async def test_reject_prefill_refuses_only_prefilled_requests(local_upstream: Start) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("reject_prefill"))
    prefilled = [*MESSAGES, {"role": "assistant", "content": FULL[0]}]

    error = await failure(url, prefilled)
    plain = await collect(url)

    assert type(error) is InvalidRequestError and error.code == "unsupported_prefill"
    assert texts(plain) == "".join(FULL)


# --- the API key -------------------------------------------------------------------------


async def test_api_key_is_sent_and_required(local_upstream: Start) -> None:
    upstream, url = await local_upstream(api_key=KEY)

    assert texts(await collect(url, api_key=KEY)) == "".join(FULL)
    missing = await failure(url)
    wrong = await failure(url, api_key=KEY + "-wrong")

    assert type(missing) is MissingAuthError and missing.status == 401
    assert type(wrong) is MissingAuthError and "Incorrect API key" in str(wrong)
    assert upstream.stats.recent[-1].authorization is True
    assert upstream.stats.rejected == 2


async def test_the_key_never_appears_in_errors_or_logs(
    local_upstream: Start, caplog: pytest.LogCaptureFixture
) -> None:
    upstream, url = await local_upstream(api_key=KEY)
    caplog.set_level(logging.DEBUG)
    errors = [await failure(url, api_key=KEY + "x")]  # the upstream echoes the key it got
    upstream.set_plan(
        [
            Behaviour("status", status=400, message=f"bad key {KEY}", code="x"),
            Behaviour("error_after", tokens=2, message=f"in-band {KEY}"),
        ]
    )
    errors.append(await failure(url, api_key=KEY))
    errors.append(await failure(url, api_key=KEY))

    for error in errors:
        seen = " ".join(
            [str(error), repr(error), error.message, error.body or "", *map(str, error.args)]
        )
        assert KEY not in seen and "***" in seen
    assert KEY not in caplog.text
    assert KEY not in json.dumps(upstream.stats.as_dict())
    assert KEY not in repr(OpenAICompatible) + OpenAICompatible.params


# --- HTTP errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        ("0.5", 0.5),
        ("99999999", MAX_RETRY_AFTER),
        ("soon", None),
        (None, None),
    ],
)
async def test_429_is_a_rate_limit_with_retry_after(
    local_upstream: Start, header: str | None, expected: float | None
) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(
        Behaviour("status", status=429, code="rate_limit_exceeded", retry_after=header)
    )

    error = await failure(url)

    assert type(error) is RateLimitError and error.status == 429
    assert error.retry_after == expected
    assert error.provider == "OpenAICompatible" and error.url == url + "/chat/completions"


async def test_retry_after_as_an_http_date(local_upstream: Start) -> None:
    upstream, url = await local_upstream()
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    upstream.set_plan(Behaviour("status", status=429, retry_after=when))

    error = await failure(url)

    assert isinstance(error, RateLimitError) and error.retry_after is not None
    assert 25 <= error.retry_after <= 31


@pytest.mark.parametrize("status", [401, 403])
async def test_401_and_403_need_auth(local_upstream: Start, status: int) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("status", status=status, message="no access"))

    error = await failure(url)

    assert type(error) is MissingAuthError and error.status == status
    assert "no access" in str(error)


async def test_context_length_by_code_and_by_message(local_upstream: Start) -> None:
    upstream, url = await local_upstream()
    vllm = (
        "This model's maximum context length is 2048 tokens. However, you requested "
        "3000 tokens (2000 in the messages, 1000 in the completion)."
    )
    upstream.set_plan(
        [
            Behaviour("context_length"),
            Behaviour("status", status=400, error_type="BadRequestError", message=vllm),
            Behaviour(
                "status",
                status=400,
                error_type="exceed_context_size_error",
                message="the request exceeds the available context size",
            ),
        ]
    )

    errors = [await failure(url) for _ in range(3)]

    assert all(type(error) is ContextLengthError for error in errors), errors
    assert errors[0].code == "context_length_exceeded" and errors[0].param == "messages"
    assert errors[1].message == vllm and errors[1].status == 400
    assert all(isinstance(error, InvalidRequestError) for error in errors)


@pytest.mark.parametrize("code", ["content_policy_violation", "content_filter"])
async def test_content_filter(local_upstream: Start, code: str) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(
        Behaviour("content_filter")
        if code == "content_policy_violation"
        else Behaviour("status", status=400, code=code, message="filtered")
    )

    error = await failure(url)

    assert type(error) is ContentFilterError and error.code == code and error.status == 400


@pytest.mark.parametrize("status", [400, 413, 422])
async def test_other_request_errors_keep_the_upstream_code_and_message(
    local_upstream: Start, status: int
) -> None:
    upstream, url = await local_upstream()
    message = "Invalid value for 'temperature': must be at most 2."
    upstream.set_plan(Behaviour("status", status=status, code="invalid_value", message=message))

    error = await failure(url)

    assert type(error) is InvalidRequestError and isinstance(error, ValueError)
    assert error.message == message and error.code == "invalid_value"
    assert error.status == status and error.body is not None and "temperature" in error.body


@pytest.mark.parametrize("status", [404, 500, 502, 503])
async def test_404_and_5xx_are_status_errors(local_upstream: Start, status: int) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("status", status=status, message="down for now"))

    error = await failure(url)

    assert type(error) is ResponseStatusError and error.status == status
    assert "down for now" in str(error) and f"HTTP {status}" in str(error)


async def test_time_window_plan_503_then_recovers(local_upstream: Start) -> None:
    now = [1000.0]
    upstream, url = await local_upstream(clock=lambda: now[0])
    upstream.set_plan(Behaviour("status", status=503), for_seconds=60)

    first = await failure(url)
    now[0] += 59.9
    second = await failure(url)
    now[0] += 0.2
    recovered = await collect(url)

    assert first.status == second.status == 503
    assert texts(recovered) == "".join(FULL)


# --- broken streams ----------------------------------------------------------------------


async def test_reset_before_headers_is_a_transport_error(local_upstream: Start) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("reset"))

    error = await failure(url)

    assert type(error) is TransportError
    assert upstream.stats.aborted == 1


async def test_cut_mid_stream_is_truncated_with_the_partial_text(local_upstream: Start) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("cut_after", tokens=3))
    seen: list[str] = []

    with pytest.raises(TruncatedStreamError) as caught:
        async for chunk in OpenAICompatible.create_async_generator(MODEL, MESSAGES, base_url=url):
            seen.append(chunk)

    assert caught.value.partial == "".join(FULL[:3]) == "".join(seen)
    assert isinstance(caught.value.__cause__, TransportError)
    assert caught.value.provider == "OpenAICompatible"


async def test_cut_before_any_text_is_a_transport_error(local_upstream: Start) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("cut_after", tokens=0))

    error = await failure(url)

    assert type(error) is TransportError


async def test_cut_after_the_finish_reason_is_complete(local_upstream: Start) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("cut_after", tokens=len(FULL)))

    chunks = await collect(url)

    assert chunks == [*FULL, FinishReason("stop")]  # no usage: it never came


async def test_no_done_sentinel_after_finish_reason_is_complete(local_upstream: Start) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("no_done"))

    chunks = await collect(url)

    assert texts(chunks) == "".join(FULL)
    assert chunks[-2] == FinishReason("stop") and isinstance(chunks[-1], Usage)


async def test_not_streamed_and_cut_is_a_transport_error(local_upstream: Start) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("cut_after", tokens=3))

    error = await failure(url, stream=False)

    assert isinstance(error, TransportError)


@pytest.mark.parametrize("at", [1, 3, 62])
async def test_an_invalid_json_event_is_a_typed_error(local_upstream: Start, at: int) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("malformed_at", at=at))

    error = await failure(url)

    assert type(error) is ResponseError
    assert f"event {at}" in str(error)


async def test_a_malformed_whole_reply_is_a_typed_error(local_upstream: Start) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("malformed_at"))

    error = await failure(url, stream=False)

    assert type(error) is ResponseError and "not JSON" in str(error)


@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [
        (Behaviour("error_after", tokens=2), ResponseStatusError),
        (Behaviour("error_after", tokens=2, code="rate_limit_exceeded"), RateLimitError),
        (Behaviour("error_after", tokens=0, code="context_length_exceeded"), ContextLengthError),
        (Behaviour("error_after", code="content_filter"), ContentFilterError),
        (Behaviour("error_after", error_type="invalid_request_error"), InvalidRequestError),
    ],
)
@pytest.mark.parametrize("stream", [True, False])
async def test_in_band_errors_map_like_http_ones(
    local_upstream: Start, behaviour: Behaviour, expected: type[Exception], stream: bool
) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(behaviour)

    error = await failure(url, stream=stream)

    assert type(error) is expected
    assert error.provider == "OpenAICompatible"


async def test_stalls_and_delays_within_the_deadline_still_complete(
    local_upstream: Start,
) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(
        [
            Behaviour("stall_after", tokens=4, seconds=0.15),
            Behaviour("first_token_delay", seconds=0.1),
            Behaviour("silent", seconds=0.1),
        ]
    )

    for _ in range(3):
        assert texts(await collect(url)) == "".join(FULL)
    assert upstream.stats.completed == 3


async def test_a_silent_upstream_times_out_and_sees_the_client_leave(
    local_upstream: Start,
) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("silent"))

    error = await failure(url, timeout=0.3)

    assert isinstance(error, RequestTimeoutError) and isinstance(error, TimeoutError)
    await wait_for(lambda: upstream.stats.disconnected == 1)
    assert upstream.stats.active == 0


async def test_the_read_gap_bounds_streams_but_not_a_whole_reply_being_generated(
    local_upstream: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openai_compatible, "OPENAI_READ_GAP", 0.15)
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("first_token_delay", seconds=0.4))

    whole = await collect(url, stream=False, timeout=5)
    error = await failure(url, timeout=5)

    assert texts(whole) == "".join(FULL)
    assert isinstance(error, RequestTimeoutError)


async def test_a_stall_past_the_deadline_is_truncated(local_upstream: Start) -> None:
    upstream, url = await local_upstream()
    upstream.set_plan(Behaviour("stall_after", tokens=2, seconds=5))

    error = await failure(url, timeout=0.3)

    assert isinstance(error, TruncatedStreamError)
    assert error.partial == "".join(FULL[:2])
    assert isinstance(error.__cause__, RequestTimeoutError)


async def test_a_consumer_that_stops_early_releases_the_connection(
    local_upstream: Start,
) -> None:
    upstream, url = await local_upstream(token_delay=0.02)
    stream = OpenAICompatible.create_async_generator(MODEL, MESSAGES, base_url=url)

    first = [await anext(stream), await anext(stream)]
    await stream.aclose()  # type: ignore[attr-defined]

    assert first == FULL[:2]
    await wait_for(lambda: upstream.stats.disconnected == 1)
    assert upstream.stats.active == 0 and upstream.stats.completed == 0
    assert upstream.stats.recent[-1].outcome == "disconnected"


# --- odd servers (plain aiohttp apps) ----------------------------------------------------


def sse_app(frames: list[bytes], *, hang: bool = False, content_type: str = "") -> web.Application:
    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        if content_type:
            return web.Response(body=b"".join(frames), content_type=content_type)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for frame in frames:
            await response.write(frame)
        for _ in range(3000 if hang else 0):  # silent until the client goes away
            if request.transport is None or request.transport.is_closing():
                break
            await asyncio.sleep(0.01)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    return app


def chunk(content: str | None = None, finish: str | None = None, **extra: Any) -> bytes:
    delta = {} if content is None else {"content": content}
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return f"data: {json.dumps({'choices': [choice], **extra})}\n\n".encode()


async def test_a_stream_that_ends_before_any_finish_reason_is_truncated(
    app_server: Callable[[web.Application], Any],
) -> None:
    async with app_server(sse_app([chunk("Hello"), chunk(" there")])) as base:
        error = await failure(base + "/v1")

    assert type(error) is TruncatedStreamError
    assert error.partial == "Hello there"


async def test_done_without_finish_reason_is_complete(
    app_server: Callable[[web.Application], Any],
) -> None:
    async with app_server(sse_app([chunk("Hi"), b": keep-alive\n\n", b"data: [DONE]\n\n"])) as base:
        chunks = await collect(base + "/v1")

    assert chunks == ["Hi"]


async def test_finish_then_silence_completes_after_a_short_grace(
    app_server: Callable[[web.Application], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openai_compatible, "OPENAI_FINISH_GRACE", 0.2)
    frames = [chunk("Hi"), chunk(finish="stop")]
    async with app_server(sse_app(frames, hang=True)) as base:
        started = time.perf_counter()
        chunks = await collect(base + "/v1")
        elapsed = time.perf_counter() - started

    assert chunks == ["Hi", FinishReason("stop")]
    assert elapsed < 2


async def test_usage_in_the_finish_chunk_and_an_ignored_stream_flag(
    app_server: Callable[[web.Application], Any],
) -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 2}
    frames = [chunk("A"), chunk("B", "stop", usage=usage), b"data: [DONE]\n\n"]
    whole = json.dumps(
        {"choices": [{"message": {"content": "AB"}, "finish_reason": "stop"}]}
    ).encode()
    async with app_server(sse_app(frames)) as streamed:
        chunks = await collect(streamed + "/v1")
    async with app_server(sse_app([whole], content_type="application/json")) as plain:
        ignored = await collect(plain + "/v1")  # asked to stream, answered whole

    assert chunks == ["A", "B", FinishReason("stop"), Usage(3, 2, 5)]
    assert ignored == ["AB", FinishReason("stop")]


async def test_unexpected_event_shapes_are_typed_errors(
    app_server: Callable[[web.Application], Any],
) -> None:
    for frames in ([b"data: [1, 2]\n\n"], [b'data: {"choices": ["x"]}\n\n']):
        async with app_server(sse_app(frames)) as base:
            error = await failure(base + "/v1")
        assert type(error) is ResponseError and "event 1" in str(error)


async def wait_for(condition: Callable[[], bool], seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
