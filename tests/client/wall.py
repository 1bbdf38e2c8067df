"""The fail-over wall: 16 scenarios, one streamed request each through a two-target route
of real local OpenAI-compatible upstreams, scored pass / safe / fail.

- pass: the complete answer, every conduct check clean;
- safe: no answer, but a clean, bounded, typed error (and conduct clean);
- fail: a hang, a truncated or repeated answer reported as complete, an untyped error, or a
  broken conduct rule (hammering, retrying a silent target, ignoring Retry-After…).

Timings scale with ``scale`` (1.0 = the issue's real timings): the tests run it at 0.02,
``bench/failover_wall.py`` at 1.0. Nothing here sleeps except the upstreams and the router.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from chatbridge import AsyncClient, ChatbridgeError, Policy, TruncatedStreamError
from chatbridge._client._health import HealthBook
from chatbridge.upstream import Behaviour, LocalUpstream, UpstreamConfig, expected_answer

QUESTION = [{"role": "user", "content": "Tell me about the fault wall."}]
FULL = "".join(expected_answer(QUESTION))


def policy(scale: float) -> Policy:
    return Policy(
        timeout=240 * scale + 2,
        first_token_timeout=10 * scale,
        stall_timeout=10 * scale,
        retry_backoff=0.5 * scale,
        max_retry_after=30,
        failure_threshold=3,
        cooldown=5 * scale,
        cooldown_max=20 * scale,
        rate_limit_cooldown=1 * scale,
        rate_limit_cooldown_max=60 * scale,
    )


@dataclass
class Run:
    """What one streamed request did."""

    text: str = ""
    chunks: int = 0
    finish: str | None = None
    model: str | None = None
    usage: Any = None
    error: BaseException | None = None
    seconds: float = 0.0
    answered_by: str | None = None
    attempts: list[Any] = field(default_factory=list)


@dataclass
class Wall:
    primary: LocalUpstream
    fallback: LocalUpstream
    client: AsyncClient
    scale: float

    async def ask(self, limit: float) -> Run:
        run = Run()
        started = time.monotonic()
        try:
            async with asyncio.timeout(limit):
                stream = await self.client.chat.completions.create(
                    model="wall",
                    messages=QUESTION,
                    stream=True,
                    stream_options={"include_usage": True},
                )
                async for chunk in stream:
                    run.chunks += 1
                    if chunk.usage is not None:
                        run.usage = chunk.usage
                    if not chunk.choices:
                        continue
                    run.text += chunk.choices[0].delta.content or ""
                    run.model = chunk.model
                    if chunk.choices[0].finish_reason:
                        run.finish = chunk.choices[0].finish_reason
                        info = chunk.chatbridge
                        if info is not None:
                            run.answered_by, run.attempts = info.site, info.attempts
        except TimeoutError as exc:
            run.error = exc if isinstance(exc, ChatbridgeError) else HangError("hang")
        except Exception as exc:
            run.error = exc
        run.seconds = time.monotonic() - started
        return run


class HangError(Exception):
    """The request outlived its bound: a hang."""


@dataclass
class Score:
    number: int
    name: str
    verdict: str  # pass / safe / fail
    notes: list[str]
    seconds: float


Check = Callable[[Wall, Run], Awaitable[list[str]]]


@dataclass
class Scenario:
    number: int
    name: str
    primary: list[Behaviour] = field(default_factory=list)
    #: "rescue": the complete answer is expected; "safe": a typed error is.
    goal: str = "pass"
    fallback_continues: bool = True
    fallback_rejects_prefill: bool = False
    fallback_usage: bool = True
    outage: float | None = None  # scenario 15
    #: The error that is the right answer (scenario 13): propagating it cleanly is a pass.
    right_error: str | None = None
    extra: Check | None = None


def _conduct(run: Run, continues: bool) -> list[str]:
    """Rules every scenario keeps, rescued or not. ``continues``: the route has a target that
    continues a prefill (the router keeps the text it hands over only then)."""
    notes: list[str] = []
    if isinstance(run.error, HangError):
        return ["hang"]
    if run.error is None:
        if run.text != FULL:
            if FULL.startswith(run.text):
                notes.append("a truncated answer reported as complete")
            else:
                notes.append("the answer differs from the upstream's (a repeated prefix?)")
        if run.finish is None:
            notes.append("no finish_reason")
    else:
        if not isinstance(run.error, ChatbridgeError):
            notes.append(f"untyped error {type(run.error).__name__}")
        if isinstance(run.error, TruncatedStreamError):
            if run.error.partial != (run.text if continues else ""):
                notes.append(".partial is not the text delivered (kept for a continuation)")
        elif run.text:
            notes.append("text delivered, then an error without .partial")
        if run.text and not FULL.startswith(run.text):
            notes.append("the text delivered is not a prefix of the answer")
    return notes


def _verdict(scenario: Scenario, run: Run, notes: list[str]) -> str:
    if notes:
        return "fail"
    if run.error is None or type(run.error).__name__ == scenario.right_error:
        return "pass"
    return "safe"


def status(code: int, retry_after: str | None = None, **kw: Any) -> Behaviour:
    return Behaviour("status", status=code, retry_after=retry_after, **kw)


def _check_counts(primary: int | None = None, fallback: int | None = None) -> Check:
    async def check(wall: Wall, run: Run) -> list[str]:
        notes = []
        if primary is not None and wall.primary.stats.requests != primary:
            notes.append(f"primary asked {wall.primary.stats.requests}×, expected {primary}")
        if fallback is not None and wall.fallback.stats.requests != fallback:
            notes.append(f"fallback asked {wall.fallback.stats.requests}×, expected {fallback}")
        return notes

    return check


async def _retry_after_honoured(wall: Wall, run: Run) -> list[str]:
    notes = await _check_counts(primary=1)(wall, run)
    again = await wall.ask(10)  # at once: the primary is cooling for its Retry-After
    if again.error is not None or wall.primary.stats.requests != 1:
        notes.append("the primary was asked again before its Retry-After")
    return notes


async def _no_hammering(wall: Wall, run: Run) -> list[str]:
    notes = []
    for _ in range(10):
        again = await wall.ask(10)
        if again.error is not None:
            notes.append(f"a follow-up failed: {again.error!r}")
    hits = wall.primary.stats.requests
    if hits > 4:  # 11 calls in a burst: the first, then jittered cool-downs
        notes.append(f"primary hammered: {hits} requests for 11 calls")
    return notes


async def _continued(wall: Wall, run: Run) -> list[str]:
    prefills = [r for r in wall.fallback.stats.recent if r.prefill]
    return [] if run.error is not None or prefills else ["not rescued by continuation"]


async def _accounting(wall: Wall, run: Run) -> list[str]:
    notes = []
    if run.model != "fallback-model":
        notes.append(f"model {run.model!r} does not name the fallback's")
    if run.usage is not None:
        notes.append("usage reported although the fallback reported none")
    if run.answered_by != wall.fallback.url:
        notes.append("the chatbridge field does not name the fallback")
    return notes


async def _content_filter(wall: Wall, run: Run) -> list[str]:
    notes = await _check_counts(primary=1, fallback=0)(wall, run)
    if type(run.error).__name__ != "ContentFilterError":
        notes.append(f"expected ContentFilterError, got {type(run.error).__name__}")
    return notes


SCENARIOS: list[Scenario] = [
    Scenario(
        1,
        "429 with Retry-After: 2, then healthy",
        [status(429, "2"), Behaviour()],
        extra=_retry_after_honoured,
    ),
    Scenario(2, "429 forever without Retry-After", [status(429)], extra=_no_hammering),
    Scenario(
        3,
        "500 once, then healthy",
        [status(500), Behaviour()],
        extra=_check_counts(primary=2, fallback=0),
    ),
    Scenario(4, "503 forever", [status(503)], extra=_check_counts(primary=2, fallback=1)),
    Scenario(5, "TCP reset before headers, then healthy", [Behaviour("reset"), Behaviour()]),
    Scenario(
        6,
        "no response at all for 120 s",
        [Behaviour("silent", seconds=120)],
        extra=_check_counts(primary=1),
    ),
    Scenario(
        7,
        "first token after 20 s",
        [Behaviour("first_token_delay", seconds=20)],
        extra=_check_counts(primary=1),
    ),
    Scenario(
        8, "stream cut after 40 of 60 tokens", [Behaviour("cut_after", tokens=40)], extra=_continued
    ),
    Scenario(
        9,
        "stream silent for 30 s after 20 tokens",
        [Behaviour("stall_after", tokens=20, seconds=30)],
        extra=_continued,
    ),
    Scenario(
        10,
        "one malformed event in the 10th place",
        [Behaviour("malformed_at", at=10)],
        extra=_continued,
    ),
    Scenario(
        11,
        "no [DONE] after a complete answer",
        [Behaviour("no_done")],
        extra=_check_counts(primary=1, fallback=0),
    ),
    Scenario(12, "context length exceeded on the primary", [Behaviour("context_length")]),
    Scenario(
        13,
        "content filter",
        [Behaviour("content_filter")],
        right_error="ContentFilterError",
        extra=_content_filter,
    ),
    Scenario(
        14,
        "cut after 40 tokens, fallback rejects prefill",
        [Behaviour("cut_after", tokens=40)],
        goal="safe",
        fallback_continues=False,
        fallback_rejects_prefill=True,
        extra=_check_counts(fallback=0),
    ),
    Scenario(
        15, "503 for 60 s, then recovers (20 requests, one every 4 s)", [status(503)], outage=60
    ),
    Scenario(16, "fail-over accounting", [status(503)], fallback_usage=False, extra=_accounting),
]


async def _outage(wall: Wall, scenario: Scenario) -> tuple[Run, list[str]]:
    """Scenario 15: served by the fallback during the outage, back on the primary within
    30 s (scaled) of recovery."""
    scale = wall.scale
    assert scenario.outage is not None
    wall.primary.set_plan([status(503)], for_seconds=scenario.outage * scale, then=[Behaviour()])
    recovered_at = time.monotonic() + scenario.outage * scale
    notes: list[str] = []
    back: float | None = None
    last = Run()
    for _ in range(20):
        tick = time.monotonic()
        last = await wall.ask(60 * scale + 5)
        if last.error is not None:
            notes.append(f"a request failed: {type(last.error).__name__}")
            break
        notes += _conduct(last, scenario.fallback_continues)
        if last.answered_by == wall.primary.url and tick >= recovered_at and back is None:
            back = tick - recovered_at
        if last.answered_by == wall.primary.url and tick < recovered_at:
            notes.append("the primary answered during its outage")
        await asyncio.sleep(max(0.0, 4 * scale - (time.monotonic() - tick)))
    if back is None:
        notes.append("never back on the primary")
    elif back > 30 * scale:
        notes.append(f"back on the primary {back / scale:.1f} s (scaled) after recovery")
    return last, notes


async def run_scenario(scenario: Scenario, scale: float) -> Score:
    chosen = policy(scale)
    fallback_config = UpstreamConfig(models=("fallback-model",), usage=scenario.fallback_usage)
    primary = LocalUpstream(UpstreamConfig(models=("primary-model",)))
    fallback = LocalUpstream(fallback_config)
    async with primary as primary_url, fallback as fallback_url:
        routes = {
            "wall": [
                {"provider": "OpenAICompatible", "base_url": primary_url, "model": "primary-model"},
                {
                    "provider": "OpenAICompatible",
                    "base_url": fallback_url,
                    "model": "fallback-model",
                    "continues_prefill": scenario.fallback_continues,
                },
            ]
        }
        client = AsyncClient(routes=routes, policy=chosen, health=HealthBook(chosen))
        wall = Wall(primary, fallback, client, scale)
        if scenario.fallback_rejects_prefill:
            fallback.set_plan([Behaviour("reject_prefill")])
        if scenario.outage is not None:
            run, notes = await _outage(wall, scenario)
        else:
            primary.set_plan(scenario.primary)
            run = await wall.ask(240 * scale + 10)
            notes = _conduct(run, scenario.fallback_continues)
            if scenario.extra is not None:
                notes += await scenario.extra(wall, run)
        verdict = _verdict(scenario, run, notes)
        if verdict != "fail" and verdict != scenario.goal:
            why = type(run.error).__name__ if run.error else "answered"
            notes.append(f"goal {scenario.goal}, got {verdict} ({why})")
        return Score(scenario.number, scenario.name, verdict, notes, run.seconds)
