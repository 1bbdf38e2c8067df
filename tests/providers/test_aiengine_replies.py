"""Interpreting AI Engine replies (docs/protocol-ai-engine.md, "Replies" and "Failures a
client meets"): pure, on plain strings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chatbridge import (
    ChallengeError,
    ChatbridgeError,
    ContentFilterError,
    EmptyResponseError,
    PluginError,
    RateLimitError,
    ResponseError,
    ResponseStatusError,
    TruncatedStreamError,
    UpstreamError,
    Usage,
)
from chatbridge._aiengine._exchange import tail_of
from chatbridge._aiengine._replies import (
    FrameStream,
    NonceRefused,
    RouteGone,
    refusal,
    rest_error,
    usage_of,
    whole_reply,
)
from chatbridge._http._decoders import ServerSentEvent

FINAL: dict[str, Any] = {
    "success": True,
    "reply": "Hello there",
    "images": None,
    "usage": {
        "prompt_tokens": 12,
        "completion_tokens": 4,
        "total_tokens": 16,
        "accuracy": "tokens",
    },
    "responseId": "resp_1",
}


def frame(**data: Any) -> ServerSentEvent:
    return ServerSentEvent(json.dumps(data))


def end(final: dict[str, Any] = FINAL) -> ServerSentEvent:
    return frame(type="end", data=json.dumps(final))


def run(events: list[ServerSentEvent]) -> tuple[list[str], FrameStream]:
    parser = FrameStream()
    texts = [parser.feed(event) for event in events]
    return [t for t in texts if t], parser


def test_only_content_frames_are_the_answer() -> None:
    texts, parser = run(
        [
            frame(type="live", data="Generating response...", subtype="status"),
            frame(type="live", data="Hello"),
            frame(type="live", data="Let me think.", subtype="thinking"),
            frame(type="live", data=" there", subtype="content"),
            frame(type="live", data="Calling function: x", subtype="tool_call"),
            frame(type="live", data="{...}", subtype="debug"),
            frame(type="live", data={"not": "text"}),
            end(),
        ]
    )
    assert texts == ["Hello", " there"]
    final = parser.finish()
    assert final.reply == "Hello there"
    assert final.usage == Usage(12, 4, 16)


def test_the_end_frame_data_may_already_be_an_object_and_carries_new_token() -> None:
    _, parser = run(
        [
            frame(type="live", data="Hello there"),
            frame(type="end", data={**FINAL, "new_token": "abcdef0123"}),
        ]
    )
    assert parser.finish().new_token == "abcdef0123"


def test_a_stream_without_its_end_frame_was_cut() -> None:
    _, parser = run([frame(type="live", data="Half an ans")])
    with pytest.raises(TruncatedStreamError, match="The reply was cut off") as info:
        parser.finish()
    assert info.value.partial == "Half an ans"


def test_an_end_frame_that_does_not_decode_is_a_response_error() -> None:
    with pytest.raises(ResponseError, match="end frame"):
        run([frame(type="end", data="{not json")])


def test_an_empty_answer_is_an_empty_response() -> None:
    _, parser = run([end({**FINAL, "reply": " "})])
    with pytest.raises(EmptyResponseError):
        parser.finish()


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (
            {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5, "accuracy": "full"},
            Usage(3, 2, 5),
        ),
        (
            {
                "prompt_tokens": 3,
                "completion_tokens": 2,
                "total_tokens": 5,
                "accuracy": "estimated",
            },
            None,
        ),
        ({"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}, None),  # G2: not said
        (
            {"prompt_tokens": "3", "completion_tokens": 2, "total_tokens": 5, "accuracy": "tokens"},
            None,
        ),
        (
            {
                "prompt_tokens": True,
                "completion_tokens": 2,
                "total_tokens": 5,
                "accuracy": "tokens",
            },
            None,
        ),
        (None, None),
    ],
)
def test_usage_only_when_the_site_says_its_counts_are_real(
    usage: Any, expected: Usage | None
) -> None:
    assert usage_of(usage) == expected


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("Your query has been rejected.", ContentFilterError),  # banned word (or IP)
        ("Sorry, your message has been rejected by moderation.", ContentFilterError),
        ("You have reached the limit (check the Insights Tab > Limits > Guests).", RateLimitError),
        ("Our chatbot went to sleep. Please try again later.", RateLimitError),
        ("OpenAI (Responses API): Error: You exceeded your current quota.", UpstreamError),
        ("From OpenAI: Error: The server had an error.", UpstreamError),
        ("Sorry, your query has been rejected.", PluginError),
        ("Oops! Something went wrong on the server.", PluginError),
        ("", PluginError),
    ],
)
def test_refusals_map_to_the_error_tree(message: str, error: type[ChatbridgeError]) -> None:
    with pytest.raises(error):
        run([frame(type="live", data="partial"), frame(type="error", data=message)])
    assert type(refusal(message)) is error


def test_an_ip_ban_and_a_banned_word_say_the_same_and_the_error_says_so() -> None:
    error = refusal("Your query has been rejected.")
    assert isinstance(error, ContentFilterError) and error.code == "content_filter"
    assert "banned word" in error.message and "banned IP" in error.message


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (
            401,
            '{"code":"rest_forbidden","message":"Sorry, you are not allowed to do that."}',
            NonceRefused,
        ),
        (403, '{"code":"rest_cookie_invalid_nonce","message":"Cookie check failed"}', NonceRefused),
        (404, '{"code":"rest_no_route","message":"No route was found"}', RouteGone),
        (403, '{"success":false,"message":"Sorry, your query has been rejected."}', PluginError),
        (500, '{"success":false,"message":"You have reached the limit."}', RateLimitError),
        (500, '{"success":false,"message":"Your query has been rejected."}', ContentFilterError),
        (500, '{"code":"internal_server_error","message":"critical error"}', ResponseStatusError),
        (403, "<html><title>Just a moment...</title></html>", ChallengeError),
        (503, "<!DOCTYPE html><html>Briefly unavailable</html>", ResponseStatusError),
    ],
)
def test_rest_failures_map_to_the_error_tree(
    status: int, body: str, error: type[ChatbridgeError]
) -> None:
    found = rest_error(status, {}, body, url="https://site.example/wp-json/x")
    assert type(found) is error and found.status == status
    assert rest_error(200, {}, body) is None


def test_a_refused_nonce_is_a_signal_and_a_nonce_error() -> None:
    assert issubclass(NonceRefused, chatbridge_nonce_error())


def chatbridge_nonce_error() -> type[ChatbridgeError]:
    from chatbridge import NonceError

    return NonceError


def test_whole_replies() -> None:
    assert whole_reply(json.dumps(FINAL)).reply == "Hello there"
    warned = "<br />\n<b>Warning</b>: Undefined variable in x.php<br />\n" + json.dumps(FINAL)
    assert whole_reply(warned).reply == "Hello there"  # a PHP warning before the JSON
    framed = 'data: {"type":"error","data":"Sorry, your query has been rejected."}\n\n'
    with pytest.raises(PluginError, match="rejected"):  # frames labelled as JSON
        whole_reply(framed)
    with pytest.raises(TruncatedStreamError, match="cut off"):
        whole_reply(json.dumps(FINAL)[:30])
    with pytest.raises(EmptyResponseError):
        whole_reply("")
    with pytest.raises(ResponseError, match="not JSON"):
        whole_reply("<html>a page</html>")
    with pytest.raises(RateLimitError):
        whole_reply('{"success":false,"message":"You have reached the limit."}')
    with pytest.raises(ResponseError, match="'reply' field missing"):
        whole_reply('{"success":true}')


@pytest.mark.parametrize(
    ("streamed", "reply", "tail"),
    [
        ("Hello", "Hello", ""),
        ("Hello", "Hello there", " there"),  # a filter appended: the rest is handed over
        ("", "Hello", "Hello"),  # nothing streamed: the whole reply
        ("Hello\n", "Hello", ""),  # only whitespace differs
        ("Hello there", "Hi there", None),  # rewritten: the streamed text stands
        ("Hello there", "", ""),
    ],
)
def test_what_the_end_reply_adds_to_the_stream(streamed: str, reply: str, tail: str | None) -> None:
    assert tail_of(streamed, reply) == tail


@pytest.mark.parametrize(
    ("lines", "session"),
    [
        (["mwai_session_id=64f0a1b2c3d4e; path=/; HttpOnly"], "64f0a1b2c3d4e"),
        (["PHPSESSID=abc; path=/", "mwai_session_id = 65a0 ; Secure"], "65a0"),
        (["mwai_session_id=\"quoted\"; path=/"], None),  # not a token: not kept
        (["mwai_session_id=" + "x" * 200], None),
        (["other=1"], None),
        ([], None),
    ],
)
def test_a_conversation_keeps_the_site_session_its_first_reply_sets(
    lines: list[str], session: str | None
) -> None:
    from chatbridge._aiengine._thread import Thread, session_cookie

    assert session_cookie(lines) == session
    thread = Thread()
    thread.adopt_session(lines)
    thread.adopt_session(["mwai_session_id=later"])  # only the first one is kept
    assert thread.session == (session or "later")
