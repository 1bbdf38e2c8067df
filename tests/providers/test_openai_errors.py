"""The OpenAI error mapping on plain data: every dialect of error body we know of."""

from __future__ import annotations

import json

import pytest

from chatbridge import (
    ChallengeError,
    ContentFilterError,
    ContextLengthError,
    InvalidRequestError,
    MissingAuthError,
    RateLimitError,
    ResponseStatusError,
)
from chatbridge._constants import MAX_RETRY_AFTER
from chatbridge._providers._openai_errors import error_fields, openai_error, retry_after


def test_dialects_of_error_bodies() -> None:
    ollama = error_fields({"error": "model 'llama9' not found"})
    vllm = error_fields(
        {"object": "error", "message": "bad", "type": "BadRequestError", "param": None, "code": 400}
    )
    llamacpp = error_fields(
        {"error": {"code": 400, "message": "too long", "type": "exceed_context_size_error"}}
    )
    openai = error_fields(
        {"error": {"message": "m", "type": "invalid_request_error", "code": "c", "param": "p"}}
    )

    assert ollama.message == "model 'llama9' not found" and ollama.status is None
    assert (vllm.message, vllm.status, vllm.code) == ("bad", 400, None)
    assert llamacpp.type == "exceed_context_size_error" and llamacpp.status == 400
    assert (openai.code, openai.param, openai.type) == ("c", "p", "invalid_request_error")
    assert error_fields("not a dict", "fallback").message == "fallback"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (404, json.dumps({"error": "model 'x' not found"}), ResponseStatusError),
        (402, json.dumps({"error": {"message": "pay"}}), RateLimitError),
        (400, json.dumps({"object": "error", "message": "x", "code": 400}), InvalidRequestError),
        (
            400,
            json.dumps({"error": {"message": "prompt is too long: 9000 tokens"}}),
            ContextLengthError,
        ),
        (
            500,
            json.dumps({"error": {"message": "x", "code": "content_filter"}}),
            ContentFilterError,
        ),
        (502, "<html><body>Bad gateway</body></html>", ResponseStatusError),
        (400, "plain text refusal", InvalidRequestError),
        (403, "<title>Just a moment...</title>", ChallengeError),
        (403, json.dumps({"error": {"message": "no"}}), MissingAuthError),
    ],
)
def test_status_and_body_to_class(status: int, body: str, expected: type[Exception]) -> None:
    error = openai_error(status, {}, body, url="http://x/v1/chat/completions", provider="P")

    assert type(error) is expected
    assert error.status == status and error.provider == "P"


def test_a_text_body_becomes_the_message() -> None:
    error = openai_error(400, {}, "plain text refusal")

    assert isinstance(error, InvalidRequestError) and error.message == "plain text refusal"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "x", "Retry-After": "4"}, 4.0),
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "nan"}, None),
        ({"retry-after-ms": "nan", "Retry-After": "2"}, 2.0),
        ({"Retry-After": "1e12"}, MAX_RETRY_AFTER),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after(headers) == expected


def test_the_secret_is_masked_everywhere() -> None:
    body = json.dumps({"error": {"message": "key sk-secret is wrong", "code": "invalid_api_key"}})

    error = openai_error(400, {}, body, secret="sk-secret")

    assert isinstance(error, MissingAuthError)
    assert "sk-secret" not in str(error) + (error.body or "") and "***" in str(error)


@pytest.mark.parametrize("secret", ["x", "e", "context", "length", "sk-a"])
def test_a_key_inside_the_error_words_does_not_change_the_error(secret: str) -> None:
    body = json.dumps(
        {
            "error": {
                "message": f"This model's maximum context length is 4096 tokens (key {secret})",
                "type": "invalid_request_error",
                "code": "context_length_exceeded",
                "param": "messages",
            }
        }
    )
    for error in (
        openai_error(400, {}, body, secret=secret),
        openai_error(None, {}, body, payload=json.loads(body), secret=secret),  # in-band
    ):
        assert type(error) is ContextLengthError and error.code == "context_length_exceeded"
        assert f"(key {secret})" not in str(error) and " ***)" in str(error)
        assert f"(key {secret})" not in (error.body or "")
