"""Deterministic answers: pure functions of the conversation, so tests can compute them.

The answer depends only on the text of the last user message, or of the tool result that
ends the conversation (the answer after a tool round trip). A trailing assistant message is a
prefill: the answer for the conversation without it is computed and, when the prefill
is a prefix of it, only the remainder is sent.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from ._config import DEFAULT_ANSWER_TOKENS

__all__ = ["continuation", "expected_answer", "message_text", "prompt_tokens"]

_WORDS = (
    "amber", "basil", "cedar", "delta", "ember", "fjord", "grove", "harbor", "iris", "juniper",
    "kelp", "lumen", "maple", "nectar", "orbit", "pebble", "quartz", "river", "sage", "tundra",
    "umber", "violet", "willow", "xenon", "yarrow", "zephyr", "anchor", "birch", "comet",
    "dune", "echo", "fern", "granite", "hazel", "indigo", "jade", "kite", "lotus", "meadow",
    "nimbus", "opal", "prism", "quill", "reed", "spruce", "thistle", "upland", "vale", "wren",
    "yonder", "zinc", "aspen", "bramble", "cobalt", "dawn", "elm", "flint", "glade", "heron",
    "isle", "jasper", "knoll", "lichen", "moss",
)  # fmt: skip


def message_text(content: Any) -> str:
    """A message's text: the string itself, or its text parts joined by spaces."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part["text"]
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        )
    return ""


def _last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") in ("user", "tool"):
            return message_text(message.get("content"))
    return ""


@lru_cache(maxsize=4096)
def _answer(text: str, tokens: int) -> tuple[str, ...]:
    rng = random.Random(zlib.crc32(text.encode("utf-8", "replace")))
    words = [rng.choice(_WORDS) for _ in range(tokens)]
    return (*(f"{word} " for word in words[:-1]), f"{words[-1]}.")


def expected_answer(
    messages: Sequence[Mapping[str, Any]], tokens: int = DEFAULT_ANSWER_TOKENS
) -> list[str]:
    """The content deltas of the full answer to ``messages`` (one word per delta, the last
    ending with a full stop). Only the last user (or tool) message matters; a trailing assistant
    message (prefill) does not change the answer, see :func:`continuation`. A conversation
    that ends with a tool result is answered from that result's text."""
    if tokens < 1:
        raise ValueError("tokens must be >= 1")
    return list(_answer(_last_user_text(messages), tokens))


def continuation(answer: Sequence[str], prefill: str) -> list[str] | None:
    """The deltas still to send after ``prefill``, or ``None`` when the prefill is not a
    prefix of the answer. A prefill ending inside a delta gets that delta's rest first."""
    full = "".join(answer)
    if not full.startswith(prefill):
        return None
    done = len(prefill)
    rest: list[str] = []
    position = 0
    for delta in answer:
        end = position + len(delta)
        if end > done:
            rest.append(delta[max(0, done - position) :])
        position = end
    return rest


def prompt_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """A token count for the prompt: its words (and one per message for the role)."""
    return sum(len(message_text(m.get("content")).split()) + 1 for m in messages)
