"""The local site's AI Engine side: a WordPress site running AI Engine (Meow Apps) in either
generation (G2: the REST nonce in the page; G3: ``start_session``), pretty or plain
permalinks, with the AI Power site's fault set and AI Engine's own. It shares the server,
fault, nonce and request-log base of ``chatbridge.site``."""

from ._config import AIEngineSiteConfig

__all__ = ["AIEngineSiteConfig"]
