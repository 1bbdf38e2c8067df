"""The AI Power protocol engine: one message at a time to a WordPress site running the "AI
Power" chat plugin, in whichever generation of its protocol the site speaks today (described
in docs/protocol-ai-power.md).

It owns reading a site's page for its chat and tokens (``_page``), keeping those tokens fresh
and shared (``_tokens``), one exchange of one message in the legacy or the AIPKit protocol
(``_exchange``), reading every kind of reply (``_replies``), what must stay the same from one
message to the next and how history is encoded (``_conversation``, ``_history``), how tokens
and conversations are kept in a shared state store (``_shared``), the options of one call
(``_call``), and the site client that ties them together and recovers from a site's signals
(``_site_client``).

It stands on ``chatbridge._http`` (every request) and ``chatbridge._state`` (what several
processes share), and knows nothing of the providers, the client, the server or the command
line above it. The names below are what those layers may use.
"""

from ._call import CallOptions, ClientStats
from ._conversation import Conversation
from ._site_client import SiteClient, site_client, site_stats, streams_known
from ._target import SiteTarget

__all__ = [
    "CallOptions",
    "ClientStats",
    "Conversation",
    "SiteClient",
    "SiteTarget",
    "site_client",
    "site_stats",
    "streams_known",
]
