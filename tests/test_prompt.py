import pytest

from chatbridge import format_prompt


def test_one_message_is_its_text() -> None:
    assert format_prompt([{"role": "user", "content": "hi"}]) == "hi"


def test_system_and_user_match_gpt4free_output() -> None:
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    assert format_prompt(messages) == "System: be brief\nUser: hi\nAssistant:"


def test_special_tokens_force_role_lines_for_one_message() -> None:
    assert format_prompt([{"role": "user", "content": "hi"}], add_special_tokens=True) == (
        "User: hi\nAssistant:"
    )


def test_blank_messages_skipped_and_do_continue() -> None:
    messages = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "   "},
        {"role": "user", "content": "b"},
    ]
    assert format_prompt(messages, do_continue=True) == "User: a\nUser: b"


def test_system_dropped_when_excluded() -> None:
    messages = [
        {"role": "system", "content": "rules"},
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "r"},
    ]
    assert format_prompt(messages, include_system=False) == "User: q\nAssistant: r\nAssistant:"


def test_list_content_is_flattened_to_text_parts() -> None:
    content = [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "x"}},
        {"type": "text", "text": "here"},
    ]
    assert format_prompt([{"role": "user", "content": content}]) == "look here"


def test_empty_list_is_a_clear_value_error() -> None:
    with pytest.raises(ValueError, match="at least one message"):
        format_prompt([])
