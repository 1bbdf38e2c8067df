"""Tool calls in a routed call: whether a request carries tools (then only targets that can
call them may take it), the functions it declares, and the pieces of the answer's calls put
back together.

A request *carries tools* when it offers ``tools`` (a non-empty list) or its conversation
holds tool calls or tool results (an assistant message with ``tool_calls``, a ``tool``
message): a target that cannot call tools would answer it as if the tools were not there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._exceptions import InvalidRequestError
from .._types import Messages, ToolCallDelta
from ._models import ChatCompletionMessageToolCall, Function

__all__ = ["carries_tools", "declared_functions", "merge_calls"]


def declared_functions(tools: Any) -> dict[str, Mapping[str, Any]]:
    """The function tools ``tools`` declares, by name. An :class:`InvalidRequestError` (param
    ``tools``) when it is not a list of tool objects, or a function tool has no name; tools
    of other types (a server's own kinds) are not functions and are not listed."""
    if not isinstance(tools, list | tuple):
        raise InvalidRequestError("tools must be a list of tools", param="tools")
    functions: dict[str, Mapping[str, Any]] = {}
    for index, tool in enumerate(tools):
        if not isinstance(tool, Mapping) or not isinstance(tool.get("type"), str):
            raise InvalidRequestError(
                f"tools[{index}] must be an object with a 'type'", param=f"tools[{index}]"
            )
        if tool["type"] != "function":
            continue
        function = tool.get("function")
        name = function.get("name") if isinstance(function, Mapping) else None
        if not isinstance(name, str) or not name:
            raise InvalidRequestError(
                f"tools[{index}] must be {{'type': 'function', 'function': {{'name': ...}}}}",
                param=f"tools[{index}]",
            )
        functions[name] = function  # type: ignore[assignment]  # (a Mapping, checked)
    return functions


def carries_tools(messages: Messages, options: Mapping[str, Any] | None) -> bool:
    """Does this request need a target that can call tools (see the module)?"""
    if options:
        tools = options.get("tools")
        if tools:
            declared_functions(tools)  # a malformed list is the caller's 400, here
            return True
    return any(message.get("role") == "tool" or message.get("tool_calls") for message in messages)


def merge_calls(pieces: Sequence[ToolCallDelta]) -> list[ChatCompletionMessageToolCall]:
    """Whole calls from their pieces, in index order: id and name from the pieces that carry
    them, the arguments joined."""
    calls: dict[int, list[Any]] = {}
    for piece in pieces:
        call = calls.setdefault(piece.index, [None, None, []])
        call[0] = call[0] or piece.id
        call[1] = call[1] or piece.name
        call[2].append(piece.arguments)
    return [
        ChatCompletionMessageToolCall(
            id=ident or f"call_{index}",
            function=Function(name=name or "", arguments="".join(parts)),
        )
        for index, (ident, name, parts) in sorted(calls.items())
    ]
