"""classify_status: every status rule of the contract, on plain data."""

import pytest

from chatbridge import (
    BlockedError,
    ChallengeError,
    MissingAuthError,
    RateLimitError,
    ResponseStatusError,
)
from chatbridge._http._status import classify_status, retry_after_seconds


def test_success_is_none() -> None:
    assert classify_status(200, {}, "ok") is None
    assert classify_status(302, {}, "") is None


@pytest.mark.parametrize("status", [402, 429])
def test_rate_limits_carry_retry_after(status: int) -> None:
    error = classify_status(status, {"Retry-After": "12"}, "busy")
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 12.0
    assert error.status == status


def test_cloudflare_1015_is_a_rate_limit_whatever_the_status() -> None:
    error = classify_status(403, {}, "<html>error code: 1015 You are being rate limited</html>")
    assert isinstance(error, RateLimitError)


def test_401_needs_auth() -> None:
    assert isinstance(classify_status(401, {}, "{}"), MissingAuthError)


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"cf-mitigated": "challenge"}, ""),
        ({}, "<html><head><title>Just a moment...</title></head></html>"),
        ({}, "<title>Attention Required! | Cloudflare</title>"),
        ({}, '<div id="cf-spinner-please-wait">'),
        ({}, "<script src='/cdn-cgi/challenge-platform/x'></script>"),
    ],
)
@pytest.mark.parametrize("status", [403, 503])
def test_challenge_markers(status: int, headers: dict[str, str], body: str) -> None:
    assert isinstance(classify_status(status, headers, body), ChallengeError)


def test_504_is_not_a_rate_limit() -> None:
    error = classify_status(504, {}, "<html><body>Gateway Timeout</body></html>")
    assert type(error) is ResponseStatusError
    assert "HTML content" in str(error)


def test_waf_block_page() -> None:
    error = classify_status(403, {}, "<html>Sorry, you have been blocked</html>")
    assert isinstance(error, BlockedError)


def test_json_error_message_is_used() -> None:
    error = classify_status(500, {}, '{"error": {"message": "boom"}}')
    assert error is not None and error.message == "HTTP 500: boom"
    error = classify_status(400, {}, '{"message": "bad"}')
    assert error is not None and error.message == "HTTP 400: bad"


def test_retry_after_http_date_and_garbage() -> None:
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


@pytest.mark.parametrize(
    ("retry_after", "says"),
    [("600", "try again in 10 minutes"), ("45", "try again in 45 seconds"), (None, "later")],
)
def test_a_maintenance_page_says_maintenance_and_when_to_come_back(
    retry_after: str | None, says: str
) -> None:
    page = "<html><body>Briefly unavailable for scheduled maintenance. Check back in a minute."
    headers = {"Retry-After": retry_after} if retry_after else {}
    error = classify_status(503, headers, page)
    assert isinstance(error, ResponseStatusError) and error.status == 503
    assert error.message.startswith("The site is down for maintenance (HTTP 503); ")
    assert says in error.message


def test_another_503_says_when_to_come_back_if_the_site_said() -> None:
    error = classify_status(503, {"Retry-After": "7200"}, "<html>overloaded</html>")
    assert error is not None and error.message == (
        "HTTP 503: HTML content; try again in 2 hours (its Retry-After)"
    )
