"""How the fake upstream is set up; what each request meets is its plan (``_behaviour``)."""

from __future__ import annotations

from dataclasses import dataclass

#: Content deltas ("tokens") in a full answer unless ``max_tokens`` asks for fewer.
DEFAULT_ANSWER_TOKENS = 60
#: Largest request body accepted (bytes); larger ones get an OpenAI-shaped 413.
MAX_REQUEST_BYTES = 4 * 1024 * 1024
#: Requests kept in the log of recent requests.
RECENT_REQUESTS = 100


@dataclass(frozen=True, slots=True)
class UpstreamConfig:
    """The fake upstream's settings.

    ``api_key``: when set, requests must send ``Authorization: Bearer <api_key>`` (401
    otherwise). ``token_delay``: seconds between streamed content deltas. ``usage``: report
    token usage (non-streamed replies, and streamed ones that ask with
    ``stream_options.include_usage``). ``continuation``: a trailing assistant message is a
    prefill the answer continues; without it, such a message is ignored.
    ``models_without_usage``: models that never report usage (whatever ``usage`` says), so
    one endpoint can serve a model that reports it and one that does not.
    """

    api_key: str | None = None
    token_delay: float = 0.0
    usage: bool = True
    continuation: bool = True
    answer_tokens: int = DEFAULT_ANSWER_TOKENS
    models: tuple[str, ...] = ("fake-model",)
    models_without_usage: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.token_delay < 0:
            raise ValueError("token_delay must be >= 0")
        if self.answer_tokens < 1:
            raise ValueError("answer_tokens must be >= 1")
        if not self.models:
            raise ValueError("models must not be empty")
