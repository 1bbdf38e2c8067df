"""A local OpenAI-compatible fake upstream with scriptable faults, for tests and benchmarks.

``async with LocalUpstream() as base_url: ...`` (``base_url`` is ``http://127.0.0.1:PORT/v1``)

Answers are deterministic (:func:`expected_answer`); what each request meets is scripted with
a plan of :class:`Behaviour` objects, in Python (``upstream.set_plan([...])``) or over HTTP
(``POST /__upstream__/plan``).
"""

from ._answer import expected_answer
from ._app import LocalUpstream
from ._behaviour import BEHAVIOUR_KINDS, Behaviour, BehaviourKind, Plan
from ._config import UpstreamConfig
from ._stats import RequestRecord, UpstreamStats

__all__ = [
    "BEHAVIOUR_KINDS",
    "Behaviour",
    "BehaviourKind",
    "LocalUpstream",
    "Plan",
    "RequestRecord",
    "UpstreamConfig",
    "UpstreamStats",
    "expected_answer",
]
