"""The fail-over wall: 16 scenarios, one streamed request each through a two-target route
of real local OpenAI-compatible upstreams, scored pass / safe / fail.

- pass: the complete answer, every conduct check clean;
- safe: no answer, but a clean, bounded, typed error (and conduct clean);
- fail: a hang, a truncated or repeated answer reported as complete, an untyped error, or a
  broken conduct rule (hammering, retrying a silent target, ignoring Retry-After…).

The route's two targets are two models on **one endpoint and one key** (``layout="shared"``,
as real deployments are: a rate limit or a slow model must not take its sibling down), or on
two endpoints (``"apart"``). Each scenario is asked of the client (``mode="client"``) or of
``chatbridge serve``'s app in front of it, over HTTP (``"server"``). The policy is the
defaults (:class:`Policy`), every time in it scaled by ``scale`` (1.0 = the real timings):
the tests run it at 0.02, ``bench/failover_wall.py`` at 1.0. Nothing here sleeps except the
upstreams and the router.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar

import aiohttp

from chatbridge import AsyncClient, ChatbridgeError, Policy, TruncatedStreamError
from chatbridge._client._health import HealthBook
from chatbridge.server import ServerSettings, build_app
from chatbridge.server._connections import Listener
from chatbridge.server._run import connection_limits, make_runner
from chatbridge.upstream import Behaviour, LocalUpstream, UpstreamConfig, expected_answer

QUESTION = [{"role": "user", "content": "Tell me about the fault wall."}]
FULL = "".join(expected_answer(QUESTION))
PRIMARY, FALLBACK = "primary-model", "fallback-model"
KEY = "sk-wall"
LAYOUTS = ("shared", "apart")
MODES = ("client", "server")
#: Policy fields that are not times (never scaled).
_COUNTS = frozenset({"failure_threshold"})


def policy(scale: float) -> Policy:
    """The default policy, every time in it multiplied by ``scale``."""
    defaults = Policy()
    scaled = {
        item.name: getattr(defaults, item.name) * scale
        for item in fields(Policy)
        if item.name not in _COUNTS
    }
    return replace(defaults, **scaled)


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
    #: The name of the target that answered (``primary`` or ``fallback``).
    answered_by: str | None = None
    attempts: list[Any] = field(default_factory=list)


class WireError(Exception):
    """A failure as ``chatbridge serve`` reported it: an HTTP status with OpenAI's error
    object, or the in-band error event that ends a stream. ``typed`` when it has that shape;
    ``kind`` names the library's error class the code stands for, where one does."""

    KINDS: ClassVar[dict[str, str]] = {
        "content_policy_violation": "ContentFilterError",
        "content_filter": "ContentFilterError",
    }

    def __init__(self, status: int, body: Any, in_band: bool = False) -> None:
        error = body.get("error") if isinstance(body, dict) else None
        self.typed = isinstance(error, dict) and status != 500 and "message" in error
        self.code = error.get("code") if isinstance(error, dict) else None
        self.status, self.in_band = status, in_band
        self.kind = self.KINDS.get(str(self.code), "")
        super().__init__(f"HTTP {status} {self.code}: {error}")


@dataclass
class Wall:
    #: The upstreams of the primary and the fallback (one and the same when shared).
    primary: LocalUpstream
    fallback: LocalUpstream
    ask_once: Callable[[], Awaitable[Run]]
    scale: float

    def asked(self, who: str) -> int:
        """How often the primary's or the fallback's model was asked."""
        upstream, model = (self.primary, PRIMARY) if who == "primary" else (self.fallback, FALLBACK)
        return upstream.stats.by_model.get(model, 0)

    def prefills(self) -> int:
        return sum(1 for r in self.fallback.stats.recent if r.prefill and r.model == FALLBACK)

    async def ask(self, limit: float) -> Run:
        started = time.monotonic()
        try:
            async with asyncio.timeout(limit):
                run = await self.ask_once()
        except TimeoutError:
            run = Run(error=HangError("hang"))
        run.seconds = time.monotonic() - started
        return run


async def _client_ask(client: AsyncClient) -> Run:
    run = Run()
    stream = await client.chat.completions.create(
        model="wall", messages=QUESTION, stream=True, stream_options={"include_usage": True}
    )
    try:
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
                    run.answered_by, run.attempts = info.target, info.attempts
    except Exception as exc:
        run.error = exc
    return run


async def _server_ask(session: aiohttp.ClientSession, url: str) -> Run:
    run = Run()
    body = {
        "model": "wall",
        "messages": QUESTION,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    headers = {"Authorization": "Bearer sk-served"}
    async with session.post(url + "/v1/chat/completions", json=body, headers=headers) as reply:
        if reply.status != 200:
            try:
                run.error = WireError(reply.status, await reply.json(content_type=None))
            except ValueError:
                run.error = WireError(reply.status, None)
            return run
        async for line in reply.content:
            _take_event(run, line.decode().strip())
    if run.finish is None and run.error is None:
        run.error = WireError(200, None, in_band=True)  # the body ended with no finish
    return run


def _take_event(run: Run, line: str) -> None:
    if not line.startswith("data: ") or line == "data: [DONE]":
        return
    data = json.loads(line[len("data: ") :])
    if "error" in data:
        run.error = WireError(200, data, in_band=True)
        return
    run.chunks += 1
    if data.get("usage"):
        run.usage = data["usage"]
    if not data.get("choices"):
        return
    choice = data["choices"][0]
    run.text += choice["delta"].get("content") or ""
    run.model = data.get("model")
    if choice.get("finish_reason"):
        run.finish = choice["finish_reason"]
        info = data.get("chatbridge") or {}
        run.answered_by, run.attempts = info.get("target"), info.get("attempts", [])


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


def _typed(error: BaseException) -> bool:
    return isinstance(error, ChatbridgeError) or (isinstance(error, WireError) and error.typed)


def _conduct(run: Run, continues: bool) -> list[str]:
    """Rules every scenario keeps, rescued or not. ``continues``: the route has a target that
    continues a prefill (the router keeps the text it hands over only then)."""
    notes: list[str] = []
    error = run.error
    if isinstance(error, HangError):
        return ["hang"]
    if error is None:
        if run.text != FULL:
            if FULL.startswith(run.text):
                notes.append("a truncated answer reported as complete")
            else:
                notes.append("the answer differs from the upstream's (a repeated prefix?)")
        if run.finish is None:
            notes.append("no finish_reason")
        return notes
    if not _typed(error):
        notes.append(f"untyped error {type(error).__name__}: {error}")
    if isinstance(error, TruncatedStreamError):
        if error.partial != (run.text if continues else ""):
            notes.append(".partial is not the text delivered (kept for a continuation)")
    elif run.text and not (isinstance(error, WireError) and error.in_band):
        notes.append("text delivered, then an error without .partial")
    if run.text and not FULL.startswith(run.text):
        notes.append("the text delivered is not a prefix of the answer")
    return notes


def _error_name(error: BaseException | None) -> str:
    if isinstance(error, WireError):
        return error.kind
    return type(error).__name__


def _verdict(scenario: Scenario, run: Run, notes: list[str]) -> str:
    if notes:
        return "fail"
    if run.error is None or _error_name(run.error) == scenario.right_error:
        return "pass"
    return "safe"


def status(code: int, retry_after: str | None = None, **kw: Any) -> Behaviour:
    return Behaviour("status", status=code, retry_after=retry_after, **kw)


def _check_counts(primary: int | None = None, fallback: int | None = None) -> Check:
    async def check(wall: Wall, run: Run) -> list[str]:
        notes = []
        for who, expected in (("primary", primary), ("fallback", fallback)):
            if expected is not None and wall.asked(who) != expected:
                notes.append(f"{who} asked {wall.asked(who)}×, expected {expected}")
        return notes

    return check


async def _retry_after_honoured(wall: Wall, run: Run) -> list[str]:
    notes = await _check_counts(primary=1)(wall, run)
    again = await wall.ask(10)  # at once: the primary is cooling for its Retry-After
    if again.error is not None or wall.asked("primary") != 1:
        notes.append("the primary was asked again before its Retry-After")
    return notes


async def _no_hammering(wall: Wall, run: Run) -> list[str]:
    notes = []
    for _ in range(10):
        again = await wall.ask(10)
        if again.error is not None:
            notes.append(f"a follow-up failed: {again.error!r}")
    hits = wall.asked("primary")
    if hits > 4:  # 11 calls in a burst: the first, then jittered cool-downs
        notes.append(f"primary hammered: {hits} requests for 11 calls")
    return notes


async def _continued(wall: Wall, run: Run) -> list[str]:
    return [] if run.error is not None or wall.prefills() else ["not rescued by continuation"]


async def _accounting(wall: Wall, run: Run) -> list[str]:
    notes = []
    if run.model != FALLBACK:
        notes.append(f"model {run.model!r} does not name the fallback's")
    if run.usage is not None:
        notes.append("usage reported although the fallback reported none")
    if run.answered_by != "fallback":
        notes.append(f"the chatbridge field names {run.answered_by!r}, not the fallback")
    return notes


async def _fallback_in_time(wall: Wall, run: Run) -> list[str]:
    """Another target could answer now: the call fails over within 15 s (scaled; plus a
    little for a busy machine at small scales) instead of waiting for a slow primary."""
    notes = await _check_counts(primary=1)(wall, run)
    if run.answered_by != "fallback":
        notes.append(f"answered by {run.answered_by!r} while the fallback stood by")
    if run.seconds > 15 * wall.scale + 0.5 * min(1.0, wall.scale * 10):
        notes.append(f"answered after {run.seconds / wall.scale:.1f} s (scaled), not within 15")
    return notes


async def _content_filter(wall: Wall, run: Run) -> list[str]:
    notes = await _check_counts(primary=1, fallback=0)(wall, run)
    if _error_name(run.error) != "ContentFilterError":
        notes.append(f"expected ContentFilterError, got {run.error!r}")
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
        extra=_fallback_in_time,
    ),
    Scenario(
        7,
        "first token after 20 s",
        [Behaviour("first_token_delay", seconds=20)],
        extra=_fallback_in_time,
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
    wall.primary.set_plan(
        [status(503)], for_seconds=scenario.outage * scale, then=[Behaviour()], model=PRIMARY
    )
    recovered_at = time.monotonic() + scenario.outage * scale
    notes: list[str] = []
    back: float | None = None
    last = Run()
    for _ in range(20):
        tick = time.monotonic()
        last = await wall.ask(60 * scale + 5)
        if last.error is not None:
            notes.append(f"a request failed: {last.error!r}")
            break
        notes += _conduct(last, scenario.fallback_continues)
        if last.answered_by == "primary" and tick >= recovered_at and back is None:
            back = tick - recovered_at
        if last.answered_by == "primary" and tick + last.seconds < recovered_at:
            notes.append("the primary answered during its outage")  # (the whole call was)
        await asyncio.sleep(max(0.0, 4 * scale - (time.monotonic() - tick)))
    if back is None:
        notes.append("never back on the primary")
    elif back > 30 * scale:
        notes.append(f"back on the primary {back / scale:.1f} s (scaled) after recovery")
    return last, notes


def _scaled(behaviour: Behaviour, scale: float) -> Behaviour:
    """A behaviour's pauses at the wall's scale (a Retry-After header stays as written)."""
    if behaviour.seconds is None:
        return behaviour
    return replace(behaviour, seconds=behaviour.seconds * scale)


def _routes(primary_url: str, fallback_url: str, continues: bool) -> dict[str, Any]:
    def target(name: str, url: str, model: str, **extra: Any) -> dict[str, Any]:
        return {
            "provider": "OpenAICompatible",
            "name": name,
            "base_url": url,
            "model": model,
            "api_key": KEY,
            **extra,
        }

    return {
        "wall": [
            target("primary", primary_url, PRIMARY),
            target("fallback", fallback_url, FALLBACK, continues_prefill=continues),
        ]
    }


@asynccontextmanager
async def _served(client: AsyncClient) -> AsyncIterator[Callable[[], Awaitable[Run]]]:
    """``chatbridge serve``'s app in front of ``client`` (as ``serve`` runs it), and the
    way to ask it one streamed request over HTTP."""
    settings = ServerSettings(api_keys=("sk-served",))
    runner = make_runner(build_app(client, settings))
    await runner.setup()
    listener = Listener(runner, connection_limits(settings))
    host, port = await listener.start("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://{host}:{port}"
            yield lambda: _server_ask(session, url)
    finally:
        listener.close()
        await runner.cleanup()


async def _upstreams(
    stack: AsyncExitStack, layout: str, scenario: Scenario
) -> tuple[LocalUpstream, LocalUpstream, str, str]:
    quiet = () if scenario.fallback_usage else (FALLBACK,)
    if layout == "shared":
        config = UpstreamConfig(api_key=KEY, models=(PRIMARY, FALLBACK), models_without_usage=quiet)
        one = LocalUpstream(config)
        url = await stack.enter_async_context(one)
        return one, one, url, url
    primary = LocalUpstream(UpstreamConfig(api_key=KEY, models=(PRIMARY,)))
    fallback = LocalUpstream(
        UpstreamConfig(api_key=KEY, models=(FALLBACK,), models_without_usage=quiet)
    )
    primary_url = await stack.enter_async_context(primary)
    fallback_url = await stack.enter_async_context(fallback)
    return primary, fallback, primary_url, fallback_url


async def run_scenario(
    scenario: Scenario, scale: float, layout: str = "shared", mode: str = "client"
) -> Score:
    chosen = policy(scale)
    async with AsyncExitStack() as stack:
        primary, fallback, primary_url, fallback_url = await _upstreams(stack, layout, scenario)
        routes = _routes(primary_url, fallback_url, scenario.fallback_continues)
        client = AsyncClient(routes=routes, policy=chosen, health=HealthBook(chosen))
        if mode == "server":
            ask_once = await stack.enter_async_context(_served(client))
        else:
            ask_once = lambda: _client_ask(client)  # noqa: E731
        wall = Wall(primary, fallback, ask_once, scale)
        if scenario.fallback_rejects_prefill:
            fallback.set_plan([Behaviour("reject_prefill")], model=FALLBACK)
        if scenario.outage is not None:
            run, notes = await _outage(wall, scenario)
        else:
            primary.set_plan([_scaled(b, scale) for b in scenario.primary], model=PRIMARY)
            run = await wall.ask(240 * scale + 10)
            notes = _conduct(run, scenario.fallback_continues)
            if scenario.extra is not None:
                notes += await scenario.extra(wall, run)
        verdict = _verdict(scenario, run, notes)
        if verdict != "fail" and verdict != scenario.goal:
            why = _error_name(run.error) or repr(run.error) if run.error else "answered"
            notes.append(f"goal {scenario.goal}, got {verdict} ({why})")
        return Score(scenario.number, scenario.name, verdict, notes, run.seconds)
