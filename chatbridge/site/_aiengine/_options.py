"""The AI Engine site's own command-line options, and its configuration from them (the
options both plugins share are in ``chatbridge.site._options``)."""

from __future__ import annotations

import argparse
from typing import Any

from .._argtypes import whole_number
from ._config import AIEngineSiteConfig

__all__ = ["ENGINE_FAULT_EFFECTS", "add_engine_arguments", "engine_config_from_args"]

#: What each of AI Engine's own faults does to a request it hits.
ENGINE_FAULT_EFFECTS: dict[str, str] = {
    "bad_nonce": "the chat is refused for its nonce (403 rest_cookie_invalid_nonce), as if it "
    "had expired",
    "session_down": "start_session answers 500 (the only request it hits)",
    "limit": "the Pro usage limit is reached: an error frame, or HTTP 500 for a whole reply",
    "thinking": "status and thinking frames between the content frames",
    "no_end": "the stream stops after the text without its end frame (the PHP worker died)",
    "end_differs": "the end frame's reply differs from the streamed text (a filter rewrote it)",
}

#: Options only an AI Power site has, with their defaults (refused with ``--plugin ai-engine``).
POWER_ONLY: tuple[tuple[str, str, Any], ...] = (
    ("--stream", "stream", None),
    ("--placement", "placement", "shortcode"),
    ("--aipkit-mode", "aipkit_mode", "popup"),
    ("--assistant", "assistant", False),
    ("--other-plugin-nonce", "other_plugin_nonce", True),
    ("--upgrade-after", "upgrade_after", None),
    ("--guest-token-limit", "guest_token_limit", None),
    ("--misconfigured", "misconfigured", False),
    ("--pinecone-error", "pinecone_error", False),
    ("--upstream", "upstream", None),
    ("--upstream-error-mode", "upstream_error_mode", "json"),
)
#: And the other way round.
ENGINE_ONLY: tuple[tuple[str, str, Any], ...] = (
    ("--permalinks", "permalinks", "pretty"),
    ("--extra-bot", "extra_bots", []),
    ("--site-wide", "site_wide", False),
    ("--start-sentence", "start_sentence", None),
    ("--text-input-max-length", "text_input_max_length", None),
    ("--max-messages", "max_messages", None),
    ("--event-logs", "event_logs", False),
    ("--discussions", "discussions", True),
    ("--usage-accuracy", "usage_accuracy", "tokens"),
    ("--guest-message-limit", "guest_message_limit", None),
)


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("an AI Engine site (--plugin ai-engine)")
    group.add_argument(
        "--permalinks",
        choices=("pretty", "plain"),
        default="pretty",
        help="the REST root: /wp-json (pretty, default) or /index.php?rest_route= (plain)",
    )
    group.add_argument(
        "--extra-bot",
        action="append",
        default=[],
        dest="extra_bots",
        metavar="ID",
        help="another bot on the chat page, after the first (repeatable)",
    )
    group.add_argument(
        "--site-wide",
        action="store_true",
        help="inject the bot in the footer of every page, as a chat window",
    )
    group.add_argument("--start-sentence", metavar="TEXT", help="the bot's greeting")
    group.add_argument(
        "--text-input-max-length",
        type=whole_number(0),
        metavar="N",
        help="the longest message the bot takes (default: 512; 0: no limit)",
    )
    group.add_argument(
        "--max-messages",
        type=whole_number(1),
        metavar="N",
        help="earlier messages the plugin keeps besides the first (default: 15)",
    )
    group.add_argument(
        "--event-logs",
        action="store_true",
        help="a status frame ('Generating response...') before the text",
    )
    group.add_argument(
        "--discussions",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the Discussions module: on 3.6, a chatId answered before chains its stored "
        "conversation, whatever transcript is sent (default: on)",
    )
    group.add_argument(
        "--usage-accuracy",
        choices=("tokens", "full", "estimated"),
        default="tokens",
        help="how the model's token counts are labelled (default: tokens)",
    )
    group.add_argument(
        "--guest-message-limit",
        type=whole_number(0),
        metavar="N",
        help="messages a visitor session may send before the Pro limits refuse "
        "(default: no limit)",
    )


def _refuse(ns: argparse.Namespace, options: tuple[tuple[str, str, Any], ...], plugin: str) -> None:
    given = [option for option, name, default in options if getattr(ns, name) != default]
    if given:
        raise ValueError(f"{', '.join(given)}: not an option of an {plugin} site")


def engine_config_from_args(ns: argparse.Namespace) -> AIEngineSiteConfig:
    """The AI Engine site's configuration; a ``ValueError`` naming the options for an
    impossible combination."""
    _refuse(ns, POWER_ONLY, "AI Engine")
    generation = ns.generation or "3.6"
    if generation not in ("2.4", "3.6"):
        raise ValueError(
            f"--generation {generation}: an AI Power generation; AI Engine's are 2.4 and 3.6"
        )
    values: dict[str, Any] = {
        "generation": generation,
        "permalinks": ns.permalinks,
        "chat_path": ns.chat_path,
        "bot_id": ns.bot_id or "default",
        "extra_bots": tuple(ns.extra_bots),
        "site_wide": ns.site_wide,
        "event_logs": ns.event_logs,
        "discussions": ns.discussions,
        "usage_accuracy": ns.usage_accuracy,
        "tick_seconds": ns.tick_seconds,
        "secret": ns.secret,
        "page_cache": ns.page_cache,
        "banned_words": tuple(ns.banned_words),
        "banned_ips": tuple(ns.banned_ips),
        "guest_message_limit": ns.guest_message_limit,
        "upstream_error": ns.upstream_error,
        "faults": tuple(ns.faults),
        "fault_rate": ns.fault_rate,
        "fault_every": ns.fault_every,
        "fault_seed": ns.fault_seed,
        "fault_target": ns.fault_target,
        "slow_seconds": ns.slow_seconds,
    }
    if ns.start_sentence is not None:
        values["start_sentence"] = ns.start_sentence
    if ns.text_input_max_length is not None:
        values["text_input_max_length"] = ns.text_input_max_length or None
    if ns.max_messages is not None:
        values["max_messages"] = ns.max_messages
    return AIEngineSiteConfig(**values)


def refuse_engine_options(ns: argparse.Namespace) -> None:
    """An AI Power site given AI Engine's options or faults: a ``ValueError`` naming them."""
    _refuse(ns, ENGINE_ONLY, "AI Power")
    own = [kind for kind in ns.faults if kind in ENGINE_FAULT_EFFECTS]
    if own:
        raise ValueError(f"--fault {', '.join(own)}: AI Engine faults (use --plugin ai-engine)")
