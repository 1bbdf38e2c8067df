"""Tool calls, as a model behind an OpenAI-compatible API makes them: deterministic, so tests
can compute them.

A request that offers ``tools`` (and a ``tool_choice`` other than ``"none"``) whose last
message is the user's is answered with a call: to the function ``tool_choice`` names, else the
first one offered, with arguments made from its JSON schema (each required property: a string
holds the last user text, a number 1, a boolean true, an enum its first value, an array or
object empty). Once the conversation ends with tool results, the answer is text again (see
``_answer``). The ``tool_call`` behaviour names the function and its arguments itself.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._answer import message_text

__all__ = ["Call", "check_tools", "planned_calls"]

#: Characters per streamed fragment of a call's arguments.
FRAGMENT = 8
_DEFAULTS: dict[str, Any] = {"number": 1, "integer": 1, "boolean": True, "array": [], "object": {}}


@dataclass(frozen=True, slots=True)
class Call:
    id: str
    name: str
    arguments: str

    def fragments(self) -> list[str]:
        """The arguments in the pieces a stream sends them in."""
        text = self.arguments
        return [text[i : i + FRAGMENT] for i in range(0, len(text), FRAGMENT)] or [""]


def check_tools(value: Any) -> str | None:
    """What is wrong with a request's ``tools`` (``None``: nothing)."""
    if value is None:
        return None
    if not isinstance(value, list):
        return "Invalid type for 'tools': expected an array."
    for index, tool in enumerate(value):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind == "custom":  # a free-form tool (OpenAI's): taken, never called here
            continue
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or kind != "function":
            return f"Invalid value for 'tools[{index}]': expected a function or custom tool."
        if not isinstance(function.get("name"), str) or not function["name"]:
            return f"Missing required parameter: 'tools[{index}].function.name'."
    return None


def _names(tools: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {t["function"]["name"]: t["function"] for t in tools if t.get("type") == "function"}


def _arguments(function: Mapping[str, Any], text: str) -> str:
    schema = function.get("parameters")
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return "{}"
    required = schema.get("required") if isinstance(schema, dict) else None
    wanted = [n for n in required if n in properties] if isinstance(required, list) else []
    if not wanted and properties:
        wanted = [next(iter(properties))]
    values: dict[str, Any] = {}
    for name in wanted:
        spec = properties[name] if isinstance(properties[name], dict) else {}
        if isinstance(spec.get("enum"), list) and spec["enum"]:
            values[name] = spec["enum"][0]
        else:
            values[name] = _DEFAULTS.get(str(spec.get("type")), text)
    return json.dumps(values, ensure_ascii=False)


def _call_id(name: str, arguments: str, number: int) -> str:
    digest = zlib.crc32(f"{number}|{name}|{arguments}".encode("utf-8", "replace"))
    return f"call_{digest:08x}{number:02d}"


def planned_calls(
    messages: Sequence[Mapping[str, Any]],
    options: Mapping[str, Any],
    *,
    name: str | None = None,
    arguments: str | None = None,
    count: int = 0,
) -> list[Call]:
    """The calls the answer makes (empty: it answers with text). ``name``/``arguments``/
    ``count`` come from a ``tool_call`` behaviour, which calls even when the automatic rule
    would not."""
    tools = options.get("tools") or []
    choice = options.get("tool_choice")
    scripted = name is not None or arguments is not None or count > 0
    last = messages[-1].get("role") if messages else None
    if not scripted and (not tools or choice == "none" or last != "user"):
        return []
    functions = _names(tools)
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        name = name or choice["function"].get("name")
    order = [name] if name else list(functions) or ["tool"]
    text = message_text(messages[-1].get("content")) if messages else ""
    calls = []
    for number in range(max(count, 1)):
        chosen = order[number % len(order)]
        args = arguments if arguments is not None else _arguments(functions.get(chosen, {}), text)
        calls.append(Call(_call_id(chosen, args, number), chosen, args))
    return calls
