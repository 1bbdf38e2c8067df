"""chatbridge: web chat services behind one async API.

The public names live in private modules and are re-exported here. Names whose modules pull
in aiohttp load on first use (PEP 562), so ``import chatbridge`` stays fast and touches no
network; this table is the only logic in this file, and it is there for that reason alone.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._exceptions import (
    AllTargetsFailedError,
    BlockedError,
    ChallengeError,
    ChatbridgeError,
    CloudflareError,
    ConfigError,
    ConnectError,
    ContentFilterError,
    ContextLengthError,
    EmptyResponseError,
    InvalidRequestError,
    MissingAuthError,
    MissingSiteError,
    MissingTokenError,
    ModelNotSupportedError,
    NonceError,
    NotAIEngineSiteError,
    NotAIPowerSiteError,
    PluginError,
    ProviderNotFoundError,
    RateLimitError,
    RequestTimeoutError,
    ResponseError,
    ResponseStatusError,
    ResponseTooLargeError,
    RouteNotFoundError,
    TransportError,
    TruncatedStreamError,
    UnsupportedSiteError,
    UpstreamError,
)
from ._prompt import format_prompt
from ._types import AsyncResult, Chunk, CreateResult, FinishReason, Message, Messages, Usage

if TYPE_CHECKING:
    from ._aipower._conversation import Conversation
    from ._client._client import AsyncClient
    from ._client._config import Route, Target
    from ._client._models import ChatCompletion, ChatCompletionChunk
    from ._client._policy import Policy
    from ._client._sync_client import Client
    from ._http._decoders import LineDecoder, ServerSentEvent, SSEDecoder
    from ._http._pool import close_pool
    from ._http._session import StreamResponse, StreamSession
    from ._http._status import raise_for_status
    from ._providers._base import AsyncGeneratorProvider, AsyncProvider, BaseProvider
    from ._providers._models import ProviderModelMixin
    from ._providers._registry import get_provider, list_providers
    from ._providers.aiengine import AIEngine
    from ._providers.aipower import AIPower
    from ._providers.anysite import AnySite
    from ._providers.chatgpt4o import Chatgpt4o
    from ._providers.chatgptt import ChatGptt
    from ._providers.openai_compatible import OpenAICompatible

__version__ = "0.1.0"

__all__ = [
    "AIEngine",
    "AIPower",
    "AllTargetsFailedError",
    "AnySite",
    "AsyncClient",
    "AsyncGeneratorProvider",
    "AsyncProvider",
    "AsyncResult",
    "BaseProvider",
    "BlockedError",
    "ChallengeError",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatGptt",
    "ChatbridgeError",
    "Chatgpt4o",
    "Chunk",
    "Client",
    "CloudflareError",
    "ConfigError",
    "ConnectError",
    "ContentFilterError",
    "ContextLengthError",
    "Conversation",
    "CreateResult",
    "EmptyResponseError",
    "FinishReason",
    "InvalidRequestError",
    "LineDecoder",
    "Message",
    "Messages",
    "MissingAuthError",
    "MissingSiteError",
    "MissingTokenError",
    "ModelNotSupportedError",
    "NonceError",
    "NotAIEngineSiteError",
    "NotAIPowerSiteError",
    "OpenAICompatible",
    "PluginError",
    "Policy",
    "ProviderModelMixin",
    "ProviderNotFoundError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseError",
    "ResponseStatusError",
    "ResponseTooLargeError",
    "Route",
    "RouteNotFoundError",
    "SSEDecoder",
    "ServerSentEvent",
    "StreamResponse",
    "StreamSession",
    "Target",
    "TransportError",
    "TruncatedStreamError",
    "UnsupportedSiteError",
    "UpstreamError",
    "Usage",
    "close_pool",
    "format_prompt",
    "get_provider",
    "list_providers",
    "raise_for_status",
]

_LAZY = {
    "AIEngine": "._providers.aiengine",
    "AIPower": "._providers.aipower",
    "AnySite": "._providers.anysite",
    "AsyncClient": "._client._client",
    "AsyncGeneratorProvider": "._providers._base",
    "AsyncProvider": "._providers._base",
    "BaseProvider": "._providers._base",
    "ChatCompletion": "._client._models",
    "ChatCompletionChunk": "._client._models",
    "ChatGptt": "._providers.chatgptt",
    "Chatgpt4o": "._providers.chatgpt4o",
    "Client": "._client._sync_client",
    "Conversation": "._aipower._conversation",
    "LineDecoder": "._http._decoders",
    "OpenAICompatible": "._providers.openai_compatible",
    "Policy": "._client._policy",
    "ProviderModelMixin": "._providers._models",
    "Route": "._client._config",
    "SSEDecoder": "._http._decoders",
    "ServerSentEvent": "._http._decoders",
    "StreamResponse": "._http._session",
    "StreamSession": "._http._session",
    "Target": "._client._config",
    "close_pool": "._http._pool",
    "get_provider": "._providers._registry",
    "list_providers": "._providers._registry",
    "raise_for_status": "._http._status",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'chatbridge' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
