"""Configuration of the local AI Engine site: one frozen dataclass, every default in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from .._config import DEFAULT_SECRET, DEFAULT_TICK_SECONDS, FAULT_KINDS, FaultKind, FaultTarget

__all__ = [
    "ENGINE_FAULT_KINDS",
    "ENGINE_GENERATIONS",
    "AIEngineSiteConfig",
    "EngineFaultKind",
    "EngineGeneration",
]

#: ``"2.4"`` imitates 2.4.3, the last of G2 (the REST nonce is in the page); ``"3.6"``
#: imitates 3.6.2, the current generation G3 (a guest asks ``start_session`` for one).
EngineGeneration = Literal["2.4", "3.6"]
Permalinks = Literal["pretty", "plain"]
#: AI Engine's own faults, besides the AI Power site's (``FAULT_KINDS``).
EngineOwnFault = Literal["bad_nonce", "session_down", "limit", "thinking", "no_end", "end_differs"]
EngineFaultKind = Literal[FaultKind, EngineOwnFault]
UsageAccuracy = Literal["tokens", "full", "estimated"]

ENGINE_GENERATIONS: tuple[EngineGeneration, ...] = get_args(EngineGeneration)
ENGINE_OWN_FAULTS: tuple[str, ...] = get_args(EngineOwnFault)
ENGINE_FAULT_KINDS: tuple[str, ...] = (*FAULT_KINDS, *ENGINE_OWN_FAULTS)

DEFAULT_START_SENTENCE = "Hi! How can I help you?"
#: What the plugin's default bot takes at most (``textInputMaxLength``).
DEFAULT_TEXT_INPUT_MAX_LENGTH = 512
#: Earlier messages the plugin keeps besides the first (``maxMessages``).
DEFAULT_MAX_MESSAGES = 15
#: The Pro limits' default refusal for guests.
DEFAULT_LIMIT_MESSAGE = "You have reached the limit (check the Insights Tab > Limits > Guests)."


@dataclass(frozen=True, slots=True)
class AIEngineSiteConfig:
    """What kind of AI Engine WordPress site to imitate. ``AIEngineSiteConfig()`` is a healthy
    AI Engine 3.6 site with pretty permalinks and the default bot on the home page."""

    generation: EngineGeneration = "3.6"
    #: ``"pretty"``: the REST root is ``/wp-json``; ``"plain"``: ``/index.php?rest_route=``
    #: (the ``?rest_route=`` form works on a pretty site too, as in WordPress).
    permalinks: Permalinks = "pretty"
    #: Path of the page holding the chat (``"/"``: the home page).
    chat_path: str = "/"
    #: The chat's ``botId`` (``"default"`` is the plugin's first bot).
    bot_id: str = "default"
    #: More bots shown on the chat page after the first (``[mwai_chatbot id=…]``).
    extra_bots: tuple[str, ...] = ()
    #: The bot is injected site-wide, in the footer of every page, as a chat window.
    site_wide: bool = False
    start_sentence: str = DEFAULT_START_SENTENCE
    text_input_max_length: int | None = DEFAULT_TEXT_INPUT_MAX_LENGTH
    max_messages: int = DEFAULT_MAX_MESSAGES
    #: The site's event logs: a status frame ("Generating response...") before the text.
    event_logs: bool = False
    #: The Discussions module: a ``chatId`` the site answered before gets its stored
    #: conversation chained at the model provider (3.6 only), whatever transcript is sent.
    discussions: bool = True
    #: How the model's token counts are labelled (``estimated`` ones must never be reported).
    usage_accuracy: UsageAccuracy = "tokens"
    tick_seconds: float = DEFAULT_TICK_SECONDS
    secret: str = DEFAULT_SECRET
    page_cache: bool = False
    #: The Security module's banned words and IPs ("Your query has been rejected.").
    banned_words: tuple[str, ...] = ()
    banned_ips: tuple[str, ...] = ()
    #: Messages a guest session may send before the Pro limits refuse (``None``: no limit).
    guest_message_limit: int | None = None
    limit_message: str = DEFAULT_LIMIT_MESSAGE
    #: Make the model's API fail with this message.
    upstream_error: str | None = None
    faults: tuple[str, ...] = ()
    fault_rate: float = 1.0
    fault_every: int | None = None
    fault_seed: int = 0
    #: Which requests faults hit: REST requests (``"chat"``), page fetches, or both.
    fault_target: FaultTarget = "chat"
    slow_seconds: float = 2.0
    page_size: int = 67 * 1024
    max_recorded_requests: int = 10000

    def __post_init__(self) -> None:
        unknown = [kind for kind in self.faults if kind not in ENGINE_FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown fault kind(s) {', '.join(unknown)}")
        if self.max_messages < 1:
            raise ValueError("max_messages must be 1 or more")
