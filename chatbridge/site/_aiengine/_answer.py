"""What the AI Engine site answers: the local echo, and the frames it streams
(docs/protocol-ai-engine.md, "Streamed replies").

    [local AI Engine site] Echo: <message> | history turns: 3 (user 1, assistant 2)

"History turns" are the user and assistant messages the model saw before the new one (the
bot's start sentence, the greeting, not counted), after the plugin's own trimming to
``maxMessages`` and, on a site with Discussions, after it chained a stored conversation.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from .._php import wp_json
from .._responder import estimate_tokens, split_words
from ._config import AIEngineSiteConfig

__all__ = [
    "LOCAL_LABEL",
    "content_frame",
    "end_frame",
    "engine_answer",
    "error_frame",
    "final_reply",
    "history_turns",
    "side_frame",
]

LOCAL_LABEL = "[local AI Engine site"
Turn = tuple[str, str]


def history_turns(history: list[Turn], start_sentence: str) -> tuple[int, int]:
    """(users, assistants) the model saw, the greeting first message not counted."""
    turns = history
    if turns and turns[0] == ("assistant", start_sentence):
        turns = turns[1:]
    users = sum(role == "user" for role, _ in turns)
    assistants = sum(role == "assistant" for role, _ in turns)
    return users, assistants


def engine_answer(
    message: str, history: list[Turn], cfg: AIEngineSiteConfig, bot: str
) -> tuple[str, int]:
    """The echo, and how many turns it counted."""
    users, assistants = history_turns(history, cfg.start_sentence)
    label = LOCAL_LABEL if bot == cfg.bot_id else f"{LOCAL_LABEL}: bot {bot}"
    text = (
        f"{label}] Echo: {message} | history turns: {users + assistants} "
        f"(user {users}, assistant {assistants})"
    )
    return text, users + assistants


def _frame(data: dict[str, Any]) -> bytes:
    return b"data: " + wp_json(data) + b"\n\n"


def content_frame(text: str) -> bytes:
    """A model delta: a ``live`` frame with no subtype (what 3.6.2 sends for content)."""
    return _frame({"type": "live", "data": text})


def side_frame(subtype: str, text: str) -> bytes:
    """A ``live`` frame that is not the answer (status, thinking…)."""
    return _frame(
        {
            "type": "live",
            "data": text,
            "timestamp": time.time(),
            "subtype": subtype,
            "visibility": "collapsed",
        }
    )


def error_frame(message: str) -> bytes:
    return _frame({"type": "error", "data": message})


def final_reply(
    cfg: AIEngineSiteConfig, history: list[Turn], message: str, reply: str
) -> dict[str, Any]:
    """``build_final_res``: what the ``end`` frame (encoded again) and a whole reply hold."""
    prompt = estimate_tokens(message, *(text for _, text in history))
    completion = estimate_tokens(reply)
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "price": None,
    }
    if cfg.generation == "2.4":
        return {"success": True, "reply": reply, "images": None, "usage": usage}
    usage.update(queries=1, accuracy=cfg.usage_accuracy)
    return {
        "success": True,
        "reply": reply,
        "images": None,
        "actions": [],
        "shortcuts": [],
        "blocks": [],
        "usage": usage,
        "responseId": f"resp_{secrets.token_hex(12)}",
    }


def end_frame(final: dict[str, Any]) -> bytes:
    """The ``end`` frame: its data is the reply JSON encoded again."""
    return _frame({"type": "end", "data": wp_json(final).decode()})


def pieces(text: str) -> list[str]:
    """The model's deltas: one word each."""
    return split_words(text)
