"""Routes from TOML: every mistake is one message naming file, route and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbridge import AIPower, AnySite, AsyncClient, ConfigError, Policy
from chatbridge._client._config import load_config

A = '[routes.r]\ntargets = [{ provider = "AIPower", site_url = "https://a.example"'
THIRD = (
    '{ provider = "OpenAICompatible", base_url = "http://127.0.0.1:8000/v1", model = "llama3.2",'
    ' api_key = "env:CB_TEST_KEY", continues_prefill = true },'
)
GOOD = f"""
[routes.default]
targets = [
  {{ provider = "AIPower", site_url = "https://site-one.example" }},
  {{ provider = "AIPower", site_url = "https://site-two.example", chat_page = "/chat/" }},
  {THIRD}
]

[policy]
first_token_timeout = 5
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "chatbridge.toml"
    path.write_text(text)
    return path


def test_the_issue_example_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CB_TEST_KEY", "sk-very-secret")
    config = load_config(write(tmp_path, GOOD))
    route = config.routes["default"]
    assert [t.provider.get_name() for t in route.targets] == [
        "AIPower",
        "AIPower",
        "OpenAICompatible",
    ]
    assert route.targets[1].options["chat_page"] == "/chat/"
    third = route.targets[2]
    assert third.options["api_key"] == "sk-very-secret"
    assert third.model == "llama3.2" and third.continues_prefill
    assert "sk-very-secret" not in repr(third) and "sk-very-secret" not in third.label
    assert config.policy == Policy(first_token_timeout=5)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            '[routes.r]\ntargets = [{ provider = "Nope" }]',
            r"route 'r', target 1, field 'provider': Unknown provider 'Nope'",
        ),
        (
            '[routes.r]\ntargets = [{ model = "m" }]',
            r"route 'r', target 1: field 'provider' is missing \(or give 'site_url' alone\)",
        ),
        (
            '[routes.r]\ntargets = [{ provider = "AIPower" }]',
            r"route 'r', target 1: an AIPower target needs 'site_url'",
        ),
        (
            '[routes.r]\ntargets = [{ provider = "AIPower", site_url = "notaurl" }]',
            r"route 'r', target 1, field 'site_url': wants an http/https URL",
        ),
        (
            A + ', colour = "red" }]',
            r"field 'colour': unknown field",
        ),
        (
            '[routes.r]\ntargets = [{ provider = "AIPower", site_url = "env:CB_UNSET_VARIABLE" }]',
            r"field 'site_url': the environment variable 'CB_UNSET_VARIABLE' is not set",
        ),
        ("[routes.r]\ntargets = []", r"route 'r': field 'targets' must be a non-empty list"),
        (
            A + ", bot_id = 1.5 }]",
            r"field 'bot_id': wants str or int",
        ),
        (
            A + ", connections_per_host = 0 }]",
            r"field 'connections_per_host': wants a whole number from 1 to 10000",
        ),
        (
            A + ", connections_per_host = true }]",
            r"field 'connections_per_host': wants a whole number from 1 to 10000",
        ),
        (
            A + ', connections_per_host = "8" }]',
            r"field 'connections_per_host': wants int, got str",
        ),
        (
            A + " }]\n[policy]\nstall = 3",
            r"\[policy\], field 'stall': unknown",
        ),
        (
            A + " }]\n[policy]\ntimeout = -1",
            r"\[policy\], field 'timeout': wants a finite number",
        ),
        ("[routes.r\n", r"not valid TOML"),
        ("[other]\n", r"unknown table\(s\) other"),
    ],
)
def test_config_errors_name_file_route_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read it"):
        AsyncClient(config=tmp_path / "absent.toml")


def test_routes_from_python(tmp_path: Path) -> None:
    client = AsyncClient(
        routes={"fast": [{"provider": "AIPower", "site_url": "http://127.0.0.1:9"}]}
    )
    assert client.route_names() == ["fast"]
    assert client.routes["fast"].targets[0].provider is AIPower
    with pytest.raises(
        ConfigError, match="routes=, route 'x', target 1: field 'provider' is missing"
    ):
        AsyncClient(routes={"x": [{"model": "m"}]})


def test_a_target_with_only_a_site_finds_its_plugin_from_the_page(tmp_path: Path) -> None:
    """No provider named: AnySite, which asks the page whether it is AI Power or AI Engine."""
    path = write(tmp_path, '[routes.r]\ntargets = [{ site_url = "https://a.example" }]')
    [target] = load_config(path).routes["r"].targets
    assert target.provider is AnySite and target.options == {"site_url": "https://a.example"}
    client = AsyncClient(routes={"x": [{"site_url": "http://a.example"}]})
    assert client.routes["x"].targets[0].provider is AnySite
