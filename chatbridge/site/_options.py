"""The site's command-line options, grouped and each with its help; shared by
``python -m chatbridge.site`` and ``chatbridge site``. Values are checked as they are parsed
(``_argtypes``), so a bad one is refused under its option's name."""

from __future__ import annotations

import argparse

from ._aiengine._config import ENGINE_FAULT_KINDS, ENGINE_GENERATIONS
from ._aiengine._options import ENGINE_FAULT_EFFECTS, add_engine_arguments
from ._argtypes import bot_id, chat_path, fraction, http_url, port_number, seconds, whole_number
from ._config import DEFAULT_SECRET, DEFAULT_TICK_SECONDS, FAULT_KINDS, GENERATIONS
from ._faults import FAULT_EFFECTS

__all__ = ["FAULTS_HELP", "add_arguments"]

#: The fault table for an epilog: one line per kind.
FAULTS_HELP = (
    "faults (--fault KIND, repeatable; one is picked per faulted request):\n"
    + "".join(f"  {kind:<14} {FAULT_EFFECTS[kind]}\n" for kind in FAULT_KINDS)
    + "an AI Engine site's own (--plugin ai-engine):\n"
    + "".join(f"  {kind:<14} {effect}\n" for kind, effect in ENGINE_FAULT_EFFECTS.items())
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the site's options to ``parser``, group by group."""
    _site_options(parser)
    _refusal_options(parser)
    _answer_options(parser)
    _fault_options(parser)
    add_engine_arguments(parser)
    _serving_options(parser)


def _site_options(parser: argparse.ArgumentParser) -> None:
    site = parser.add_argument_group("the site")
    site.add_argument(
        "--plugin",
        choices=("ai-power", "ai-engine"),
        default="ai-power",
        help="the chat plugin the site runs: AI Power (default) or AI Engine (Meow Apps)",
    )
    site.add_argument(
        "--generation",
        choices=(*GENERATIONS, *ENGINE_GENERATIONS),
        default=None,
        help="plugin generation to imitate. AI Power: 1.7 (JSON only), 1.8, 2.2 (streams, the "
        "default) or aipkit (plugin 2.3+); AI Engine: 2.4 (the nonce in the page) or 3.6 "
        "(start_session, the default)",
    )
    site.add_argument(
        "--stream",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="stream the placement's action (and the bot, if --bot-id > 0); default: action "
        "options on from 1.8, custom bots off, 1.7 never",
    )
    site.add_argument(
        "--placement",
        choices=("shortcode", "widget"),
        default="shortcode",
        help="legacy chat container: the [wpaicg_chatgpt] shortcode or the site-wide widget "
        "(default: shortcode)",
    )
    site.add_argument(
        "--chat-path",
        type=chat_path,
        default="/",
        metavar="PATH",
        help='page holding the chat, for example /chat/ (default: "/", the home page)',
    )
    site.add_argument(
        "--bot-id",
        type=bot_id,
        default=None,
        metavar="ID",
        help="the chat's bot. AI Power: its data-bot-id, a whole number (default 0, the default "
        "bot; AIPKit shows it as 101); AI Engine: its botId (default: default)",
    )
    _site_more_options(site)


def _site_more_options(site: argparse._ArgumentGroup) -> None:
    site.add_argument(
        "--aipkit-mode",
        choices=("popup", "inline"),
        default="popup",
        help="AIPKit container: a popup or an inline chat (default: popup)",
    )
    site.add_argument(
        "--assistant",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="the bot is an OpenAI Assistant (asst_…): threads, Assistants stream events "
        "(generation 2.2 only)",
    )
    site.add_argument(
        "--other-plugin-nonce",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="another plugin's data-nonce before the chat container, as on real sites",
    )
    site.add_argument(
        "--page-cache",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="serve pages as first rendered (stale nonce included) unless the URL has a "
        "query string, like a page-cache plugin",
    )
    site.add_argument(
        "--tick-seconds",
        type=seconds(zero=False),
        default=DEFAULT_TICK_SECONDS,
        metavar="SECONDS",
        help="WordPress nonce tick: a nonce lives this long to twice this long "
        f"(default: {DEFAULT_TICK_SECONDS:g}, half a day)",
    )
    site.add_argument(
        "--secret",
        default=DEFAULT_SECRET,
        help="the site secret nonces are signed with (default: a fixed one)",
    )
    site.add_argument(
        "--upgrade-after",
        type=whole_number(1),
        default=None,
        metavar="N",
        help="switch to AIPKit after N legacy chat requests (a plugin upgrade mid-session)",
    )


def _refusal_options(parser: argparse.ArgumentParser) -> None:
    limits = parser.add_argument_group("the plugin's refusals")
    limits.add_argument(
        "--banned-word",
        action="append",
        default=[],
        dest="banned_words",
        metavar="WORD",
        help="refuse messages with this word, as the plugin's banned-words option (repeatable)",
    )
    limits.add_argument(
        "--banned-ip",
        action="append",
        default=[],
        dest="banned_ips",
        metavar="IP",
        help="refuse this client IP, as the plugin's banned-IPs option (repeatable)",
    )
    limits.add_argument(
        "--guest-token-limit",
        type=whole_number(0),
        default=None,
        metavar="N",
        help="tokens a guest may use before 'You have reached your token limit.' "
        "(default: no limit)",
    )
    limits.add_argument(
        "--misconfigured",
        action=argparse.BooleanOptionalAction,
        default=False,
        help='no API key: every chat answers "Unable to initialize the AI instance…" '
        '(1.7: "Missing API Setting")',
    )
    limits.add_argument(
        "--pinecone-error",
        action=argparse.BooleanOptionalAction,
        default=False,
        help='embeddings find nothing: "No results from Pinecone." (a pineconeError flag '
        "when streaming)",
    )


def _answer_options(parser: argparse.ArgumentParser) -> None:
    answers = parser.add_argument_group("who answers")
    answers.add_argument(
        "--upstream",
        type=http_url,
        default=None,
        metavar="URL",
        help="OpenAI-compatible endpoint to forward to (default: the local echo responder)",
    )
    answers.add_argument(
        "--upstream-model",
        default="gpt-4o-mini",
        metavar="MODEL",
        help="model name sent to --upstream (default: gpt-4o-mini)",
    )
    answers.add_argument(
        "--upstream-api-key",
        default=None,
        metavar="KEY",
        help="bearer key sent to --upstream (default: none)",
    )
    answers.add_argument(
        "--upstream-error",
        default=None,
        metavar="MESSAGE",
        help="make the AI backend fail with this message (for example a quota error)",
    )
    answers.add_argument(
        "--upstream-error-mode",
        choices=("json", "exception"),
        default="json",
        help="how --upstream-error arrives: an API error body (json) or a PHP exception "
        "(streams end with [LIMITED]); default: json",
    )


def _fault_options(parser: argparse.ArgumentParser) -> None:
    faults = parser.add_argument_group(
        "faults", "Faults hit every eligible request unless --fault-rate or --fault-every is set."
    )
    faults.add_argument(
        "--fault",
        action="append",
        default=[],
        dest="faults",
        choices=ENGINE_FAULT_KINDS,
        metavar="KIND",
        help="inject this fault (repeatable; the kinds are listed below)",
    )
    faults.add_argument(
        "--fault-target",
        choices=("chat", "pages", "all"),
        default="chat",
        help="which requests faults hit: chat requests (admin-ajax), page fetches, or all "
        "(default: chat)",
    )
    faults.add_argument(
        "--fault-rate",
        type=fraction,
        default=1.0,
        metavar="P",
        help="chance that an eligible request is faulted, 0 to 1 (default: 1, every one)",
    )
    faults.add_argument(
        "--fault-every",
        type=whole_number(1),
        default=None,
        metavar="N",
        help="fault every Nth eligible request instead (overrides --fault-rate)",
    )
    faults.add_argument(
        "--fault-seed",
        type=int,
        default=0,
        metavar="N",
        help="seed of the fault choices, so a run repeats (default: 0)",
    )
    faults.add_argument(
        "--slow-seconds",
        type=seconds(zero=True),
        default=2.0,
        metavar="SECONDS",
        help="delay of the slow fault (default: 2)",
    )


def _serving_options(parser: argparse.ArgumentParser) -> None:
    serving = parser.add_argument_group("serving")
    serving.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    serving.add_argument(
        "--port", type=port_number, default=0, help="port to listen on (default: 0, a free one)"
    )
    serving.add_argument(
        "--quiet",
        action="store_true",
        help="do not log requests (by default one line per request goes to stderr: method, "
        "path, action, status, milliseconds, and the fault if one was injected)",
    )
