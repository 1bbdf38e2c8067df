"""Configuration of the local AI Power site: one frozen dataclass, every default in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Generation = Literal["1.7", "1.8", "2.2", "aipkit"]
Placement = Literal["shortcode", "widget"]
FaultTarget = Literal["chat", "pages", "all"]
FaultKind = Literal[
    "http500",
    "cloudflare",
    "cloudflare503",
    "maintenance",
    "php_warning",
    "truncate",
    "reset",
    "slow",
]
UpstreamErrorMode = Literal["json", "exception"]

GENERATIONS: tuple[Generation, ...] = get_args(Generation)
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)

#: WordPress default nonce half-life (seconds): nonce_life 86 400 / 2.
DEFAULT_TICK_SECONDS = 43200.0
#: AIPKit SSE message cache lifetime (seconds), from class-sse-message-cache.php.
DEFAULT_AIPKIT_CACHE_TTL = 60.0
#: AIPKit server-side history length (`max_messages`).
DEFAULT_AIPKIT_MAX_MESSAGES = 15
#: 1.7.x cookie history length (`conversation_cut`).
DEFAULT_CONVERSATION_CUT = 10
#: Pages the page cache holds (keyed by the client's Host header and path); the oldest go
#: first, so clients naming endless Hosts cannot grow it without bound.
PAGE_CACHE_ENTRIES = 128
#: PHP `post_max_size`: a larger body leaves `$_POST` empty.
POST_MAX_SIZE = 8 * 1024 * 1024
#: Greeting ("system") prompt sent upstream as the first user message and echoed back.
DEFAULT_GREETING = (
    "Converse as if you were an AI assistant. Answer the question as truthfully as possible "
    "using the provided text. Tone: friendly."
)
DEFAULT_SECRET = "chatbridge-local-site-secret"
DEFAULT_TOKEN_LIMIT_MESSAGE = "You have reached your token limit."


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """What kind of AI Power WordPress site to imitate.

    Every field has a default, so ``SiteConfig()`` is a healthy plugin 2.2 site with the chat
    shortcode on the home page, streaming on and no page cache.
    """

    #: Plugin generation: ``"1.7"`` (JSON only, cookie history, JSON ``Invalid nonce.`` failure),
    #: ``"1.8"`` (1.8.79–1.8.90: JSON ``Nonce verification failed``, ``$_REQUEST`` fields,
    #: ``sanitize_text_field``), ``"2.2"`` (1.8.91–2.2: nonce failure is HTTP 403 text, POST-only
    #: fields, streaming on) or ``"aipkit"`` (2.3+: cache step + GET SSE, legacy actions 400 ``0``).
    generation: Generation = "2.2"
    #: Streaming of the configured chat (``text/event-stream`` replies: docs/protocol-ai-power.md,
    #: "Legacy streams" and "Processing order").
    #: It sets the option of the placement's own action (``wpaicg_shortcode_stream`` or
    #: ``wpaicg_widget_stream``) and, when ``bot_id`` > 0, the bot's ``openai_stream_nav``;
    #: the other action keeps its default (on). ``None`` keeps every default: action options on
    #: (1.8 and 2.2), custom bots off. 1.7 cannot stream at all; AIPKit always streams.
    stream: bool | None = None
    #: Legacy container: ``"shortcode"`` (``div.wpaicg-chat-shortcode``, action
    #: ``wpaicg_chat_shortcode_message``) or ``"widget"`` (``div.wpaicg-chatbox`` in a
    #: ``wpaicg_chat_widget`` wrapper, action ``wpaicg_chatbox_message``).
    placement: Placement = "shortcode"
    #: Path of the page holding the chat: ``"/"`` is the home page; any other path (``"/chat/"``)
    #: makes the home page a plain page (legacy pages still carry ``wpaicgParams``).
    chat_path: str = "/"
    #: ``data-bot-id`` of the container (0 = the default shortcode/widget bot). AIPKit bots are
    #: posts, so for ``"aipkit"`` a 0 here is rendered as bot 101.
    bot_id: int = 0
    #: WordPress nonce tick length (``nonce_life / 2``) in seconds. A nonce is valid during the tick
    #: it was made in and the next one.
    tick_seconds: float = DEFAULT_TICK_SECONDS
    #: Serve every page exactly as first rendered (stale nonce included) unless the URL carries a
    #: query string, like a page-cache plugin. Off by default so that a fresh page always carries a
    #: fresh nonce; turn it on to test cache-busting.
    page_cache: bool = False
    #: Words (compared lower-cased, message split on single spaces) that are refused.
    banned_words: tuple[str, ...] = ()
    #: Client IPs that are refused (first of Client-IP, X-Forwarded-For, …, the peer address).
    banned_ips: tuple[str, ...] = ()
    #: Guest token quota per client id (``None`` = unlimited). Compared as ``used > limit`` before a
    #: request, usage added after a success, as the plugin does.
    guest_token_limit: int | None = None
    #: ``msg`` of the token-limit reply.
    token_limit_message: str = DEFAULT_TOKEN_LIMIT_MESSAGE
    #: Make the "upstream" fail with this message (for example an OpenAI quota text).
    upstream_error: str | None = None
    #: How the upstream fails: ``"json"`` (an API error body) or ``"exception"`` (a PHP exception:
    #: streams end with ``data: [LIMITED]``).
    upstream_error_mode: UpstreamErrorMode = "json"
    #: Fault kinds to inject (see :data:`FAULT_KINDS`); one is picked per faulted request.
    faults: tuple[FaultKind, ...] = ()
    #: Probability that an eligible request is faulted (seeded by ``fault_seed``).
    fault_rate: float = 1.0
    #: Fault every Nth eligible request instead of at random (overrides ``fault_rate``).
    fault_every: int | None = None
    #: Seed of the fault random generator, so runs repeat.
    fault_seed: int = 0
    #: Which requests faults hit: admin-ajax (``"chat"``), front-end page GETs (``"pages"``) or
    #: both (``"all"``).
    fault_target: FaultTarget = "chat"
    #: Delay of the ``"slow"`` fault (seconds).
    slow_seconds: float = 2.0
    #: Upgrade the site from legacy to AIPKit after this many legacy chat requests.
    upgrade_after: int | None = None
    #: OpenAI-compatible base or ``/chat/completions`` URL to forward conversations to; ``None``
    #: answers with the built-in local responder.
    upstream: str | None = None
    #: Model name sent upstream.
    upstream_model: str = "gpt-4o-mini"
    #: Bearer key sent upstream, if any.
    upstream_api_key: str | None = None
    #: Site secret (``NONCE_KEY`` + ``NONCE_SALT``) the nonce HMAC is keyed with.
    secret: str = DEFAULT_SECRET
    #: AIPKit message cache lifetime (seconds).
    aipkit_cache_ttl: float = DEFAULT_AIPKIT_CACHE_TTL
    #: AIPKit server-side history length (turns).
    aipkit_max_messages: int = DEFAULT_AIPKIT_MAX_MESSAGES
    #: AIPKit container mode: ``"popup"`` (``div.aipkit_popup_wrapper`` carries the config) or
    #: ``"inline"`` (``div.aipkit_chat_container`` carries it).
    aipkit_mode: Literal["popup", "inline"] = "popup"
    #: 1.7.x cookie history length.
    conversation_cut: int = DEFAULT_CONVERSATION_CUT
    #: Greeting prompt, echoed as ``greeting_message``.
    greeting: str = DEFAULT_GREETING
    #: Put another plugin's ``data-nonce`` (and the plugin's image nonce) before the chat
    #: container, as real sites have. Off only to give naive clients (gpt4free's, which take
    #: the first ``data-nonce`` in the page) a site they can work with in benchmarks.
    other_plugin_nonce: bool = True
    #: Approximate page size in bytes (real pages are ~67 KB).
    page_size: int = 67 * 1024
    #: Keep at most this many recorded requests (older ones are dropped).
    max_recorded_requests: int = 10000
    #: The bot is an OpenAI Assistant (an ``asst_…`` model, plugin 1.8.95+): the
    #: container says ``data-assistant-enabled="true"``, the conversation lives in a server-side
    #: thread (``wpaicg_chat_history`` is ignored; "history turns" counts the thread's turns),
    #: JSON successes carry ``thread_id`` and streams use the Assistants events (``thread_id``,
    #: ``thread.message.delta``, ``assistant_error``, ``done``). A ``thread_id`` the site does not
    #: know starts a new thread (the real upstream would fail with a 404 instead). Needs
    #: generation ``"2.2"``: the 1.8 generation imitated here (1.8.79–1.8.90) predates
    #: assistants, so any other generation is refused.
    assistant: bool = False
    #: No API key is configured: every legacy chat request answers ``Unable to initialize the AI
    #: instance. …`` after the nonce check (1.7: ``Missing API Setting``, before the nonce check),
    #: as plain JSON even on streaming sites. Legacy generations only.
    misconfigured: bool = False
    #: The bot uses Pinecone embeddings and the query finds nothing: ``No results from
    #: Pinecone.`` as JSON (``status: error``) or, when streaming, as a single
    #: ``pineconeError`` flag line that ends the stream. Legacy generations only.
    pinecone_error: bool = False

    def __post_init__(self) -> None:
        if self.assistant and self.generation != "2.2":
            raise ValueError(
                "assistant mode needs generation 2.2 (assistants came with plugin 1.8.95), "
                f"not {self.generation!r}"
            )
        if self.generation == "aipkit":
            legacy_only = [name for name in ("misconfigured", "pinecone_error")
                           if getattr(self, name)]
            if legacy_only:
                raise ValueError(f"{', '.join(legacy_only)}: legacy generations only, "
                                 "not 'aipkit'")

    def streams(self) -> bool:
        """Whether the configured chat (placement, plus the bot when ``bot_id`` > 0) streams."""
        if self.generation == "aipkit":
            return True
        return self.streams_for(_ACTION_OF[self.placement], self.bot_id)

    def streams_for(self, action: str, bot_id: int) -> bool:
        """``determine_stream_nav_setting``: does a legacy request for ``action`` with this
        ``bot_id`` stream? A bot id other than the configured bot names no post and falls back
        to the action's option."""
        if self.generation == "1.7":
            return False
        if bot_id > 0 and bot_id == self.bot_id:
            return bool(self.stream)  # the bot's openai_stream_nav, default '0'
        if action == _ACTION_OF[self.placement] and self.stream is not None:
            return self.stream
        return True  # wpaicg_shortcode_stream / wpaicg_widget_stream default '1'


_ACTION_OF: dict[str, str] = {
    "shortcode": "wpaicg_chat_shortcode_message",
    "widget": "wpaicg_chatbox_message",
}
