from typing import ClassVar

import pytest

from chatbridge import Chatgpt4o, ChatGptt, ModelNotSupportedError, ProviderModelMixin


class Listed(ProviderModelMixin):
    default_model: ClassVar[str | None] = "m1"
    models: ClassVar[list[str]] = ["m1", "m2"]
    model_aliases: ClassVar[dict[str, str | list[str]]] = {
        "short": "m2",
        "any": ["m1", "m2"],
        "hidden": "target-only",
    }


class Open(ProviderModelMixin):
    default_model: ClassVar[str | None] = "d"


def test_empty_model_is_the_default() -> None:
    assert Listed.get_model("") == "m1"
    assert Chatgpt4o.get_model("") == "gpt-4o-mini-2024-07-18"
    assert ChatGptt.get_model("") == "gpt-4o"


def test_alias_resolves_and_list_alias_picks_a_member() -> None:
    assert Listed.get_model("short") == "m2"
    assert Listed.get_model("any") in ("m1", "m2")
    assert Chatgpt4o.get_model("gpt-4o-mini") == "gpt-4o-mini-2024-07-18"


def test_alias_target_and_listed_model_are_themselves() -> None:
    assert Listed.get_model("target-only") == "target-only"
    assert Listed.get_model("m2") == "m2"


def test_unknown_model_names_model_provider_and_valid_models() -> None:
    with pytest.raises(ModelNotSupportedError) as caught:
        Chatgpt4o.get_model("nope")
    text = str(caught.value)
    assert text.startswith(
        "Model not found: nope in: Chatgpt4o Valid models: ['gpt-4o-mini-2024-07-18']"
    )
    assert isinstance(caught.value, ValueError)
    assert caught.value.provider == "Chatgpt4o"


def test_no_model_list_accepts_anything() -> None:
    assert Open.get_model("whatever") == "whatever"
