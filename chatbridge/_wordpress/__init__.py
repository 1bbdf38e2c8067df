"""What both WordPress plugin engines share about a site, whichever plugin's protocol it
speaks: where its chat is (``SiteTarget``: the site, the page, the bot, the origins its page
may name) and its tokens (``SiteCache``: fetched one at a time and shared through the state
store, fresh for as long as a WordPress nonce lives, held to the page rule, dropped after a
failure when another process gave them, with the cookie jar the site's pages were fetched
with).

It stands on ``chatbridge._http`` (fetching pages) and ``chatbridge._state`` (sharing tokens),
which may not import each other; the AI Power and AI Engine engines stand on it.
"""

from ._site import PageStats, SiteCache, SiteTarget

__all__ = ["PageStats", "SiteCache", "SiteTarget"]
