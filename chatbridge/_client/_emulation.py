"""Tool calls for a target that cannot make them (``tools = "emulate"``): the tools and the
tool results go into the text the target gets, under a prompt contract, and a reply that
keeps the contract becomes tool calls. Pure but for :func:`emulated_reply`, which only reads
the stream it is given.

The contract (``docs/routing.md`` prints it): a system message first lists the functions as
JSON and says that to call one or more the reply must be only
``{"tool_calls": [{"name": "...", "arguments": {...}}]}``, else plain text. Earlier calls go
back as the assistant's text in that same form; each tool result is a user message that
starts ``Tool result for call ID (NAME):``.

A reply is a call only when, stripped of surrounding blank space and of one Markdown code
fence around it, it is a JSON object of that shape (or one ``{"name", "arguments"}`` object)
whose every name is a declared function and whose every ``arguments`` is a JSON object (or a
JSON text of one). Anything else is text, as it came: never a call that was not asked for.
With ``tool_choice`` ``"none"`` nothing is read as a call.

Streaming: text that may turn out to be a call cannot be streamed. A reply whose first
non-blank character is ``{`` or a backtick is held until it ends, then handed over as calls
or as text; any other reply streams as it comes.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Mapping
from typing import Any

from .._exceptions import InvalidRequestError
from .._providers._sync import aclose
from .._types import FinishReason, Message, Messages, ToolCallDelta
from ._tools import declared_functions

__all__ = ["CONTRACT", "emulated_reply", "emulated_request", "parse_reply"]

#: What the target is told, before the list of functions.
CONTRACT = (
    "You can call functions (tools) to answer. The functions are listed below as JSON. To "
    "call one or more of them, reply with only this JSON object, with nothing before or "
    'after it: {"tool_calls": [{"name": "FUNCTION NAME", "arguments": {ARGUMENTS AS A JSON '
    "OBJECT}}]}. When you need no function, answer in plain text. The result of each call "
    'you made comes back in a message that starts "Tool result for call".'
)
#: Said after the list, by ``tool_choice``.
_CHOICE = {
    "none": "Do not call any function now: answer in plain text.",
    "required": "You must call at least one function now.",
}
#: Options that must not reach a target that cannot call tools.
_TOOL_OPTIONS = ("tools", "tool_choice", "parallel_tool_calls")
_OPENERS = ("{", "`")


def _choice_line(choice: Any) -> str:
    if isinstance(choice, Mapping):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else None
        if isinstance(name, str):
            return f"You must call the function {name} now."
    return _CHOICE.get(choice, "") if isinstance(choice, str) else ""


def _system(functions: Mapping[str, Mapping[str, Any]], choice: Any) -> str:
    listed = [
        {
            "name": name,
            "description": function.get("description", ""),
            "parameters": function.get("parameters", {}),
        }
        for name, function in functions.items()
    ]
    text = f"{CONTRACT}\nFunctions: {json.dumps(listed, ensure_ascii=False)}"
    line = _choice_line(choice)
    return f"{text}\n{line}" if line else text


def _arguments(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return text


def _assistant(message: Message, names: dict[str, str]) -> dict[str, Any]:
    calls = []
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        names[str(call.get("id"))] = str(function.get("name"))
        arguments = _arguments(function.get("arguments"))
        calls.append({"name": function.get("name"), "arguments": arguments})
    said = _text(message.get("content"))
    made = json.dumps({"tool_calls": calls}, ensure_ascii=False)
    return {"role": "assistant", "content": f"{said}\n{made}" if said else made}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part["text"] for part in content if isinstance(part, Mapping)
            and isinstance(part.get("text"), str)
        )  # fmt: skip
    return "" if content is None else json.dumps(content, ensure_ascii=False)


def emulated_request(
    messages: Messages, options: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The conversation as the contract puts it, and the options without the tool ones. Only
    function tools can be emulated: another kind is an :class:`InvalidRequestError`."""
    tools = options.get("tools") or []
    functions = declared_functions(tools) if tools else {}
    if len(functions) < len(tools):
        kinds = sorted({str(t.get("type")) for t in tools if t.get("type") != "function"})
        raise InvalidRequestError(
            f"tools of type {', '.join(kinds)} cannot be emulated (function tools only)",
            param="tools",
        )
    names: dict[str, str] = {}
    rendered: list[dict[str, Any]] = [
        {"role": "system", "content": _system(functions, options.get("tool_choice"))}
    ]
    for message in messages:
        role = message.get("role")
        if role == "assistant" and message.get("tool_calls"):
            rendered.append(_assistant(message, names))
        elif role == "tool":
            ident = str(message.get("tool_call_id"))
            head = f"Tool result for call {ident} ({names.get(ident, 'unknown function')}):"
            rendered.append({"role": "user", "content": f"{head}\n{_text(message.get('content'))}"})
        else:
            rendered.append(dict(message))
    rest = {k: v for k, v in options.items() if k not in _TOOL_OPTIONS}
    return rendered, rest


def _unfenced(text: str) -> str:
    text = text.strip()
    if text.startswith("```") and text.endswith("```") and len(text) >= 6:
        body = text[3:-3]
        first, _, rest = body.partition("\n")
        return (rest if first.strip().isalnum() or not first.strip() else body).strip()
    return text


def _one_call(item: Any, functions: Mapping[str, Any]) -> tuple[str, str] | None:
    if not isinstance(item, dict) or set(item) - {"name", "arguments"}:
        return None
    name, arguments = item.get("name"), _arguments(item.get("arguments"))
    if not isinstance(name, str) or name not in functions or not isinstance(arguments, dict):
        return None
    return name, json.dumps(arguments, ensure_ascii=False)


def parse_reply(text: str, functions: Mapping[str, Any]) -> list[ToolCallDelta] | None:
    """The calls a reply makes under the contract, or ``None``: the reply is text."""
    try:
        data = json.loads(_unfenced(text))
    except ValueError:
        return None
    if isinstance(data, dict) and set(data) == {"tool_calls"}:
        items = data["tool_calls"]
    elif isinstance(data, dict) and "name" in data:
        items = [data]
    else:
        return None
    if not isinstance(items, list) or not items:
        return None
    calls = [_one_call(item, functions) for item in items]
    if any(call is None for call in calls):
        return None
    return [
        ToolCallDelta(index, f"call_{secrets.token_hex(12)}", name, arguments)
        for index, (name, arguments) in enumerate(c for c in calls if c is not None)
    ]


async def emulated_reply(
    stream: AsyncIterator[Any], options: Mapping[str, Any]
) -> AsyncIterator[Any]:
    """The target's reply read under the contract: calls (then the finish ``tool_calls``),
    or the text as it came (see the module on what is held back)."""
    tools = options.get("tools") or []
    functions = declared_functions(tools) if tools else {}
    holding = options.get("tool_choice") != "none" and bool(functions)
    held: list[str] = []
    later: list[Any] = []  # finish reason and usage, after a held reply
    try:
        async for item in stream:
            if not holding:
                yield item
            elif not isinstance(item, str):
                later.append(item)
            else:
                held.append(item)
                head = "".join(held).lstrip()
                if head and not head.startswith(_OPENERS):
                    holding = False
                    yield "".join(held)
                    held.clear()
        calls = parse_reply("".join(held), functions) if holding and held else None
        if calls:  # the calls, then the finish "tool_calls" in place of the target's own
            kept = [item for item in later if type(item) is not FinishReason]
            later = [*calls, FinishReason("tool_calls"), *kept]
        elif held:
            later.insert(0, "".join(held))
        for item in later:
            yield item
    finally:
        await aclose(stream)
