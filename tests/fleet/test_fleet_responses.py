"""Stored ``/v1/responses`` answers in a fleet: made on one process, read, continued and
deleted on another through the shared Redis, and only with the key that made them."""

from __future__ import annotations

import openai
import pytest

from chatbridge.upstream import LocalUpstream, expected_answer
from tests.fleet.conftest import Fleet

KEYS = ("sk-fleet-one", "sk-fleet-two")


async def test_a_response_stored_by_one_process_is_continued_by_another(fleet: Fleet) -> None:
    upstream = LocalUpstream()
    async with upstream as base:
        config = (
            f'[routes.fake]\ntargets = [{{ provider = "OpenAICompatible", base_url = "{base}", '
            f'model = "fake-model" }}]\n[server]\napi_keys = ["{KEYS[0]}", "{KEYS[1]}"]\n'
        )
        one, two = await fleet(config, n=2)
        first = openai.AsyncOpenAI(base_url=one.url + "/v1", api_key=KEYS[0], max_retries=0)
        second = openai.AsyncOpenAI(base_url=two.url + "/v1", api_key=KEYS[0], max_retries=0)
        stranger = openai.AsyncOpenAI(base_url=two.url + "/v1", api_key=KEYS[1], max_retries=0)
        # Larger than one value in the store (in parts), to be read back whole elsewhere.
        big = [{"role": "user", "content": "x" * 150_000}, {"role": "user", "content": "Hi"}]
        made = await first.responses.create(model="fake", input=big)  # type: ignore[arg-type]
        assert (await second.responses.retrieve(made.id)).output_text == made.output_text
        follow = await second.responses.create(
            model="fake", input="And then?", previous_response_id=made.id
        )
        assert follow.output_text == "".join(
            expected_answer([{"role": "user", "content": "And then?"}])
        )
        assert upstream.stats.recent[-1].roles == ["user", "user", "assistant", "user"]
        with pytest.raises(openai.NotFoundError):
            await stranger.responses.retrieve(made.id)
        await first.responses.delete(made.id)
        with pytest.raises(openai.NotFoundError):
            await second.responses.retrieve(made.id)
        for client in (first, second, stranger):
            await client.close()
