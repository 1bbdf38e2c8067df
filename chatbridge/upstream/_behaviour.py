"""What a request meets: a :class:`Behaviour`, taken in order from a :class:`Plan`."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, get_args

from .._checks import is_finite_at_least_zero

__all__ = ["BEHAVIOUR_KINDS", "Behaviour", "BehaviourKind", "Plan"]

BehaviourKind = Literal[
    "ok",
    "status",
    "reset",
    "silent",
    "first_token_delay",
    "cut_after",
    "stall_after",
    "malformed_at",
    "no_done",
    "error_after",
    "context_length",
    "content_filter",
    "reject_prefill",
    "tool_call",
    "reply",
]
BEHAVIOUR_KINDS: tuple[str, ...] = get_args(BehaviourKind)


@dataclass(frozen=True, slots=True)
class Behaviour:
    """One request's fate. Fields used per kind (others are ignored):

    - ``ok``: the normal answer. ``no_done``: the full answer with its finish_reason (and
      usage), then the body ends without ``data: [DONE]``.
    - ``status``: HTTP ``status`` with an OpenAI error body (``error_type``, ``code``,
      ``message``) and, when set, a ``Retry-After: retry_after`` header.
    - ``reset``: the TCP connection is closed before any header is sent.
    - ``silent``: nothing at all for ``seconds`` (``None``: never), then the answer.
    - ``first_token_delay``: headers, then nothing for ``seconds``, then the answer.
    - ``cut_after``: ``tokens`` content deltas, then the connection is cut (no finish_reason,
      no ``[DONE]``; with ``tokens`` >= the answer's length, cut right after the finish chunk).
    - ``stall_after``: ``tokens`` deltas, silence for ``seconds``, then the rest.
    - ``malformed_at``: event number ``at`` (1 = the first event) is invalid JSON.
    - ``error_after``: ``tokens`` deltas, then an in-band ``data: {"error": ...}`` event
      (``error_type``, ``code``, ``message``) and the end of the body.
    - ``context_length`` / ``content_filter``: 400 with code ``context_length_exceeded`` /
      ``content_policy_violation``.
    - ``reject_prefill``: 400 when the last message is an assistant message, else ``ok``.
    - ``tool_call``: the answer calls ``tool`` (default: the function ``tool_choice`` names,
      else the first tool offered) with ``arguments`` (a JSON text; default: made from the
      function's schema, ``_tools``), ``tokens`` times (0 or 1: one call), whatever the
      conversation; ``finish_reason`` is ``tool_calls``.
    - ``reply``: the answer is ``message``, word by word, whatever was asked.

    Non-streamed requests meet the same kinds: delays delay the whole reply, ``cut_after``
    sends half the body then cuts, ``malformed_at`` sends a broken JSON body and
    ``error_after`` a 200 whose body is an error object.
    """

    kind: BehaviourKind = "ok"
    status: int = 500
    error_type: str | None = None
    code: str | None = None
    message: str | None = None
    retry_after: str | None = None
    seconds: float | None = None
    tokens: int = 0
    at: int = 1
    tool: str | None = None
    arguments: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in BEHAVIOUR_KINDS:
            raise ValueError(f"unknown behaviour kind {self.kind!r}; known: {BEHAVIOUR_KINDS}")
        if not 200 <= self.status <= 599:  # a 1xx is not a final reply
            raise ValueError(f"status must be a final HTTP status (200 to 599), not {self.status}")
        if self.seconds is not None and not is_finite_at_least_zero(self.seconds):
            raise ValueError("seconds must be a finite number >= 0")
        if self.tokens < 0:
            raise ValueError("tokens must be >= 0")
        if self.at < 1:
            raise ValueError("at must be >= 1 (events are numbered from 1)")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Behaviour:
        """A behaviour from its JSON form (``{"kind": "status", "status": 503}``)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a behaviour must be an object, not {type(data).__name__}")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"unknown behaviour fields: {', '.join(unknown)}")
        for name, value in data.items():
            expected = _FIELD_TYPES[name]
            if isinstance(value, bool) or (value is not None and not isinstance(value, expected)):
                raise ValueError(f"behaviour field {name!r} has the wrong type")
            if value is None and name in ("kind", "status", "tokens", "at"):
                raise ValueError(f"behaviour field {name!r} must not be null")
        return cls(**data)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "kind": str,
    "status": int,
    "error_type": str,
    "code": str,
    "message": str,
    "retry_after": str,
    "seconds": (int, float),
    "tokens": int,
    "at": int,
    "tool": str,
    "arguments": str,
}


class Plan:
    """Behaviours for successive requests: ``steps`` in order, the last one repeating. With
    ``for_seconds``, the steps apply for that long after the plan was set, then ``then``
    (itself in order, its last repeating): "503 for 60 s, then recover" is
    ``Plan([Behaviour("status", status=503)], for_seconds=60)``. Only chat-completion
    requests that pass the input and key checks use up a step."""

    def __init__(
        self,
        steps: Sequence[Behaviour] = (),
        *,
        for_seconds: float | None = None,
        then: Sequence[Behaviour] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if for_seconds is not None and not is_finite_at_least_zero(for_seconds):
            raise ValueError("for_seconds must be a finite number >= 0")
        self.steps = tuple(steps) or (Behaviour(),)
        self.for_seconds = for_seconds
        self.then = tuple(then) or (Behaviour(),)
        self._clock = clock
        self._started = clock()
        self._used = [0, 0]

    def next(self) -> Behaviour:
        """The behaviour for the next request."""
        late = self.for_seconds is not None and self._clock() - self._started >= self.for_seconds
        phase = 1 if late else 0
        steps = self.then if late else self.steps
        index = min(self._used[phase], len(steps) - 1)
        self._used[phase] += 1
        return steps[index]

    @classmethod
    def from_json(cls, data: Any, *, clock: Callable[[], float] = time.monotonic) -> Plan:
        """A plan from ``[behaviour, ...]`` or ``{"plan": [...], "for_seconds": T,
        "then": [...]}``; raises ``ValueError`` naming what is wrong."""
        if isinstance(data, list):
            data = {"plan": data}
        if not isinstance(data, dict):
            raise ValueError("a plan must be a list of behaviours or an object with 'plan'")
        unknown = sorted(set(data) - {"plan", "for_seconds", "then"})
        if unknown:
            raise ValueError(f"unknown plan fields: {', '.join(unknown)}")
        steps, then = data.get("plan", []), data.get("then", [])
        if not isinstance(steps, list) or not isinstance(then, list):
            raise ValueError("'plan' and 'then' must be lists of behaviours")
        seconds = data.get("for_seconds")
        if seconds is not None and (
            isinstance(seconds, bool) or not isinstance(seconds, int | float)
        ):
            raise ValueError("'for_seconds' must be a number")
        return cls(
            [Behaviour.from_dict(item) for item in steps],
            for_seconds=seconds,
            then=[Behaviour.from_dict(item) for item in then],
            clock=clock,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan": [step.as_dict() for step in self.steps],
            "for_seconds": self.for_seconds,
            "then": [step.as_dict() for step in self.then],
        }
