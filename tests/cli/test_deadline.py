"""One deadline rule for both kinds of destination: ``--timeout`` when given, else a route's
failure policy, else the provider's own default; the same check of the value for both."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbridge import AIPower, Chatgpt4o, InvalidRequestError, OpenAICompatible
from chatbridge._cli._options import Destination, default_timeout, route_target

ROUTES = """
[routes.default]
targets = [{ provider = "AIPower", site_url = "http://127.0.0.1:9" }]

[policy]
timeout = 17
"""


def test_a_given_timeout_wins_for_both(tmp_path: Path) -> None:
    config = tmp_path / "routes.toml"
    config.write_text(ROUTES)
    route = route_target(str(config), None)
    site = Destination(AIPower, "http://127.0.0.1:9", "")
    assert route.deadline(3) == site.deadline(3) == 3.0


def test_without_one_a_route_takes_its_policy_and_a_provider_its_own(tmp_path: Path) -> None:
    config = tmp_path / "routes.toml"
    config.write_text(ROUTES)
    assert route_target(str(config), None).deadline(None) == 17.0
    for provider in (AIPower, Chatgpt4o, OpenAICompatible):
        assert Destination(provider, None, "").deadline(None) == default_timeout(provider)
    assert Destination(Chatgpt4o, None, "").deadline(None) == 120.0


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "10", True])
def test_a_bad_timeout_is_refused_alike(bad: object, tmp_path: Path) -> None:
    config = tmp_path / "routes.toml"
    config.write_text(ROUTES)
    for destination in (route_target(str(config), None), Destination(AIPower, None, "")):
        with pytest.raises(InvalidRequestError) as caught:
            destination.deadline(bad)  # type: ignore[arg-type]
        assert caught.value.param == "timeout"
