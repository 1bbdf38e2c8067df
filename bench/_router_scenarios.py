"""Scenarios for ``router_diff.py``: a route of scripted targets, some calls, and everything
a caller or an operator can observe of them, as JSON.

Run by ``router_diff.py`` once per side, with the ``chatbridge`` under test first on
``sys.path``; it uses only names both sides have. Each scenario runs on an event loop whose
clock is virtual: when nothing is ready the loop jumps to its next timer instead of sleeping,
so a scenario of minutes takes milliseconds and every time (attempt seconds, Retry-After,
cool-downs, when a call ends) comes out the same on every run. The scripted providers, the
health book's clock and chance, and the shared store all run on that clock and a seeded
random source, so the only thing that differs between two runs is the router under test.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import random
import selectors
import sys
from collections.abc import AsyncIterator
from typing import Any

from chatbridge import (
    AsyncClient,
    AsyncGeneratorProvider,
    AsyncProvider,
    BlockedError,
    ChallengeError,
    ConnectError,
    ContentFilterError,
    ContextLengthError,
    EmptyResponseError,
    FinishReason,
    InvalidRequestError,
    MissingAuthError,
    NonceError,
    PluginError,
    Policy,
    RateLimitError,
    RequestTimeoutError,
    ResponseError,
    ResponseStatusError,
    ResponseTooLargeError,
    Target,
    TransportError,
    TruncatedStreamError,
    UpstreamError,
    Usage,
)
from chatbridge._client._health import HealthBook
from chatbridge._state import MemoryStore

__all__ = ["hand_written", "main", "random_scenario", "run_scenario"]

QUESTION = [{"role": "user", "content": "q"}]
#: ``router_diff.py --same-limits``: the whole-answer limit set to the first-token limit.
SAME_LIMITS = False
#: Past this much virtual time a scenario is cut short (a router that never ends).
HORIZON = 100_000.0


class Deadlock(Exception):
    """Nothing is ready and no timer is set: the code under test waits for ever."""


class _VirtualSelector(selectors.DefaultSelector):
    """Never blocks: with nothing ready it moves the loop's virtual clock to the next timer."""

    loop: VirtualClockLoop

    def select(self, timeout: float | None = None) -> list[Any]:
        events = super().select(0)
        if events:
            return events
        if timeout is None:
            raise Deadlock("nothing is ready and no timer is set")
        if timeout > 0:
            self.loop.virtual += timeout
        return []


class VirtualClockLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        selector = _VirtualSelector()
        super().__init__(selector)
        selector.loop = self
        self.virtual = 1000.0

    def time(self) -> float:
        return self.virtual


class SharedMemoryStore(MemoryStore):
    """The memory store, claiming to be shared: the health book then keeps its breakers in it
    the way it keeps them in Redis (the fleet's records), on the virtual clock."""

    shared = True


# --- scripted targets -----------------------------------------------------------------------

_ERRORS: dict[str, Any] = {
    "connect": lambda a: ConnectError("refused"),
    "500": lambda a: ResponseStatusError("server error", status=500),
    "502": lambda a: ResponseStatusError("bad gateway", status=502),
    "503": lambda a: ResponseStatusError("unavailable", status=503),
    "404": lambda a: ResponseStatusError("not found", status=404),
    "ratelimit": lambda a: RateLimitError("slow down", status=429, retry_after=a),
    "timeout": lambda a: RequestTimeoutError("the provider's own read timeout"),
    "transport": lambda a: TransportError("reset by peer"),
    "truncated": lambda a: TruncatedStreamError("cut", partial="pa"),
    "empty": lambda a: EmptyResponseError("no text"),
    "unreadable": lambda a: ResponseError("bad event"),
    "invalid": lambda a: InvalidRequestError("bad request", status=400),
    "context": lambda a: ContextLengthError("too long", status=400),
    "content": lambda a: ContentFilterError("refused by policy", status=400),
    "nonce": lambda a: NonceError("nonce refused"),
    "plugin": lambda a: PluginError("plugin says no"),
    "upstream": lambda a: UpstreamError("quota"),
    "blocked": lambda a: BlockedError("waf", status=403),
    "challenge": lambda a: ChallengeError("just a moment", status=403),
    "auth": lambda a: MissingAuthError("who are you", status=401),
    "large": lambda a: ResponseTooLargeError("too big"),
    "bug": lambda a: ValueError("a bug in the provider"),
    "builtin-timeout": lambda a: TimeoutError("a bare TimeoutError"),
}


class _Script:
    """One target's plan: a list of steps, one per request, then plain answers."""

    def __init__(self, spec: dict[str, Any], events: list[Any]) -> None:
        self.spec = spec
        self.plan = list(spec["plan"])
        self.events = events
        self.requests = 0

    def next_step(self, model: str, messages: Any, kwargs: dict[str, Any]) -> list[Any]:
        loop = asyncio.get_running_loop()
        shown = {k: round(v, 6) if isinstance(v, float) else v for k, v in kwargs.items()}
        last = messages[-1]
        self.events.append(
            [
                "ask",
                round(loop.time(), 6),
                self.spec["name"],
                model,
                len(messages),
                last.get("role"),
                last.get("content"),
                sorted(shown.items()),
            ]
        )
        self.requests += 1
        if self.plan:
            return list(self.plan.pop(0))
        return [["text", "fine "], ["text", "answer"], ["finish", "stop"]]

    async def play(self, steps: list[Any], kwargs: dict[str, Any]) -> AsyncIterator[Any]:
        """The step's actions; a target that honours ``timeout`` gives up at it by itself."""
        loop = asyncio.get_running_loop()
        honour = self.spec.get("honours_timeout") and kwargs.get("timeout") is not None
        deadline = loop.time() + kwargs["timeout"] if honour else None
        name = self.spec["name"]
        try:
            for action in steps:
                kind = action[0]
                if kind == "sleep":
                    if deadline is not None and loop.time() + action[1] > deadline:
                        await asyncio.sleep(max(0.0, deadline - loop.time()))
                        raise RequestTimeoutError("the provider's timeout passed")
                    await asyncio.sleep(action[1])
                elif kind == "text":
                    yield action[1]
                elif kind == "finish":
                    yield FinishReason(action[1])
                elif kind == "usage":
                    yield Usage(*action[1])
                elif kind == "raise":
                    raise _ERRORS[action[1]](action[2] if len(action) > 2 else None)
        except BaseException as exc:
            self.events.append(["ended", round(loop.time(), 6), name, type(exc).__name__])
            raise
        self.events.append(["ended", round(loop.time(), 6), name, "done"])


def make_provider(spec: dict[str, Any], events: list[Any]) -> type[AsyncProvider]:
    script = _Script(spec, events)
    attrs: dict[str, Any] = {
        "url": None,
        "working": True,
        "retryable_statuses": frozenset(spec.get("retryable", ())),
        "can_continue_prefill": bool(spec.get("can_continue")),
        "default_model": "scripted-model",
    }
    if spec.get("streams", True):

        async def create_async_generator(
            cls: Any, model: str, messages: Any, **kwargs: Any
        ) -> AsyncIterator[Any]:
            steps = script.next_step(model, messages, kwargs)
            async for item in script.play(steps, kwargs):
                yield item

        attrs["create_async_generator"] = classmethod(create_async_generator)
        base: type[AsyncProvider] = AsyncGeneratorProvider
    else:

        async def create_async(cls: Any, model: str, messages: Any, **kwargs: Any) -> str:
            steps = script.next_step(model, messages, kwargs)
            parts = [item async for item in script.play(steps, kwargs) if isinstance(item, str)]
            return "".join(parts)

        attrs["create_async"] = classmethod(create_async)
        base = AsyncProvider
    return type(spec["provider"], (base,), attrs)


# --- what is observed -----------------------------------------------------------------------


def _model(value: Any) -> Any:
    data = json.loads(value.model_dump_json())
    for volatile in ("id", "created"):
        data.pop(volatile, None)
    return data


def _error(exc: BaseException) -> dict[str, Any]:
    seen: dict[str, Any] = {
        "type": type(exc).__name__,
        "mro": [cls.__name__ for cls in type(exc).__mro__],
        "str": str(exc),
    }
    for name in ("message", "status", "retry_after", "partial", "provider", "url", "param"):
        if hasattr(exc, name):
            seen[name] = getattr(exc, name)
    attempts = getattr(exc, "attempts", None)
    if attempts:
        seen["attempts"] = [_model(a) for a in attempts]
    errors = getattr(exc, "errors", None)
    if errors:
        seen["errors"] = [[type(e).__name__, str(e)] for e in errors]
    cause = exc.__cause__
    if cause is not None:
        seen["cause"] = [type(cause).__name__, str(cause)]
    return seen


#: Report fields that only one side may have (balancing's, this process's view), left out.
_LOAD_FIELDS = ("share", "in_flight", "latency")


def _health(client: AsyncClient) -> dict[str, Any]:
    """The client's health report without the balancing fields."""
    return {
        route: {
            label: {k: v for k, v in shown.items() if k not in _LOAD_FIELDS}
            for label, shown in targets.items()
        }
        for route, targets in client.health().items()
    }


def _store(store: MemoryStore | None, now: float) -> list[Any]:
    if store is None:
        return []
    shown = []
    for key, (value, expires) in sorted(store._data.items()):
        kind = value if isinstance(value, int) else f"{type(value).__name__}:{len(value)}"
        shown.append([key, kind, round(expires - now, 6)])
    return shown


class _LogTap(logging.Handler):
    def __init__(self, lines: list[Any]) -> None:
        super().__init__(logging.DEBUG)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(["log", record.levelname, record.getMessage()])


async def _one_call(client: AsyncClient, call: dict[str, Any], out: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    completions = client.chat.completions
    kwargs: dict[str, Any] = {"model": "r", "messages": call.get("messages", QUESTION)}
    if call.get("timeout") is not None:
        kwargs["timeout"] = call["timeout"]
    stop_after = call.get("stop_after")
    try:
        if call["stream"]:
            chunks: list[Any] = out.setdefault("chunks", [])
            stream = await completions.create(stream=True, **kwargs)
            async for chunk in stream:
                chunks.append(_model(chunk))
                if stop_after is not None and len(chunks) >= stop_after:
                    await stream.aclose()
                    out["stopped"] = True
                    break
        else:
            out["answer"] = _model(await completions.create(**kwargs))
    except asyncio.CancelledError:
        out["error"] = {"type": "CancelledError"}
    except Exception as exc:
        out["error"] = _error(exc)
    out["ended"] = round(loop.time(), 6)


async def _scenario(spec: dict[str, Any], seen: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    events: list[Any] = []
    seen["events"] = events
    policy = Policy(**spec["policy"])
    if SAME_LIMITS and hasattr(policy, "whole_answer_timeout"):
        # (--same-limits: a target that answers whole waits as long as one that streams,
        # as before the whole-answer limit, so only the other differences show)
        policy = dataclasses.replace(
            policy, whole_answer_timeout=policy.first_token_timeout  # type: ignore[call-arg]
        )
    chance = random.Random(spec["seed"])
    store = SharedMemoryStore(clock=loop.time) if spec.get("shared") else None
    book = HealthBook(policy, clock=loop.time, rand=chance.random, state=store)
    providers: dict[str, type[AsyncProvider]] = {}
    targets = []
    for target in spec["targets"]:
        provider = providers.get(target["provider"])
        if provider is None:
            provider = providers[target["provider"]] = make_provider(target, events)
        targets.append(
            Target(
                provider,
                {"site_url": f"http://{target['site']}.invalid"},
                model=target.get("model"),
                continues_prefill=bool(target.get("continues")),
            )
        )
    client = AsyncClient(routes={"r": targets}, policy=policy, health=book)
    started = loop.time()
    calls: list[dict[str, Any]] = []
    tasks = []
    for call in spec["calls"]:
        out: dict[str, Any] = {}
        calls.append(out)
        await asyncio.sleep(max(0.0, started + call.get("at", 0.0) - loop.time()))
        task = asyncio.ensure_future(_one_call(client, call, out))
        if call.get("cancel_at") is not None:
            loop.call_at(loop.time() + call["cancel_at"], task.cancel)
        tasks.append(task)
        if not call.get("concurrent"):
            await asyncio.gather(task, return_exceptions=True)
            out["health"] = _health(client)
            out["store"] = _store(store, loop.time())
    await asyncio.gather(*tasks, return_exceptions=True)
    seen["calls"] = calls
    seen["health"] = _health(client)
    seen["store"] = _store(store, loop.time())
    seen["ended"] = round(loop.time() - started, 6)
    await client.aclose()


def run_scenario(spec: dict[str, Any]) -> dict[str, Any]:
    """Everything observable of one scenario (a router that hangs or fails says so)."""
    seen: dict[str, Any] = {"name": spec["name"], "shared": bool(spec.get("shared"))}
    logs: list[Any] = []
    tap = _LogTap(logs)
    logger = logging.getLogger("chatbridge")
    logger.addHandler(tap)
    logger.setLevel(logging.DEBUG)
    try:
        with asyncio.Runner(loop_factory=VirtualClockLoop) as runner:
            runner.run(asyncio.wait_for(_scenario(spec, seen), HORIZON))
    except BaseException as exc:  # a hang, a deadlock or a crash is an observation too
        seen["crash"] = [type(exc).__name__, str(exc)]
    finally:
        logger.removeHandler(tap)
    seen["log"] = logs
    return seen


# --- random scenarios -----------------------------------------------------------------------

_KINDS = list(_ERRORS)


def _delay(rng: random.Random) -> float:
    roll = rng.random()
    if roll < 0.45:
        return 0.0
    if roll < 0.85:
        return round(rng.uniform(0.001, 2.0), 3)
    if roll < 0.95:
        return round(rng.uniform(2.0, 20.0), 3)
    return round(rng.uniform(20.0, 400.0), 3)


def _error_action(rng: random.Random) -> list[Any]:
    kind = rng.choice(_KINDS)
    if kind == "ratelimit":
        return ["raise", kind, rng.choice([None, 0.0, 0.5, 3.0, 45.0, 5000.0])]
    return ["raise", kind]


def _step(rng: random.Random) -> list[Any]:
    """One answer: some text with pauses, then an end (a finish, an error or nothing)."""
    actions: list[Any] = []
    shape = rng.random()
    chunks = rng.choice([0, 1, 1, 2, 3, 4, 6])
    fail_at = rng.randrange(chunks + 1) if shape < 0.45 else None
    for index in range(chunks):
        if index == fail_at:
            break
        if (pause := _delay(rng)) > 0:
            actions.append(["sleep", pause])
        actions.append(["text", rng.choice(["a", "b ", "cd", "", "e f", "g"])])
    if (pause := _delay(rng)) > 0:
        actions.append(["sleep", pause])
    if fail_at is not None:
        actions.append(_error_action(rng))
        return actions
    if rng.random() < 0.5:
        actions.append(["finish", rng.choice(["stop", "length"])])
    if rng.random() < 0.3:
        actions.append(["usage", [3, chunks, 3 + chunks]])
    return actions


def random_scenario(seed: int, index: int) -> dict[str, Any]:
    rng = random.Random(f"{seed}:{index}")
    count = rng.choice([1, 2, 2, 2, 3, 3, 4])
    targets = []
    for number in range(count):
        streams = rng.random() < 0.75
        can_continue = rng.random() < 0.5
        twin = number > 0 and rng.random() < 0.08  # the same endpoint as the one before
        provider = (
            targets[-1]["provider"] if twin else f"{'Stream' if streams else 'Whole'}{number}"
        )
        targets.append(
            {
                "name": provider,
                "provider": provider,
                "site": targets[-1]["site"] if twin else f"t{number}",
                "streams": targets[-1]["streams"] if twin else streams,
                "can_continue": targets[-1]["can_continue"] if twin else can_continue,
                "continues": (targets[-1]["can_continue"] if twin else can_continue)
                and rng.random() < 0.7,
                "retryable": sorted(rng.sample([500, 502, 503], rng.randrange(4))),
                "honours_timeout": rng.random() < 0.4,
                "model": rng.choice([None, None, "their-model"]),
                "plan": [_step(rng) for _ in range(rng.randrange(6))],
            }
        )
    for target in targets:  # a twin plays its first's plan (one provider class, one script)
        target["plan"] = next(t["plan"] for t in targets if t["provider"] == target["provider"])
    cooldown = rng.choice([0.0, 0.5, 2.0, 5.0, 30.0])
    policy = {
        "timeout": rng.choice([0.5, 3.0, 10.0, 30.0, 240.0]),
        "first_token_timeout": rng.choice([0.2, 1.0, 5.0, 60.0]),
        "stall_timeout": rng.choice([0.2, 1.0, 5.0, 30.0]),
        "retry_backoff": rng.choice([0.0, 0.25, 1.0]),
        "max_retry_after": rng.choice([0.0, 1.0, 5.0, 30.0]),
        "failure_threshold": rng.choice([1, 2, 3]),
        "cooldown": cooldown,
        "cooldown_max": cooldown * rng.choice([1, 4]),
        "rate_limit_cooldown": rng.choice([0.0, 0.5, 2.0]),
        "rate_limit_cooldown_max": rng.choice([1.0, 60.0]),
    }
    calls = []
    at = 0.0
    for _ in range(rng.choice([1, 1, 2, 3, 4, 6])):
        at += rng.choice([0.0, 0.0, 0.1, 1.0, 5.0, 40.0])
        call: dict[str, Any] = {
            "at": at,
            "stream": rng.random() < 0.6,
            "concurrent": rng.random() < 0.3,
            "timeout": rng.choice([None, None, 0.3, 2.0, 15.0]),
        }
        if rng.random() < 0.15:
            call["cancel_at"] = round(rng.uniform(0.0, 10.0), 3)
        if call["stream"] and rng.random() < 0.15:
            call["stop_after"] = rng.randrange(1, 4)
        if rng.random() < 0.1:
            call["messages"] = [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "q2"},
            ]
        calls.append(call)
    return {
        "name": f"random {seed}:{index}",
        "seed": rng.randrange(2**32),
        "shared": rng.random() < 0.4,
        "policy": policy,
        "targets": targets,
        "calls": calls,
    }


# --- hand-written scenarios -----------------------------------------------------------------


def _target(name: str, plan: list[Any], **extra: Any) -> dict[str, Any]:
    spec = {"name": name, "provider": name, "site": name.lower(), "plan": plan}
    spec.update(extra)
    return spec


def _answer(*texts: str, pause: float = 0.0) -> list[Any]:
    actions: list[Any] = []
    for text in texts:
        if pause:
            actions.append(["sleep", pause])
        actions.append(["text", text])
    return [*actions, ["finish", "stop"]]


_WALL_POLICY = {
    "timeout": 242.0,
    "first_token_timeout": 10.0,
    "stall_timeout": 10.0,
    "retry_backoff": 0.5,
    "max_retry_after": 30.0,
    "failure_threshold": 3,
    "cooldown": 5.0,
    "cooldown_max": 20.0,
    "rate_limit_cooldown": 1.0,
    "rate_limit_cooldown_max": 60.0,
}
_TOKENS = [f"t{i} " for i in range(60)]
_HANDS: list[tuple[str, list[Any], list[Any], dict[str, Any]]] = [
    # name, primary's plan, fallback's plan, extra (calls, policy, flags)
    ("429 with Retry-After 2, then healthy", [[["raise", "ratelimit", 2.0]]], [], {}),
    ("429 for ever, no Retry-After", [[["raise", "ratelimit", None]]] * 9, [], {}),
    ("500 once, then healthy", [[["raise", "500"]]], [], {"retryable": [500, 502, 503]}),
    ("503 for ever", [[["raise", "503"]]] * 9, [], {"retryable": [500, 502, 503]}),
    ("reset before headers", [[["raise", "connect"]]], [], {}),
    ("no response for 120 s", [[["sleep", 120.0], *_answer("late")]], [], {}),
    ("first token after 20 s", [[["sleep", 20.0], *_answer("late")]], [], {}),
    ("cut after 40 of 60", [[*_answer(*_TOKENS[:40])[:-1], ["raise", "truncated"]]], [], {}),
    ("silent 30 s after 20", [[*_answer(*_TOKENS[:20])[:-1], ["sleep", 30.0]]], [], {}),
    ("unreadable event", [[*_answer(*_TOKENS[:9])[:-1], ["raise", "unreadable"]]], [], {}),
    ("context length on the primary", [[["raise", "context"]]], [], {}),
    ("content filter", [[["raise", "content"]]], [], {}),
    ("a bug in the provider", [[["raise", "bug"]]], [], {}),
]


def hand_written() -> list[dict[str, Any]]:
    """The fail-over wall's situations and the review's races, each on both kinds of book,
    streamed and whole."""
    specs = []
    for name, primary, fallback, extra in _HANDS:
        for shared in (False, True):
            for stream in (True, False):
                targets = [
                    _target("Primary", primary, retryable=extra.get("retryable", [])),
                    _target("Fallback", fallback, can_continue=True, continues=True),
                ]
                specs.append(
                    {
                        "name": f"{name} ({'shared' if shared else 'local'}, "
                        f"{'streamed' if stream else 'whole'})",
                        "seed": 7,
                        "shared": shared,
                        "policy": _WALL_POLICY,
                        "targets": targets,
                        "calls": [{"stream": stream}, {"stream": stream, "at": 1.0}],
                    }
                )
    specs.extend(_races())
    return specs


def _races() -> list[dict[str, Any]]:
    quick = {**_WALL_POLICY, "failure_threshold": 1, "cooldown": 0.0, "cooldown_max": 0.0}
    specs = []
    for shared in (False, True):
        kind = "shared" if shared else "local"
        specs += [
            {
                # a probe fails (judged) and its call is cancelled in the retry pause while
                # another call holds the next probe: only the second is given back, later
                "name": f"probe cancelled in its retry pause ({kind})",
                "seed": 3,
                "shared": shared,
                "policy": {**quick, "retry_backoff": 0.4, "timeout": 3.0},
                "targets": [
                    _target(
                        "Only",
                        [[["raise", "404"]], [["raise", "connect"]], [["sleep", 5.0]]],
                        retryable=[],
                    )
                ],
                "calls": [
                    {"stream": False},
                    {"stream": False, "at": 0.1, "concurrent": True, "cancel_at": 0.1},
                    {"stream": False, "at": 0.15, "concurrent": True, "cancel_at": 0.2},
                    {"stream": False, "at": 1.0},
                ],
            },
            {
                "name": f"half-open breaker, three calls at once ({kind})",
                "seed": 4,
                "shared": shared,
                "policy": {**quick, "cooldown": 1.0, "cooldown_max": 1.0},
                "targets": [
                    _target("A", [[["raise", "503"]], [["sleep", 2.0], *_answer("x")]]),
                    _target("B", [], can_continue=True, continues=True),
                ],
                "calls": [
                    {"stream": True},
                    {"stream": True, "at": 1.5, "concurrent": True},
                    {"stream": False, "at": 1.5, "concurrent": True},
                    {"stream": True, "at": 1.5, "concurrent": True},
                ],
            },
            {
                "name": f"everything cooling: waits, then gives up with retry_after ({kind})",
                "seed": 5,
                "shared": shared,
                "policy": {**_WALL_POLICY, "max_retry_after": 5.0},
                "targets": [
                    _target("A", [[["raise", "ratelimit", 2.0]]] * 3),
                    _target("B", [[["raise", "ratelimit", 4.0]]] * 3),
                ],
                "calls": [{"stream": False}, {"stream": True, "at": 0.5}],
            },
            {
                "name": f"cut mid-stream, continued, then the caller stops ({kind})",
                "seed": 6,
                "shared": shared,
                "policy": _WALL_POLICY,
                "targets": [
                    _target("A", [[*_answer("a", "b", "c")[:-1], ["raise", "transport"]]]),
                    _target("B", [], can_continue=True, continues=True),
                    _target("C", [], can_continue=True, continues=True),
                ],
                "calls": [{"stream": True}, {"stream": True, "stop_after": 2}],
            },
            {
                "name": f"the same endpoint twice in a route ({kind})",
                "seed": 8,
                "shared": shared,
                "policy": {**_WALL_POLICY, "failure_threshold": 1},
                "targets": [
                    _target("Same", [[["raise", "503"]], [["raise", "503"]]]),
                    _target("Other", [[["raise", "nonce"]]]),
                    _target("Same", []),
                ],
                "calls": [{"stream": True}, {"stream": False, "at": 1.0}],
            },
        ]
    return specs


def main() -> None:
    """``python -m bench._router_scenarios SEED COUNT``: one JSON line per scenario."""
    global SAME_LIMITS
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    SAME_LIMITS = "--same-limits" in sys.argv[3:]
    specs = hand_written() + [random_scenario(seed, index) for index in range(count)]
    for spec in specs:
        print(json.dumps(run_scenario(spec), sort_keys=True, default=repr))


if __name__ == "__main__":
    main()
