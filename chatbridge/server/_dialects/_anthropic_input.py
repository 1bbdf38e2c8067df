"""Reading an Anthropic Messages request (``POST /v1/messages``, as the ``anthropic`` SDK and
Claude Code send it) into chat messages and options. Pure: no I/O.

``system`` (a string or text blocks) is the first system message; a ``system`` message inside
``messages`` stays one. A user message's ``tool_result`` blocks become ``tool`` messages (in
their order, before the rest of its text), an assistant message's ``tool_use`` blocks its
``tool_calls`` (the input as JSON text); ``thinking`` blocks hold nothing a target can read
and are left out; images go on as image parts. Tools with an ``input_schema`` become function
tools; Anthropic's server tools (a ``type`` such as ``web_search_20250305``, which only its
servers run) are left out and named in the answer's ``chatbridge.ignored_tools``.
"""

from __future__ import annotations

import json
from typing import Any

from .._request import bad
from ._tools import translate_tools

__all__ = ["anthropic_messages", "anthropic_tool_choice", "anthropic_tools", "system_text"]

_SKIPPED = frozenset({"thinking", "redacted_thinking"})


def _text(value: Any, where: str) -> str:
    """A string, or the text of a list of text blocks."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = []
        for index, block in enumerate(value):
            if not isinstance(block, dict) or block.get("type") != "text":
                if isinstance(block, dict) and block.get("type") in _SKIPPED:
                    continue
                raise bad(f"{where}[{index}] must be a text block", f"{where}[{index}]")
            if not isinstance(block.get("text"), str):
                raise bad(f"{where}[{index}].text must be a string", f"{where}[{index}]")
            texts.append(block["text"])
        return "\n".join(texts)
    if value is None:
        return ""
    raise bad(f"{where} must be a string or a list of text blocks", where)


def system_text(value: Any) -> str | None:
    return None if value is None else _text(value, "system")


def _image(block: dict[str, Any], where: str) -> dict[str, Any]:
    source = block.get("source")
    if isinstance(source, dict) and source.get("type") == "base64":
        url = f"data:{source.get('media_type')};base64,{source.get('data')}"
    elif isinstance(source, dict) and source.get("type") == "url":
        url = str(source.get("url"))
    else:
        raise bad(f"{where}.source must be a base64 or url image source", where)
    return {"type": "image_url", "image_url": {"url": url}}


def _result(block: dict[str, Any], where: str) -> dict[str, Any]:
    ident = block.get("tool_use_id")
    if not isinstance(ident, str) or not ident:
        raise bad(f"{where}.tool_use_id must be a non-empty string", f"{where}.tool_use_id")
    content = block.get("content")
    if isinstance(content, list):  # an image in a result cannot go on in a tool message
        content = [
            {"type": "text", "text": "[an image]"}
            if isinstance(b, dict) and b.get("type") == "image"
            else b
            for b in content
        ]
    text = _text(content, f"{where}.content")
    if block.get("is_error"):
        text = f"Error: {text}"
    return {"role": "tool", "tool_call_id": ident, "content": text}


def _user(content: list[Any], where: str) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for index, block in enumerate(content):
        here = f"{where}[{index}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text" and isinstance(block.get("text"), str):
            parts.append({"type": "text", "text": block["text"]})
        elif kind == "image":
            parts.append(_image(block, here))
        elif kind == "tool_result":
            results.append(_result(block, here))
        elif kind not in _SKIPPED:
            raise bad(f"{here}: a block of type {kind!r} is not supported here", here)
    if not parts:
        return results
    if len(parts) == 1 and parts[0]["type"] == "text":
        return [*results, {"role": "user", "content": parts[0]["text"]}]
    return [*results, {"role": "user", "content": parts}]


def _assistant(content: list[Any], where: str) -> dict[str, Any]:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for index, block in enumerate(content):
        here = f"{where}[{index}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif kind == "tool_use":
            if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
                raise bad(f"{here} needs an id and a name", here)
            arguments = json.dumps(block.get("input") or {}, ensure_ascii=False)
            calls.append(
                {
                    "id": block["id"],
                    "type": "function",
                    "function": {"name": block["name"], "arguments": arguments},
                }
            )
        elif kind not in _SKIPPED:
            raise bad(f"{here}: a block of type {kind!r} is not supported here", here)
    message: dict[str, Any] = {"role": "assistant", "content": "\n".join(texts) or None}
    if calls:
        message["tool_calls"] = calls
    return message


def anthropic_messages(value: Any) -> list[dict[str, Any]]:
    """The chat messages of ``messages`` (see the module)."""
    if not isinstance(value, list) or not value:
        raise bad("'messages' must be a non-empty array", "messages")
    messages: list[dict[str, Any]] = []
    for index, message in enumerate(value):
        where = f"messages[{index}]"
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("user", "assistant", "system"):
            raise bad(f"{where}.role must be user or assistant", f"{where}.role")
        content = message.get("content")
        if isinstance(content, str) or role == "system":
            messages.append({"role": role, "content": _text(content, f"{where}.content")})
        elif not isinstance(content, list):
            raise bad(f"{where}.content must be a string or a list of blocks", where)
        elif role == "user":
            messages.extend(_user(content, f"{where}.content"))
        else:
            messages.append(_assistant(content, f"{where}.content"))
    return messages


def _kind(tool: dict[str, Any], where: str) -> str | None:
    kind = tool.get("type")
    return None if kind in (None, "custom") else str(kind)


def anthropic_tools(value: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """The client tools as function tools, and the types of the server tools left out."""
    return translate_tools(value, "input_schema", _kind)


def anthropic_tool_choice(value: Any) -> tuple[Any, bool | None]:
    """``tool_choice`` as the chat API has it, and ``parallel_tool_calls`` (``None``: as the
    target decides)."""
    if value is None:
        return None, None
    kind = value.get("type") if isinstance(value, dict) else None
    parallel = False if isinstance(value, dict) and value.get("disable_parallel_tool_use") else None
    if kind == "auto":
        return "auto", parallel
    if kind == "any":
        return "required", parallel
    if kind == "none":
        return "none", None
    if kind == "tool" and isinstance(value.get("name"), str):
        return {"type": "function", "function": {"name": value["name"]}}, parallel
    raise bad("'tool_choice' must be auto, any, tool (with a name) or none", "tool_choice")
