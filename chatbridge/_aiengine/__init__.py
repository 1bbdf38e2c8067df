"""The AI Engine protocol engine: one message at a time to a WordPress site running the "AI
Engine" chat plugin (Meow Apps, slug ``ai-engine``), in either generation of its protocol
(described in docs/protocol-ai-engine.md).

It owns reading a site's page for its chat settings (``_page``), its REST nonce and keeping it
fresh and shared (``_tokens``, ``_shared``), the transcript sent each turn within the bot's
limits (``_transcript``), what a conversation keeps from one turn to the next (``_thread``),
one submit and its reply (``_exchange``), reading every kind of reply (``_replies``), the
options of one call (``_call``), and the site client that ties them together and recovers
from a site's signals (``_site_client``).

It stands on ``chatbridge._http`` and ``chatbridge._state``, shared with the AI Power engine,
and knows nothing of the providers, the client, the server, the command line or the other
engine. The names below are what those layers may use.
"""

from ._call import EngineCall, SiteStats
from ._page import ChatConfig, parse_page
from ._site_client import SiteClient, site_client, site_stats
from ._target import SiteTarget
from ._thread import Thread

__all__ = [
    "ChatConfig",
    "EngineCall",
    "SiteClient",
    "SiteStats",
    "SiteTarget",
    "Thread",
    "parse_page",
    "site_client",
    "site_stats",
]
