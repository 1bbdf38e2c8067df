"""The provider registry: one line per provider in ``PROVIDERS``."""

from __future__ import annotations

from .._exceptions import ProviderNotFoundError
from ._base import BaseProvider
from .aiengine import AIEngine
from .aipower import AIPower
from .anysite import AnySite
from .chatgpt4o import Chatgpt4o
from .chatgptt import ChatGptt
from .openai_compatible import OpenAICompatible

__all__ = ["PROVIDERS", "get_provider", "list_providers"]

PROVIDERS: tuple[type[BaseProvider], ...] = (
    AIEngine,
    AIPower,
    AnySite,
    ChatGptt,
    Chatgpt4o,
    OpenAICompatible,
)


def list_providers(working_only: bool = False) -> list[type[BaseProvider]]:
    """Every registered provider, by name; only the working ones with ``working_only``."""
    providers = sorted(PROVIDERS, key=lambda provider: provider.get_name().lower())
    return [p for p in providers if p.working or not working_only]


def get_provider(name: str) -> type[BaseProvider]:
    """The provider called ``name`` (case-insensitive)."""
    wanted = name.strip().lower()
    for provider in PROVIDERS:
        if provider.get_name().lower() == wanted:
            return provider
    names = ", ".join(p.get_name() for p in list_providers())
    raise ProviderNotFoundError(f"Unknown provider {name!r}; known providers: {names}")
