"""Reply interpretation on plain data: every legacy JSON shape and stream rule (13–29, 44)."""

from __future__ import annotations

import pytest

from chatbridge import (
    BlockedError,
    EmptyResponseError,
    PluginError,
    RateLimitError,
    ResponseError,
    TruncatedStreamError,
    UpstreamError,
)
from chatbridge._aipower._replies import (
    AIPKitStream,
    CacheKeyExpired,
    LegacyStream,
    NonceRejected,
    interpret_legacy_json,
    is_nonce_failure_text,
)
from chatbridge._http._decoders import ServerSentEvent, SSEDecoder

CHUNK = (
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,'
    '"delta":{"content":"%s"}}]}\n\n'
)


def run_stream(parser: LegacyStream | AIPKitStream, body: str) -> tuple[str, str]:
    decoder = SSEDecoder()
    passed = ""
    for event in [*decoder.feed(body.encode()), *decoder.flush()]:
        passed += parser.feed(event)
        if parser.done:
            break
    return passed, parser.finish()


def test_success_json_reads_data_and_thread() -> None:
    body = (
        '{"status":"success","msg":"Something went wrong","greeting_message":"g",'
        '"data":"Paris","log":12,"thread_id":"thread_1"}'
    )
    assert interpret_legacy_json(body) == ("Paris", "thread_1")


def test_php_warning_before_json_is_skipped() -> None:
    body = '<br />\n<b>Warning</b>: Undefined variable $x<br />\n{"status":"success","data":"ok"}'
    assert interpret_legacy_json(body)[0] == "ok"


@pytest.mark.parametrize(
    ("body", "error", "text"),
    [
        (
            '{"msg":"You have reached your token limit.","tokenLimitReached":true}',
            RateLimitError,
            "token limit",
        ),
        ('{"status":"error","msg":"Nonce verification failed"}', NonceRejected, "Nonce"),
        ('{"status":"error","msg":"Invalid nonce. This means we are unable"}', NonceRejected, ""),
        (
            '{"status":"error","msg":"It appears that nothing was inputted."}',
            PluginError,
            "nothing",
        ),
        (
            '{"status":"error","msg":"You are not allowed to access this feature."}',
            BlockedError,
            "not allowed",
        ),
        (
            '{"status":"error","msg":"You exceeded your current quota, please check"}',
            UpstreamError,
            "quota",
        ),
        (
            '{"status":"error","msg":"Your message contains prohibited words. Please modify"}',
            PluginError,
            "prohibited",
        ),
        ('{"status":"error","msg":"Don&#039;t &amp; stop"}', PluginError, "Don't & stop"),
        ('{"status":"success","data":""}', EmptyResponseError, "empty"),
        ('{"status":"success"}', ResponseError, "'data' field missing"),
        ('{"foo":1}', ResponseError, "'data' field missing"),
        ("[1,2]", ResponseError, "not JSON"),
        ("<html>cache plugin page</html>", ResponseError, "not JSON"),
    ],
)
def test_legacy_json_failures(body: str, error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text or None):
        interpret_legacy_json(body)


def test_expired_link_text_is_a_nonce_failure_but_a_cloudflare_page_is_not() -> None:
    assert is_nonce_failure_text("The link you followed has expired.")
    assert is_nonce_failure_text(
        'The link you followed has expired.</p><p><a href="http://x/">Please try again.</a>'
    )
    assert not is_nonce_failure_text("<!DOCTYPE html><html>The link you followed has expired.")


def test_legacy_stream_success() -> None:
    body = CHUNK % "Hel" + CHUNK % "lo" + "data: [DONE]\n\n"
    assert run_stream(LegacyStream(), body) == ("Hello", "Hello")


def test_legacy_completion_model_text_field() -> None:
    body = (
        'data: {"id":"c","object":"text_completion","choices":[{"text":"old"}]}\n\ndata: [DONE]\n\n'
    )
    assert run_stream(LegacyStream(), body)[1] == "old"


def test_word_split_error_stream_is_an_error_not_an_answer() -> None:
    words = ["You", " exceeded", " your", " quota"]
    body = (
        "".join(
            f'event: message\ndata: {{"choices":[{{"delta":{{"content":"{w}"}}}}]}}\n\n'
            for w in words
        )
        + 'data: {"choices":[{"finish_reason":"stop"}]}\n\n'
    )
    with pytest.raises(UpstreamError, match="You exceeded your quota"):
        run_stream(LegacyStream(), body * 2)  # sent twice on 1.9.18: stop at the first


def test_unescaped_quote_in_error_words_still_read() -> None:
    body = (
        "event: message\n"
        'data: {"choices":[{"delta":{"content":"The model "gpt-9" does not exist"}}]}\n\n'
        'data: {"choices":[{"finish_reason":"stop"}]}\n\n'
    )
    with pytest.raises(UpstreamError, match="gpt-9"):
        run_stream(LegacyStream(), body)


def test_flag_event_stops_reading_even_if_an_answer_follows() -> None:
    body = (
        'data: {"msg":"You are banned","ipBanned":true}\n\n' + CHUNK % "answer" + "data: [DONE]\n\n"
    )
    parser = LegacyStream()
    with pytest.raises(BlockedError, match="banned"):
        run_stream(parser, body)
    assert parser.text == ""
    flagged = 'data: {"msg":"Your message contains prohibited words.","messageFlagged":true}\n\n'
    with pytest.raises(PluginError, match="prohibited"):
        run_stream(LegacyStream(), flagged + CHUNK % "answer")


def test_token_limit_flag_is_a_rate_limit() -> None:
    with pytest.raises(RateLimitError):
        run_stream(LegacyStream(), 'data: {"msg":"limit","tokenLimitReached":true}\n\n')


def test_limited_marker_ends_an_exception_message() -> None:
    body = 'event: message\ndata: {"choices":[{"delta":{"content":"boom"}}]}\n\ndata: [LIMITED]\n\n'
    with pytest.raises(PluginError, match="boom"):
        run_stream(LegacyStream(), body)


def test_error_object_in_stream() -> None:
    with pytest.raises(UpstreamError, match="bad key"):
        run_stream(LegacyStream(), 'data: {"error":{"message":"bad key"}}\n\n')


def test_truncated_stream_keeps_partial_text() -> None:
    with pytest.raises(TruncatedStreamError) as caught:
        run_stream(LegacyStream(), CHUNK % "Half an ans")
    assert caught.value.partial == "Half an ans"


def test_assistants_stream() -> None:
    body = (
        "event: thread_id\ndata: thread_9\n\n"
        'event: thread.message.delta\ndata: {"delta":{"content":[{"text":{"value":"Hi"}}]}}\n\n'
        "event: done\ndata: [DONE]\n\n"
    )
    parser = LegacyStream()
    assert run_stream(parser, body)[1] == "Hi"
    assert parser.thread_id == "thread_9"
    with pytest.raises(PluginError, match="run failed"):
        run_stream(
            LegacyStream(),
            'event: assistant_error\ndata: {"status":"error","msg":"run failed"}\n\n',
        )


def test_assistant_done_without_text_is_empty() -> None:
    with pytest.raises(EmptyResponseError):
        run_stream(LegacyStream(), "event: done\ndata: x\n\n")


AIPKIT_OK = (
    ":" + " " * 4096 + "\n\n"
    'event: message_start\ndata: {"message_id":"m1"}\n\n'
    'data: {"delta":"Bon"}\n\ndata: {"delta":"jour"}\n\n'
    'event: warning\nid: err-1\ndata: {"error":"minor"}\n\n'
    'event: done\ndata: {"finished":true}\n\n'
)


def test_aipkit_stream_success_and_message_id() -> None:
    parser = AIPKitStream()
    assert run_stream(parser, AIPKIT_OK) == ("Bonjour", "Bonjour")
    assert parser.message_id == "m1"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("Security check failed. Please refresh the page and try again.", NonceRejected),
        ("Cached message has expired.", CacheKeyExpired),
        ("Message not found in cache.", CacheKeyExpired),
        ("API Error: You exceeded your current quota (Code: insufficient_quota)", UpstreamError),
        ("Session ID is missing for guest.", PluginError),
        ("This domain is not permitted to access the chatbot.", BlockedError),
    ],
)
def test_aipkit_error_events(text: str, error: type[Exception]) -> None:
    body = f'event: error\nid: err-1\ndata: {{"error":"{text}"}}\n\n'
    with pytest.raises(error):
        run_stream(AIPKitStream(), body)


def test_aipkit_eof_without_done_is_truncated() -> None:
    with pytest.raises(TruncatedStreamError) as caught:
        run_stream(AIPKitStream(), 'data: {"delta":"par"}\n\n')
    assert caught.value.partial == "par"


def test_events_are_plain_dataclasses() -> None:
    assert ServerSentEvent(data="x") == ServerSentEvent(data="x", event="")
