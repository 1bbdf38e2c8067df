"""What the app's handlers share: the client, settings, limits, metrics, quotas and the usage
ledger, in-flight tasks."""

from __future__ import annotations

import asyncio
import time
from contextvars import ContextVar
from dataclasses import dataclass, field

from aiohttp import web

from .._client._client import AsyncClient
from ._limits import LimitStore
from ._metrics import Metrics
from ._record import Record
from ._settings import ServerSettings
from ._usage import Usage

__all__ = ["RECORD", "STATE", "State"]


@dataclass
class State:
    client: AsyncClient
    settings: ServerSettings
    limits: LimitStore
    metrics: Metrics
    #: Per-key quotas and the usage ledger.
    usage: Usage
    started: int = field(default_factory=lambda: int(time.time()))
    #: Handler tasks in flight (SIGTERM lets them finish, then cancels them).
    tasks: set[asyncio.Task[object]] = field(default_factory=set)
    #: Set once shutdown began: a cancelled stream then says so in-band.
    draining: bool = False


STATE = web.AppKey("chatbridge_state", State)
#: The request's :class:`Record` (a context variable: the handler runs in the request's task).
RECORD: ContextVar[Record] = ContextVar("chatbridge_record")
