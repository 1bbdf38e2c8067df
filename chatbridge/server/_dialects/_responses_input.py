"""Reading a ``/v1/responses`` request's input, tools and tool choice into chat messages and
options (OpenAI's chat shapes, which the client and every target speak). Pure: no I/O.

``input`` is a string (one user message) or a list of items: messages (``input_text``,
``output_text``, ``refusal`` and ``input_image`` parts; the ``developer`` role is a system
message, as targets know it), ``function_call`` (joined to the assistant message before it,
as the chat API carries calls) and ``function_call_output`` (a ``tool`` message).
``reasoning`` items hold nothing a target can read and are left out. Function tools are
translated; tools of other types (hosted ones such as ``web_search``, which only OpenAI's
servers run) are left out and named in the answer's ``chatbridge.ignored_tools``.
"""

from __future__ import annotations

import json
from typing import Any

from .._request import bad
from ._tools import translate_tools

__all__ = ["input_messages", "tool_choice", "tools"]

_ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system"}
_TEXT_PARTS = frozenset({"input_text", "output_text", "text", "refusal"})


def _part(part: Any, where: str) -> dict[str, Any]:
    if not isinstance(part, dict):
        raise bad(f"{where} must be an object", where)
    kind = part.get("type")
    if kind in _TEXT_PARTS:
        text = part.get("text", part.get("refusal"))
        if not isinstance(text, str):
            raise bad(f"{where}.text must be a string", where)
        return {"type": "text", "text": text}
    if kind == "input_image" and isinstance(part.get("image_url"), str):
        return {"type": "image_url", "image_url": {"url": part["image_url"]}}
    raise bad(f"{where}: a part of type {kind!r} is not supported here", where)


def _content(value: Any, where: str) -> str | list[dict[str, Any]]:
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise bad(f"{where} must be a string or a list of parts", where)
    parts = [_part(part, f"{where}[{i}]") for i, part in enumerate(value)]
    if len(parts) == 1 and parts[0]["type"] == "text":
        return str(parts[0]["text"])
    return parts


def _message(item: dict[str, Any], where: str) -> dict[str, Any]:
    role = _ROLES.get(item.get("role"))  # type: ignore[arg-type]
    if role is None:
        raise bad(f"{where}.role must be one of {', '.join(_ROLES)}", f"{where}.role")
    return {"role": role, "content": _content(item.get("content"), f"{where}.content")}


def _string(item: dict[str, Any], name: str, where: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value:
        raise bad(f"{where}.{name} must be a non-empty string", f"{where}.{name}")
    return value


def _call(messages: list[dict[str, Any]], item: dict[str, Any], where: str) -> None:
    arguments = item.get("arguments", "")
    if not isinstance(arguments, str):
        raise bad(f"{where}.arguments must be a string (JSON)", f"{where}.arguments")
    call = {
        "id": _string(item, "call_id", where),
        "type": "function",
        "function": {"name": _string(item, "name", where), "arguments": arguments},
    }
    last = messages[-1] if messages else None
    if last is not None and last["role"] == "assistant":
        last.setdefault("tool_calls", []).append(call)
    else:
        messages.append({"role": "assistant", "content": None, "tool_calls": [call]})


def _output(item: dict[str, Any], where: str) -> dict[str, Any]:
    output = item.get("output")
    if isinstance(output, list):
        parts = _content(output, f"{where}.output")
        if isinstance(parts, list) and all(part["type"] == "text" for part in parts):
            parts = "\n".join(part["text"] for part in parts)
        output = parts if isinstance(parts, str) else json.dumps(parts, ensure_ascii=False)
    if not isinstance(output, str):
        raise bad(f"{where}.output must be a string", f"{where}.output")
    return {"role": "tool", "tool_call_id": _string(item, "call_id", where), "content": output}


def input_messages(value: Any) -> list[dict[str, Any]]:
    """The chat messages ``input`` holds (see the module)."""
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if not isinstance(value, list):
        raise bad("'input' must be a string or a list of items", "input")
    messages: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        where = f"input[{index}]"
        if not isinstance(item, dict):
            raise bad(f"{where} must be an object", where)
        kind = item.get("type", "message")
        if kind == "message":
            messages.append(_message(item, where))
        elif kind == "function_call":
            _call(messages, item, where)
        elif kind == "function_call_output":
            messages.append(_output(item, where))
        elif kind != "reasoning":
            raise bad(
                f"{where}.type {kind!r} is not supported (message, function_call, "
                "function_call_output, reasoning)",
                f"{where}.type",
            )
    return messages


def _kind(tool: dict[str, Any], where: str) -> str | None:
    kind = tool.get("type")
    if not isinstance(kind, str):
        raise bad(f"{where} must be an object with a 'type'", where)
    return None if kind == "function" else kind


def tools(value: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """The function tools as the chat API has them, and the types of those left out."""
    return translate_tools(value, "parameters", _kind)


def tool_choice(value: Any) -> Any:
    """``tool_choice`` as the chat API has it."""
    if value is None or value in ("auto", "none", "required"):
        return value
    if isinstance(value, dict) and value.get("type") == "function":
        return {"type": "function", "function": {"name": _string(value, "name", "tool_choice")}}
    raise bad(
        "'tool_choice' must be auto, none, required or {'type': 'function', 'name': ...}",
        "tool_choice",
    )
