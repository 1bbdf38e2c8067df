"""What every provider of a WordPress chat site shares, whichever plugin the site runs: the
site taken from the call's arguments or the provider's class attributes, and the origins its
page may name for its endpoint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar, cast

from .._checks import site_url_problem
from .._constants import MAX_SITES
from .._exceptions import ConfigError, InvalidRequestError, MissingSiteError
from .._http._guard import origin
from .._wordpress import SiteTarget

__all__ = ["SiteProvider", "check_origins"]

T = TypeVar("T", bound=SiteTarget)

#: The targets calls named, by all that names them (the provider's class and its site
#: attributes, the call's site, page, bot and origins), so that a call to a site already
#: named builds and checks no target; forgotten past ``MAX_SITES``, all at once (they are
#: made again on demand).
_targets: dict[tuple[Any, ...], SiteTarget] = {}


class SiteProvider:
    """Mixin: the site a provider talks to, derived from its class attributes at call time,
    so assigning ``Provider.url`` retargets page, endpoint and token cache at once."""

    url: ClassVar[str | None] = None
    #: Path (or URL) of the page that holds the chat; ``None`` for the home page.
    chat_path: ClassVar[str | None] = None
    #: The bot to talk to when a page has several; ``None`` for the page's first chat.
    bot_id: ClassVar[int | str | None] = None

    #: The provider's own site when it is known to be gone (``BaseProvider.gone_url``).
    gone_url: ClassVar[str | None] = None

    @classmethod
    def require_url(cls, site_url: str | None) -> str:
        """The call's site, else the provider's, checked before anything is sent: none at
        all, or the provider's own site when it is gone, is a :class:`MissingSiteError`; a
        malformed URL a :class:`ConfigError` in the command line's words."""
        name = cls.__name__
        url = site_url or cls.url
        if not url:
            raise MissingSiteError(
                f"{name} needs a site URL: pass site_url=... or set {name}.url", provider=name
            )
        if not site_url and cls.gone_url and url == cls.gone_url:  # nothing goes to a dead site
            raise MissingSiteError(
                f"{name}'s own site ({cls.gone_url}) is gone: pass site_url=... (any AI Power "
                f"site) or set {name}.url first",
                provider=name,
            )
        problem = site_url_problem(url)
        if problem is not None:
            where = "site_url" if site_url else f"{name}.url"
            raise ConfigError(f"{where} {url!r} {problem}", provider=name)
        return url.strip()

    @classmethod
    def target(
        cls,
        kind: type[T],
        site_url: str | None,
        chat_page: str | None,
        bot_id: int | str | None,
        endpoint_origins: Sequence[str],
    ) -> T:
        """The engine's ``kind`` of target for the call's arguments over the class's, made
        and checked once for each way of naming it (``_targets``)."""
        key = (
            cls, kind, cls.url, cls.gone_url, cls.chat_path, cls.bot_id,
            site_url, chat_page, bot_id, type(bot_id),
            tuple(endpoint_origins) if endpoint_origins else (),
        )  # fmt: skip
        try:
            made = _targets.get(key)
        except TypeError:  # an argument of a kind no site takes: the checks below say so
            made = None
        if made is None:
            made = kind(
                url=cls.require_url(site_url).rstrip("/"),
                chat_page=chat_page if chat_page is not None else cls.chat_path,
                bot_id=bot_id if bot_id is not None else cls.bot_id,
                endpoint_origins=check_origins(endpoint_origins),
            )
            if len(_targets) >= MAX_SITES:
                _targets.clear()
            _targets[key] = made
        return cast(T, made)


def check_origins(origins: Sequence[str] | None) -> tuple[str, ...]:
    """``endpoint_origins`` as a tuple of ``"*"`` or ``scheme://host[:port]`` strings; any
    other value is the caller's mistake (``InvalidRequestError``)."""
    if not origins:
        return ()
    if isinstance(origins, str) or not all(isinstance(o, str) and o for o in origins):
        raise InvalidRequestError(
            "endpoint_origins must be a list of origins like 'https://host' (or '*')",
            param="endpoint_origins",
        )
    for item in origins:
        if item != "*" and not (item.startswith(("http://", "https://")) and origin(item)[1]):
            raise InvalidRequestError(
                f"endpoint_origins: {item!r} is not an origin like 'https://host'",
                param="endpoint_origins",
            )
    return tuple(origins)
