"""Tools as the chat API has them, from a dialect's tool list: each function tool becomes
``{"type": "function", "function": {name, description, parameters, strict}}``; tools of
other kinds (hosted or server tools, which only their vendor's servers run) are left out, and
their types returned so the answer can name them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._request import bad

__all__ = ["translate_tools"]


def _function(tool: dict[str, Any], schema: str, where: str) -> dict[str, Any]:
    name = tool.get("name")
    if not isinstance(name, str) or not name:
        raise bad(f"{where}.name must be a non-empty string", f"{where}.name")
    function: dict[str, Any] = {"name": name}
    if isinstance(tool.get("description"), str):
        function["description"] = tool["description"]
    if tool.get(schema) is not None:
        function["parameters"] = tool[schema]
    if isinstance(tool.get("strict"), bool):
        function["strict"] = tool["strict"]
    return {"type": "function", "function": function}


def translate_tools(
    value: Any, schema: str, other_kind: Callable[[dict[str, Any], str], str | None]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The function tools of ``value`` (their parameters under ``schema``) and the kinds of
    the others; ``other_kind(tool, where)`` says a tool's kind when it is not a function."""
    if value is None:
        return [], []
    if not isinstance(value, list):
        raise bad("'tools' must be a list", "tools")
    functions: list[dict[str, Any]] = []
    ignored: list[str] = []
    for index, tool in enumerate(value):
        where = f"tools[{index}]"
        if not isinstance(tool, dict):
            raise bad(f"{where} must be an object", where)
        kind = other_kind(tool, where)
        if kind is None:
            functions.append(_function(tool, schema, where))
        else:
            ignored.append(kind)
    return functions, ignored
