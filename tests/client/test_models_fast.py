"""The client builds its responses without validating again (``_models._trusted``). Each
builder must give exactly what the validated construction gives: equal objects, the same
fields set, the same JSON byte for byte, and JSON that validates back to the same object."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from chatbridge._client._models import (
    Attempt,
    ChatbridgeInfo,
    ChatCompletion,
    ChatCompletionChunk,
    ChoiceDelta,
    ChunkChoice,
    CompletionUsage,
    attempt,
    chatbridge_info,
    completion,
    completion_usage,
    content_chunk,
    finish_chunk,
    new_completion_id,
    role_chunk,
    usage_chunk,
)

ATTEMPTS: list[dict[str, Any]] = [
    {
        "target": "one",
        "provider": "AIPower",
        "message": "circuit breaker open",
        "outcome": "skipped",
    },
    {
        "target": "two",
        "provider": "OpenAICompatible",
        "error": "RateLimitError",
        "message": "slow down",
        "seconds": 0.25,
        "outcome": "failed",
    },
    {"target": "three", "provider": "AIPower", "seconds": 1.5, "outcome": "answered"},
]


def fast_attempts(records: list[dict[str, Any]]) -> list[Attempt]:
    return [attempt(**record) for record in records]


def same(fast: BaseModel, slow: BaseModel) -> None:
    assert type(fast) is type(slow)
    assert fast == slow
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.model_dump() == slow.model_dump()
    assert fast.model_dump_json() == slow.model_dump_json()
    assert fast.model_dump_json(exclude_unset=True) == slow.model_dump_json(exclude_unset=True)
    back = type(slow).model_validate_json(fast.model_dump_json())
    assert back.model_dump_json() == slow.model_dump_json()
    for name in type(slow).model_fields:
        child = getattr(slow, name)
        if isinstance(child, BaseModel):
            same(getattr(fast, name), child)
        elif isinstance(child, list):
            for mine, theirs in zip(getattr(fast, name), child, strict=True):
                if isinstance(theirs, BaseModel):
                    same(mine, theirs)


def slow_info(attempts: list[dict[str, Any]]) -> ChatbridgeInfo:
    return ChatbridgeInfo.model_validate(
        {
            "route": "r",
            "provider": "AIPower",
            "site": "http://s",
            "target": "t",
            "attempts": attempts,
        }
    )


@pytest.mark.parametrize("attempts", [[], ATTEMPTS[2:], ATTEMPTS])
def test_chatbridge_info(attempts: list[dict[str, Any]]) -> None:
    fast = chatbridge_info("r", "AIPower", "http://s", "t", fast_attempts(attempts))
    same(fast, slow_info(attempts))
    for record, made in zip(attempts, fast.attempts, strict=True):
        same(made, Attempt.model_validate(record))
    empty = chatbridge_info("r", None, None, None, [])
    same(
        empty,
        ChatbridgeInfo.model_validate(
            {"route": "r", "provider": None, "site": None, "target": None, "attempts": []}
        ),
    )


@pytest.mark.parametrize("text", ["hé\n", "", "x" * 10_000])
def test_content_and_role_chunks(text: str) -> None:
    same(
        content_chunk("chatcmpl-1", 7, "m", text),
        ChatCompletionChunk(
            id="chatcmpl-1",
            created=7,
            model="m",
            choices=[ChunkChoice(delta=ChoiceDelta(content=text))],
        ),
    )
    info = slow_info(ATTEMPTS)
    fast = role_chunk(
        "chatcmpl-1",
        7,
        "m",
        text,
        chatbridge_info("r", "AIPower", "http://s", "t", fast_attempts(ATTEMPTS)),
    )
    slow = ChatCompletionChunk(
        id="chatcmpl-1",
        created=7,
        model="m",
        choices=[ChunkChoice(delta=ChoiceDelta(role="assistant", content=text))],
    ).with_info(info)
    same(fast, slow)
    assert fast.chatbridge == info
    bare = role_chunk("chatcmpl-1", 7, "m", text, None)
    same(
        bare,
        ChatCompletionChunk(
            id="chatcmpl-1",
            created=7,
            model="m",
            choices=[ChunkChoice(delta=ChoiceDelta(role="assistant", content=text))],
        ),
    )
    assert bare.chatbridge is None


@pytest.mark.parametrize("reason", ["stop", "length", "content_filter"])
def test_finish_and_usage_chunks(reason: str) -> None:
    info = slow_info(ATTEMPTS)
    fast = finish_chunk(
        "chatcmpl-2",
        9,
        "m",
        reason,
        chatbridge_info("r", "AIPower", "http://s", "t", fast_attempts(ATTEMPTS)),
    )
    slow = ChatCompletionChunk(
        id="chatcmpl-2",
        created=9,
        model="m",
        choices=[ChunkChoice(delta=ChoiceDelta(), finish_reason=reason)],
    ).with_info(info)
    same(fast, slow)
    assert '"delta":{}' in fast.model_dump_json()
    usage = CompletionUsage(prompt_tokens=3, completion_tokens=4, total_tokens=7)
    same(completion_usage(3, 4, 7), usage)
    same(
        usage_chunk("chatcmpl-2", 9, "m", completion_usage(3, 4, 7)),
        ChatCompletionChunk(id="chatcmpl-2", created=9, model="m", choices=[], usage=usage),
    )


@pytest.mark.parametrize("usage", [None, (1, 2, 3)])
@pytest.mark.parametrize("info", [None, ATTEMPTS])
def test_whole_completion(
    usage: tuple[int, int, int] | None, info: list[dict[str, Any]] | None
) -> None:
    fast = completion(
        "chatcmpl-3",
        11,
        "m",
        "the answer",
        "length",
        completion_usage(*usage) if usage else None,
        chatbridge_info("r", "AIPower", "http://s", "t", fast_attempts(info))
        if info is not None
        else None,
    )
    slow = ChatCompletion.model_validate(
        {
            "id": "chatcmpl-3",
            "created": 11,
            "model": "m",
            "choices": [{"message": {"content": "the answer"}, "finish_reason": "length"}],
            "usage": dict(
                zip(("prompt_tokens", "completion_tokens", "total_tokens"), usage, strict=True)
            )
            if usage
            else None,
            "chatbridge": {
                "route": "r",
                "provider": "AIPower",
                "site": "http://s",
                "target": "t",
                "attempts": info,
            }
            if info is not None
            else None,
        }
    )
    same(fast, slow)
    assert ("usage" in fast.model_dump_json()) is (usage is not None)


def test_fast_objects_behave_like_validated_ones() -> None:
    """Set a field, copy, pickle: what callers may do with a response keeps working."""
    import pickle

    chunk = content_chunk("chatcmpl-1", 7, "m", "hi")
    chunk.model = "other"
    assert "model" in chunk.model_fields_set and chunk.model_dump()["model"] == "other"
    copy = chunk.model_copy(deep=True)
    assert copy == chunk and copy.choices[0] is not chunk.choices[0]
    assert pickle.loads(pickle.dumps(chunk)) == chunk
    # each chunk has its own fields-set: setting a field on one leaves the next alone
    assert content_chunk("chatcmpl-1", 7, "m", "hi").model_fields_set == {
        "id",
        "created",
        "model",
        "choices",
    }


def test_completion_ids_are_unique_and_shaped_like_openai() -> None:
    ids = {new_completion_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(i.startswith("chatcmpl-") and len(i) == 33 for i in ids)


def test_attempts_are_frozen_records_and_ids_ignore_random_seed() -> None:
    """Attempts are shared by a call's chunks and errors, so none can be changed through
    another; ``random.seed`` in the caller's code does not make completion ids repeat."""
    import random

    from pydantic import ValidationError

    record = attempt("t", "p", "answered", 0.1)
    with pytest.raises(ValidationError):
        record.outcome = "failed"  # type: ignore[misc]
    random.seed(42)
    first = new_completion_id()
    random.seed(42)
    assert new_completion_id() != first
