import chatbridge as cb


def test_every_error_derives_from_the_base() -> None:
    for name in cb.__all__:
        value = getattr(cb, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, cb.ChatbridgeError), name


def test_promised_builtin_bases() -> None:
    assert issubclass(cb.MissingTokenError, RuntimeError)
    assert issubclass(cb.NotAIPowerSiteError, RuntimeError)
    assert issubclass(cb.ResponseError, RuntimeError)
    assert issubclass(cb.TruncatedStreamError, RuntimeError)
    assert issubclass(cb.ModelNotSupportedError, ValueError)
    assert issubclass(cb.RequestTimeoutError, TimeoutError)
    assert cb.CloudflareError is cb.ChallengeError


def test_errors_carry_context_and_lead_with_the_message() -> None:
    error = cb.RateLimitError(
        "No nonce found", retry_after=3.0, provider="P", url="http://x", status=429, body="b " * 500
    )
    assert str(error).startswith("No nonce found (provider=P, url=http://x, status=429")
    assert error.retry_after == 3.0
    assert error.body is not None and len(error.body) <= 200


def test_truncated_stream_keeps_the_partial_text() -> None:
    error = cb.TruncatedStreamError("cut", partial="Hello wor")
    assert error.partial == "Hello wor"


def test_with_context_fills_only_missing_fields() -> None:
    error = cb.PluginError("x", url="http://a").with_context(provider="P", url="http://b")
    assert (error.provider, error.url) == ("P", "http://a")
