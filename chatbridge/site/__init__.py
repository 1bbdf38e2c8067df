"""A local AI Power WordPress site: a faithful fake of the plugin's chat protocol.

``async with LocalSite(SiteConfig(generation="2.2")) as url: ...``
"""

from ._app import LocalSite
from ._config import SiteConfig

__all__ = ["LocalSite", "SiteConfig"]
