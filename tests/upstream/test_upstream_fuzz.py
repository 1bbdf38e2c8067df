"""Whatever JSON a client sends, the fake upstream answers 200 or an OpenAI-shaped 4xx."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatbridge.upstream import LocalUpstream

_scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.floats() | st.text(max_size=8)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)
_message = st.fixed_dictionaries(
    {},
    optional={
        "role": st.sampled_from(["user", "assistant", "system", "x"]) | _scalars,
        "content": st.text(max_size=20) | _json,
    },
)
_body = st.fixed_dictionaries(
    {},
    optional={
        "model": st.text(max_size=5) | _scalars,
        "messages": st.lists(_message | _json, max_size=3) | _json,
        "stream": _scalars,
        "stream_options": _json,
        "max_tokens": _scalars,
        "temperature": _scalars,
        "n": _scalars,
    },
)


async def test_random_bodies_never_get_a_500() -> None:
    async with LocalUpstream() as url, aiohttp.ClientSession() as http:

        @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
        @given(_body)
        def check(body: dict[str, Any]) -> None:
            bodies.append(body)

        bodies: list[dict[str, Any]] = []
        check()
        for body in bodies:
            data = json.dumps(body, allow_nan=True)
            async with http.post(url + "/chat/completions", data=data) as response:
                text = await response.text()
                assert response.status in (200, 400), (body, response.status, text)
                if response.status == 400:
                    assert json.loads(text)["error"]["type"] == "invalid_request_error"
