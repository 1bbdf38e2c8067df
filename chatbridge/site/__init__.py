"""A local WordPress chat site: a faithful fake of the AI Power plugin's chat protocol, or of
AI Engine's (``_aiengine``).

``async with LocalSite(SiteConfig(generation="2.2")) as url: ...``
``async with LocalSite(AIEngineSiteConfig(generation="3.6")) as url: ...``
"""

from ._aiengine import AIEngineSiteConfig
from ._app import LocalSite
from ._config import SiteConfig

__all__ = ["AIEngineSiteConfig", "LocalSite", "SiteConfig"]
