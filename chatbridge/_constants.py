"""Defaults, defined once. Everything tunable elsewhere refers back here."""

from __future__ import annotations

#: The distribution's name on the package index (``import chatbridge`` and the command keep
#: their name): what an install hint names.
DISTRIBUTION = "chatbridge-wp"


def install_hint(extra: str) -> str:
    """How to add an optional extra, for a released install and for a checkout alike."""
    return f"pip install '{DISTRIBUTION}[{extra}]', or in a checkout pip install -e '.[{extra}]'"


#: Total deadline for one request, body included (seconds). The plugin's own upstream
#: timeout is 200 s, and proxies in front usually cut at ~100 s (Cloudflare 524).
DEFAULT_TIMEOUT = 120.0
#: Deadline for establishing a connection (seconds).
DEFAULT_CONNECT_TIMEOUT = 15.0
#: Longest silence allowed between two chunks of a body (seconds).
DEFAULT_READ_GAP = 60.0
#: Largest response body read into memory or streamed through (bytes).
DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
#: Longest single line accepted from a line or SSE stream (bytes).
DEFAULT_MAX_LINE_BYTES = 1024 * 1024
#: Pages at least this long (characters) are parsed in a worker thread, off the event loop.
PARSE_IN_THREAD_CHARS = 512 * 1024
#: Redirects followed for one request.
DEFAULT_MAX_REDIRECTS = 10
#: Response header limits. Plugin 1.7 keeps the whole question and answer in a cookie, so a
#: reply's Set-Cookie line grows with the answer: ~9 KB for 6,000 characters, past 64 KiB
#: for ~52 KB, megabytes for a long one (a browser reads it and drops the cookie). So one
#: header line or field may be as long as the reply's body may be (the session's
#: ``max_response_bytes``, ``DEFAULT_MAX_RESPONSE_BYTES`` by default), and a reply has at
#: most this many header fields.
MAX_HEADER_FIELDS = 64
#: Longest cookie (name and value) kept, as browsers do. The 1.7 plugin's history cookie
#: passes it with long answers; a browser then drops it and the site forgets the history, so
#: we drop it too and carry the conversation in the next message instead (never a Cookie
#: header that servers refuse, and never a site silently answering without the history).
MAX_COOKIE_BYTES = 4096
#: Connections to one host at once, per target (``connections_per_host``); a request past
#: it waits for one, within its own deadline. A provider says what its kind of site wants:
#: a small WordPress site runs a handful of PHP workers (PHP-FPM's default pool has 5), so
#: more connections only queue there instead of here; an OpenAI-compatible API serves many
#: streams at once (the OpenAI SDK's own client allows 1,000 connections). The default is
#: for a session no provider configured.
DEFAULT_CONNECTIONS_PER_HOST = 32
SITE_CONNECTIONS_PER_HOST = 8
OPENAI_CONNECTIONS_PER_HOST = 1000
#: The most a target may ask for (each connection is a descriptor).
MAX_CONNECTIONS_PER_HOST = 10_000

DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
DEFAULT_HEADERS: dict[str, str] = {
    "User-Agent": DEFAULT_USER_AGENT,
    "Accept": "text/html,application/xhtml+xml,application/json,text/event-stream;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.9",
}

#: AI Power calls: the plugin's own upstream timeout is 200 s and a non-streamed reply sends
#: nothing until it is done (docs/protocol-ai-power.md, "Time limits"), so the gap and the
#: total allow for that and a margin.
AIPOWER_TIMEOUT = 240.0
#: ``Chatgpt4o.create_async``'s default deadline: the seed's own signature says 120, and the
#: seed API is kept. (``ChatGptt`` takes no ``timeout`` of its own, so AIPOWER_TIMEOUT applies.)
CHATGPT4O_TIMEOUT = 120
AIPOWER_READ_GAP = 210.0
#: Turns a site keeps for a conversation it holds itself: 1.7 keeps ``conversation_cut``
#: (default 10) cookie entries; AIPKit uses the last ``max_messages`` (default 15), counted
#: here with the new message. Longer conversations are flattened into a fresh one.
LEGACY17_HISTORY_LIMIT = 10
AIPKIT_HISTORY_LIMIT = 14
#: A conversation the site cannot continue itself (a 1.7 cookie window, AIPKit past its
#: memory, an edited history) is flattened into one message, at most this many characters:
#: system prompts and the current message always go whole; of the earlier turns, long ones
#: are shortened (their middle left out) and, only when even that is not enough, the oldest
#: are dropped. What was left out is reported (``HistoryTrimmed``). 12,000 characters keep
#: a model's context and a 1.7 history cookie within reason.
FLATTENED_MESSAGE_BUDGET = 12_000
#: A shortened turn keeps at least this many characters (its start and its end); turns no
#: longer than this are kept whole or dropped whole.
FLATTENED_TURN_MIN_CHARS = 1_000
#: An OpenAI Assistants thread keeps every turn; this only bounds what we track.
ASSISTANT_HISTORY_LIMIT = 1000
#: Sites whose token caches are kept, and conversations remembered per site (LRU).
MAX_SITES = 256
MAX_CONVERSATIONS = 1024

#: AI Engine calls: the same margins as AI Power (a whole reply sends nothing until the
#: model is done; the plugin's own model timeouts are minutes).
AIENGINE_TIMEOUT = 240.0
AIENGINE_READ_GAP = 210.0
#: Earlier messages an AI Engine bot keeps besides the first (its ``maxMessages``, 15 unless
#: the page says otherwise); a longer transcript is folded so nothing is dropped.
AIENGINE_MAX_MESSAGES = 15
#: The longest line of an AI Engine reply: its ``end`` frame carries the whole answer, JSON
#: encoded twice, on one line, so a line may be as long as a reply.
AIENGINE_MAX_LINE_BYTES = DEFAULT_MAX_RESPONSE_BYTES

#: A nonce is refreshed proactively after this age (seconds), before a site can refuse it
#: (docs/protocol-ai-power.md, "Nonce lifetime").
NONCE_REFRESH_AGE = 10 * 3600.0
#: WordPress nonce half-life with the default nonce_life of one day (seconds).
WORDPRESS_TICK = 43200.0

#: OpenAI-compatible endpoints (``OpenAICompatible``): total deadline per request, and the
#: longest silence between two chunks (a local model may think a while before its first
#: token).
OPENAI_TIMEOUT = 120.0
OPENAI_READ_GAP = 60.0
#: After a ``finish_reason`` the answer is complete: the usage chunk and ``[DONE]`` are only
#: waited for this long (seconds) before the stream is considered over.
OPENAI_FINISH_GRACE = 1.0
#: ``Retry-After`` values above this (seconds) are capped: an upstream that says "come back
#: next year" is treated as "not within the hour".
MAX_RETRY_AFTER = 3600.0

#: The OpenAI-compatible server (``chatbridge serve``): where it binds, and its caps.
SERVER_HOST = "127.0.0.1"
SERVER_PORT = 8000
#: Largest request body accepted (bytes); larger is a 413.
SERVER_MAX_BODY_BYTES = 1024 * 1024
#: Most messages in one request, and the longest text of one message (characters).
SERVER_MAX_MESSAGES = 1000
SERVER_MAX_MESSAGE_CHARS = 200_000
#: Seconds in-flight requests get to finish after SIGTERM before they are cancelled.
SERVER_GRACE_SECONDS = 10.0
#: Per API key: requests per minute and concurrent streams (0 = no limit).
SERVER_REQUESTS_PER_MINUTE = 0
SERVER_CONCURRENT_STREAMS = 0
#: Open connections at most (a streamed answer holds two descriptors: the caller's and the
#: upstream's); the process's descriptor limit is raised to fit, or the cap lowered to it.
SERVER_MAX_CONNECTIONS = 4096
#: Seconds a connection gets to send a request's headers (from its first byte, or from
#: the connection's start), and seconds a kept-alive connection may sit with nothing asked.
SERVER_HEADER_TIMEOUT = 10.0
SERVER_IDLE_TIMEOUT = 60.0
#: Seconds a stored ``/v1/responses`` answer is kept for ``previous_response_id`` and
#: ``GET /v1/responses/{id}`` (0: none is stored).
SERVER_RESPONSES_TTL = 3600.0

#: The chat page (``chatbridge serve``, ``/``): the longest answer text ``POST /ui/render``
#: turns into HTML (characters; longer answers are shown as plain text), the time one
#: rendering may spend highlighting code (CPU seconds; code after it is plain), and how long
#: a browser may keep an asset whose URL names its content hash (seconds).
UI_RENDER_MAX_CHARS = 200_000
UI_HIGHLIGHT_SECONDS = 0.05
UI_ASSET_MAX_AGE = 365 * 24 * 3600
#: Shared state (``chatbridge._state``): the in-memory store's bound (keys), every Redis
#: call's time limit (seconds: a stalled Redis must not stall requests; ``[state] timeout``
#: sets it, up to the most it may be), the limit of the
#: first reach at start (seconds: a connection, its handshake and the store's scripts loaded
#: cost some fifty calls, more on a busy machine, and no request waits on it yet), and how
#: long a process serves from memory after Redis failed before it tries Redis again
#: (seconds: the first retry, doubling up to the second).
STATE_MEMORY_MAX_KEYS = 100_000
STATE_REDIS_TIMEOUT = 0.25
STATE_REDIS_TIMEOUT_MAX = 30.0
STATE_REDIS_CONNECT_TIMEOUT = 5.0
STATE_RETRY_AFTER = 1.0
STATE_RETRY_AFTER_MAX = 5.0
#: Lifetimes (seconds) of shared entries: a site's tokens, a filed conversation, one open
#: stream's slot in its key's count (a killed process's streams stop counting after it),
#: and a target's breaker records.
STATE_TOKENS_TTL = 24 * 3600.0
STATE_CONVERSATION_TTL = 6 * 3600.0
STATE_STREAMS_TTL = 900.0
STATE_HEALTH_TTL = 3600.0
#: A target found with nothing recorded against it is not asked about again for this long
#: (seconds): an open breaker reaches every process within it.
STATE_HEALTH_CLEAR = 0.1
#: The fleet-wide refresh lock of a site's tokens (seconds): a holder that dies frees it
#: after this; waiters poll the shared tokens every ``STATE_REFRESH_POLL`` seconds.
STATE_REFRESH_LOCK_TTL = 10.0
STATE_REFRESH_POLL = 0.02
#: Balancing (``chatbridge._client._balance``): how long a route's position counter lives
#: after its last call (seconds); the weight of one sample in a target's moving average of
#: time to first token, and how long an average lives after its last sample (a target not
#: asked for that long is tried again by one call, its lease lasting at most the second time).
BALANCE_COUNTER_TTL = 24 * 3600.0
BALANCE_LATENCY_WEIGHT = 0.3
BALANCE_LATENCY_MEMORY = 30.0
BALANCE_EXPLORE_LEASE = 10.0
#: With a shared store, a process adds the answers it gave (the fleet's shares) at most this
#: often (seconds), in one write, off the calls' path.
BALANCE_SHARE_FLUSH = 1.0
