"""The public names of ``chatbridge``, listed once: type checkers read them here, and
``__init__.py`` loads each one on first use from the module named beside it."""

__version__: str

from ._aipower import (
    Conversation as Conversation,
)
from ._client._client import (
    AsyncClient as AsyncClient,
)
from ._client._config import (
    Route as Route,
    Target as Target,
)
from ._client._models import (
    ChatCompletion as ChatCompletion,
    ChatCompletionChunk as ChatCompletionChunk,
)
from ._client._policy import (
    Policy as Policy,
)
from ._client._sync_client import (
    Client as Client,
)
from ._exceptions import (
    AllTargetsFailedError as AllTargetsFailedError,
    BlockedError as BlockedError,
    ChallengeError as ChallengeError,
    ChatbridgeError as ChatbridgeError,
    CloudflareError as CloudflareError,
    ConfigError as ConfigError,
    ConnectError as ConnectError,
    ContentFilterError as ContentFilterError,
    ContextLengthError as ContextLengthError,
    EmptyResponseError as EmptyResponseError,
    FirstTokenTimeout as FirstTokenTimeout,
    InvalidRequestError as InvalidRequestError,
    MissingAuthError as MissingAuthError,
    MissingSiteError as MissingSiteError,
    MissingTokenError as MissingTokenError,
    ModelNotSupportedError as ModelNotSupportedError,
    NonceError as NonceError,
    NotAIEngineSiteError as NotAIEngineSiteError,
    NotAIPowerSiteError as NotAIPowerSiteError,
    PluginError as PluginError,
    ProviderNotFoundError as ProviderNotFoundError,
    ProxyError as ProxyError,
    RateLimitError as RateLimitError,
    RequestTimeoutError as RequestTimeoutError,
    ResponseError as ResponseError,
    ResponseStatusError as ResponseStatusError,
    ResponseTooLargeError as ResponseTooLargeError,
    RouteNotFoundError as RouteNotFoundError,
    RouteUnavailableError as RouteUnavailableError,
    StallTimeout as StallTimeout,
    ToolsNotSupportedError as ToolsNotSupportedError,
    TransportError as TransportError,
    TruncatedStreamError as TruncatedStreamError,
    UnsupportedSiteError as UnsupportedSiteError,
    UpstreamError as UpstreamError,
)
from ._http._decoders import (
    LineDecoder as LineDecoder,
    SSEDecoder as SSEDecoder,
    ServerSentEvent as ServerSentEvent,
)
from ._http._pool import (
    close_pool as close_pool,
)
from ._http._session import (
    StreamResponse as StreamResponse,
    StreamSession as StreamSession,
)
from ._http._status import (
    raise_for_status as raise_for_status,
)
from ._prompt import (
    format_prompt as format_prompt,
)
from ._providers._base import (
    AsyncGeneratorProvider as AsyncGeneratorProvider,
    AsyncProvider as AsyncProvider,
    BaseProvider as BaseProvider,
)
from ._providers._models import (
    ProviderModelMixin as ProviderModelMixin,
)
from ._providers._registry import (
    get_provider as get_provider,
    list_providers as list_providers,
)
from ._providers.aiengine import (
    AIEngine as AIEngine,
)
from ._providers.aipower import (
    AIPower as AIPower,
)
from ._providers.anysite import (
    AnySite as AnySite,
)
from ._providers.chatgpt4o import (
    Chatgpt4o as Chatgpt4o,
)
from ._providers.chatgptt import (
    ChatGptt as ChatGptt,
)
from ._providers.openai_compatible import (
    OpenAICompatible as OpenAICompatible,
)
from ._types import (
    AsyncResult as AsyncResult,
    Chunk as Chunk,
    CreateResult as CreateResult,
    FinishReason as FinishReason,
    HistoryListener as HistoryListener,
    HistoryTrimmed as HistoryTrimmed,
    Message as Message,
    Messages as Messages,
    ToolCallDelta as ToolCallDelta,
    Usage as Usage,
)
