"""``ProviderModelMixin``: a provider's models, aliases and the lookup between them."""

from __future__ import annotations

import random
from typing import ClassVar

from .._exceptions import ModelNotSupportedError

__all__ = ["ProviderModelMixin"]


class ProviderModelMixin:
    """Declares ``default_model``, ``models`` and ``model_aliases``; resolves a requested model."""

    default_model: ClassVar[str | None] = None
    models: ClassVar[list[str]] = []
    model_aliases: ClassVar[dict[str, str | list[str]]] = {}

    @classmethod
    def get_models(cls) -> list[str]:
        """The models this provider offers (the default model alone when none are listed)."""
        if cls.models:
            return list(cls.models)
        return [cls.default_model] if cls.default_model else []

    @classmethod
    def get_model(cls, model: str | None) -> str:
        """Resolve ``model``, in this order: empty → the default model; an alias → its target
        (a list target → one of them); an alias target or a listed model → itself; a provider
        with a model list that lacks it → :class:`ModelNotSupportedError`; a provider with no
        model list → accepted as given."""
        if not model:
            if cls.default_model is None:
                raise ModelNotSupportedError(
                    f"No model given and {cls.__name__} has no default model",
                    provider=cls.__name__,
                )
            return cls.default_model
        target = cls.model_aliases.get(model)
        if target is not None:
            return random.choice(target) if isinstance(target, list) else target
        if model in cls.models or _is_alias_target(cls.model_aliases, model):
            return model
        if cls.models:
            raise ModelNotSupportedError(
                f"Model not found: {model} in: {cls.__name__} Valid models: {cls.models}",
                provider=cls.__name__,
            )
        return model


def _is_alias_target(aliases: dict[str, str | list[str]], model: str) -> bool:
    return any(
        model == target or (isinstance(target, list) and model in target)
        for target in aliases.values()
    )
