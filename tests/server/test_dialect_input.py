"""The doors' translations onto chat messages and options, on plain data."""

from __future__ import annotations

import pytest

from chatbridge.server._dialects._anthropic_input import (
    anthropic_messages,
    anthropic_tool_choice,
    anthropic_tools,
    system_text,
)
from chatbridge.server._dialects._responses_input import input_messages, tool_choice, tools
from chatbridge.server._errors import ApiError

CALL = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}


def test_responses_items_become_chat_messages() -> None:
    items = [
        {
            "type": "message",
            "role": "developer",
            "content": [{"type": "input_text", "text": "Be brief."}],
        },
        {"role": "user", "content": "Hi"},
        {"type": "reasoning", "summary": []},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Let me look."}],
        },
        {"type": "function_call", "call_id": "c1", "name": "f", "arguments": '{"a": 1}'},
        {"type": "function_call", "call_id": "c2", "name": "g", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "one"},
        {
            "type": "function_call_output",
            "call_id": "c2",
            "output": [{"type": "input_text", "text": "two"}],
        },
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "a"},
                {"type": "input_image", "image_url": "data:x"},
            ],
        },
    ]
    assert input_messages(items) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                CALL,
                {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "one"},
        {"role": "tool", "tool_call_id": "c2", "content": "two"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "a"},
                {"type": "image_url", "image_url": {"url": "data:x"}},
            ],
        },
    ]
    assert input_messages("Hello") == [{"role": "user", "content": "Hello"}]
    called = input_messages(
        [{"type": "function_call", "call_id": "c1", "name": "f", "arguments": '{"a": 1}'}]
    )
    assert called == [{"role": "assistant", "content": None, "tool_calls": [CALL]}]


@pytest.mark.parametrize(
    ("value", "param"),
    [
        (5, "input"),
        ([{"type": "file_search_call"}], "input[0].type"),
        ([{"role": "tool", "content": "x"}], "input[0].role"),
        ([{"type": "function_call", "name": "f"}], "input[0].call_id"),
        ([{"type": "function_call_output", "call_id": "c", "output": 5}], "input[0].output"),
        ([{"role": "user", "content": [{"type": "input_audio"}]}], "input[0].content[0]"),
    ],
)
def test_responses_items_that_cannot_go_on_are_a_400_naming_them(value: object, param: str) -> None:
    with pytest.raises(ApiError) as bad:
        input_messages(value)
    assert bad.value.status == 400 and bad.value.param == param


def test_responses_tools_and_choice() -> None:
    function = {
        "type": "function",
        "name": "f",
        "description": "d",
        "parameters": {},
        "strict": True,
    }
    made, ignored = tools([function, {"type": "web_search"}, {"type": "namespace", "name": "n"}])
    assert made == [
        {
            "type": "function",
            "function": {"name": "f", "description": "d", "parameters": {}, "strict": True},
        }
    ]
    assert ignored == ["web_search", "namespace"]
    assert tool_choice({"type": "function", "name": "f"}) == {
        "type": "function",
        "function": {"name": "f"},
    }
    assert tool_choice("required") == "required"
    with pytest.raises(ApiError):
        tool_choice({"type": "web_search"})


def test_anthropic_blocks_become_chat_messages() -> None:
    messages = [
        {
            "role": "user",
            "content": [{"type": "text", "text": "<reminder>"}, {"type": "text", "text": "Hi"}],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "s"},
                {"type": "text", "text": "Looking."},
                {"type": "tool_use", "id": "c1", "name": "f", "input": {"a": 1}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "c1",
                    "content": [{"type": "text", "text": "one"}],
                },
                {"type": "tool_result", "tool_use_id": "c2", "content": "boom", "is_error": True},
                {"type": "text", "text": "Now?"},
            ],
        },
        {"role": "system", "content": "Mid-conversation note."},
    ]
    assert anthropic_messages(messages) == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "<reminder>"}, {"type": "text", "text": "Hi"}],
        },
        {"role": "assistant", "content": "Looking.", "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": "c1", "content": "one"},
        {"role": "tool", "tool_call_id": "c2", "content": "Error: boom"},
        {"role": "user", "content": "Now?"},
        {"role": "system", "content": "Mid-conversation note."},
    ]
    assert system_text([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]) == "a\nb"
    image = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "QQ=="},
    }
    [user] = anthropic_messages([{"role": "user", "content": [image]}])
    assert user["content"] == [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,QQ=="}}
    ]


def test_anthropic_tools_and_choice() -> None:
    made, ignored = anthropic_tools(
        [
            {"name": "f", "description": "d", "input_schema": {"type": "object"}},
            {"type": "bash_20250124", "name": "bash"},
        ]
    )
    assert made == [
        {
            "type": "function",
            "function": {"name": "f", "description": "d", "parameters": {"type": "object"}},
        }
    ]
    assert ignored == ["bash_20250124"]
    assert anthropic_tool_choice({"type": "any"}) == ("required", None)
    assert anthropic_tool_choice({"type": "auto", "disable_parallel_tool_use": True}) == (
        "auto",
        False,
    )
    assert anthropic_tool_choice({"type": "tool", "name": "f"}) == (
        {"type": "function", "function": {"name": "f"}},
        None,
    )
    assert anthropic_tool_choice({"type": "none"}) == ("none", None)
    for bad in ({"type": "tool"}, "auto"):
        with pytest.raises(ApiError):
            anthropic_tool_choice(bad)
    for wrong in (
        [{"role": "tool", "content": "x"}],
        [{"role": "user", "content": [{"type": "document"}]}],
        [],
    ):
        with pytest.raises(ApiError):
            anthropic_messages(wrong)
