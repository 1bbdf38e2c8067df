"""One client per site in a process, whichever provider asks: each engine keeps a
:class:`SiteClients` registry, so a site's tokens are fetched once however many routes,
providers and conversations use it."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar

from .._constants import MAX_SITES
from ._interface import StateStore
from ._open import current_store

__all__ = ["SiteClients"]


class _Client(Protocol):
    @property
    def store(self) -> StateStore: ...


K = TypeVar("K", bound=Hashable)
C = TypeVar("C", bound=_Client)


class SiteClients(Generic[K, C]):
    """The least recently used sites are forgotten past ``most``; a client made for another
    state store than the current one is made again."""

    def __init__(self, make: Callable[[K], C], most: int = MAX_SITES) -> None:
        self._make = make
        self._most = most
        self._clients: OrderedDict[K, C] = OrderedDict()

    def get(self, target: K) -> C:
        client = self._clients.get(target)
        if client is None or client.store is not current_store():
            client = self._clients[target] = self._make(target)
            while len(self._clients) > self._most:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(target)
        return client

    def peek(self, target: K) -> C | None:
        """The client made so far, if any (made for any store), without touching the order."""
        return self._clients.get(target)

    def items(self) -> list[tuple[K, C]]:
        return list(self._clients.items())
