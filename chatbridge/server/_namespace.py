"""The ``[state]`` table: the deployment's namespace in the shared store, and each Redis
call's time limit. Every Redis key is under ``chatbridge:v1:NAMESPACE:``, so two deployments
that share one Redis never read each other's tokens or breakers, nor count each other's
limits.

    [state]
    namespace = "blog-prod"     # optional; 1 to 64 of A-Z a-z 0-9 . _ -
    timeout = 0.25              # optional; seconds, each Redis call (0 < timeout <= 30)

By default the namespace is a fingerprint of what makes a deployment: its routes (names,
and each target's provider, site and identity) and its API keys (hashed). Processes of one
deployment run the same configuration, so they share one namespace with nothing to set;
two configurations share one only when their routes and keys are the same. Changing either
moves the deployment to a new namespace (a fresh start of state that every process can
rebuild: tokens are fetched again, limits count afresh); name it to keep it fixed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .._checks import is_finite_at_least_zero, is_number
from .._constants import STATE_REDIS_TIMEOUT, STATE_REDIS_TIMEOUT_MAX
from .._exceptions import ConfigError
from .._state._interface import NAMESPACE

__all__ = ["state_namespace", "state_timeout"]

_FIELDS = frozenset({"namespace", "timeout"})


def state_namespace(
    table: Mapping[str, Any] | None,
    source: str,
    routes: Mapping[str, Sequence[str]],
    api_keys: Sequence[str],
) -> str:
    """The ``[state]`` table's ``namespace``, or the fingerprint of ``routes`` (each route's
    target keys, in order) and ``api_keys``."""
    table = table or {}
    unknown = set(table) - _FIELDS
    if unknown:
        raise ConfigError(f"{source}, [state]: unknown field(s) {', '.join(sorted(unknown))}")
    named = table.get("namespace")
    if named is not None:
        if not isinstance(named, str) or not NAMESPACE.fullmatch(named):
            raise ConfigError(
                f"{source}, [state], field 'namespace': wants 1 to 64 of A-Z a-z 0-9 . _ -"
            )
        return named
    keys = sorted(
        hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest() for key in api_keys
    )
    text = json.dumps(
        {"routes": {name: list(t) for name, t in sorted(routes.items())}, "keys": keys}
    )
    return (
        "auto-" + hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
    )


def state_timeout(table: Mapping[str, Any] | None, source: str) -> float:
    """The ``[state]`` table's ``timeout``: how long one Redis call may take before the
    process serves from its memory (a host busier, or a Redis further away, than usual)."""
    value = (table or {}).get("timeout", STATE_REDIS_TIMEOUT)
    if not is_number(value) or not is_finite_at_least_zero(value) or value == 0:
        raise ConfigError(f"{source}, [state], field 'timeout': wants seconds > 0")
    if value > STATE_REDIS_TIMEOUT_MAX:
        raise ConfigError(
            f"{source}, [state], field 'timeout': at most {STATE_REDIS_TIMEOUT_MAX:g} s "
            "(a stalled Redis would hold each request that long)"
        )
    return float(value)
