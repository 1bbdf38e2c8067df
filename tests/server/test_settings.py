"""The ``[server]`` table and the limit store, with no server running."""

from __future__ import annotations

import pytest

from chatbridge import ConfigError
from chatbridge.server import MemoryLimits, ServerSettings, parse_settings


def test_defaults_are_closed() -> None:
    settings = parse_settings({}, environ={})
    assert settings == ServerSettings()
    assert settings.api_keys == () and settings.cors_origins == ()
    assert not settings.allow_site_url and not settings.allow_private_sites
    assert settings.max_body_bytes == 1024 * 1024


def test_a_full_table_and_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "from-env")
    table = {
        "api_keys": ["env:MY_KEY", "literal"],
        "requests_per_minute": 60,
        "concurrent_streams": 2,
        "max_body_bytes": 2048,
        "cors_origins": ["https://a.example"],
        "allow_site_url": True,
        "grace_seconds": 2.5,
    }
    settings = parse_settings(table, "x.toml", environ={"CHATBRIDGE_API_KEYS": "k1, k2,,"})
    assert settings.api_keys == ("from-env", "literal", "k1", "k2")
    assert settings.requests_per_minute == 60 and settings.grace_seconds == 2.5
    assert "from-env" not in repr(settings) and "4 key(s)" in repr(settings)


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"nope": 1}, "unknown"),
        ({"api_keys": "k"}, "list of non-empty strings"),
        ({"api_keys": ["env:NOT_SET_ANYWHERE_123"]}, "not set"),
        ({"max_body_bytes": 0}, "> 0"),
        ({"requests_per_minute": -1}, "≥ 0"),
        ({"requests_per_minute": True}, "whole number"),
        ({"allow_site_url": "yes"}, "true or false"),
        ({"grace_seconds": float("inf")}, "finite"),
    ],
)
def test_mistakes_name_the_field(table: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings(table, "x.toml", environ={})
    assert "x.toml, [server], field" in str(error.value) and words in str(error.value)


async def test_memory_limits_sliding_window_and_streams() -> None:
    now = [100.0]
    limits = MemoryLimits(clock=lambda: now[0])
    assert await limits.take_request("a", 2) is None
    now[0] += 10
    assert await limits.take_request("a", 2) is None
    wait = await limits.take_request("a", 2)
    assert wait == pytest.approx(50.0)  # the first hit leaves the window 60 s after it
    assert await limits.take_request("b", 2) is None
    now[0] += 50.001
    assert await limits.take_request("a", 2) is None
    assert await limits.take_request("a", 0) is None  # 0 = no limit
    assert await limits.open_stream("a", 1)
    assert not await limits.open_stream("a", 1)
    await limits.close_stream("a")
    assert await limits.open_stream("a", 1)
    assert await limits.open_stream("a", 0)


def test_server_namespace_and_layering() -> None:
    import pathlib
    import re

    import chatbridge.server as server

    assert server.__all__ == sorted(server.__all__)
    assert all(getattr(server, name) is not None for name in server.__all__)
    client_dir = pathlib.Path(server.__file__).parent.parent / "_client"
    imports_server = re.compile(r"^\s*(from|import)\s+(\.\.|chatbridge\.)server\b", re.M)
    for module in client_dir.glob("*.py"):  # the client must not know the server
        assert not imports_server.search(module.read_text()), module.name


def test_redis_url_from_the_table_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_REDIS", "redis://:secret@10.0.0.5:6379/0")
    settings = parse_settings({"redis_url": "env:MY_REDIS"}, environ={})
    assert settings.redis_url == "redis://:secret@10.0.0.5:6379/0"
    assert "secret" not in repr(settings) and "redis_url='<set>'" in repr(settings)
    for bad in ("", 5, ["redis://x"]):
        with pytest.raises(ConfigError, match="redis_url"):
            parse_settings({"redis_url": bad}, environ={})


def test_the_documented_server_table_is_valid_and_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses
    import re
    import tomllib
    from pathlib import Path

    page = (Path(__file__).parents[2] / "docs" / "server.md").read_text()
    block = re.search(r"```toml\n(.*?)```", page, re.S)
    assert block is not None
    table = tomllib.loads(block.group(1))["server"]
    monkeypatch.setenv("CHATBRIDGE_KEY", "k-1")
    monkeypatch.setenv("CHATBRIDGE_REDIS", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("CHATBRIDGE_MONITOR_KEY", "m-1")
    monkeypatch.setenv("CHATBRIDGE_ADMIN_KEY", "a-1")
    settings = parse_settings(table, "docs/server.md", environ={})
    assert settings.api_keys == ("k-1",) and settings.concurrent_streams == 20
    documented = set(re.findall(r"^\| `(\w+)` \|", page, re.M))
    assert documented == {f.name for f in dataclasses.fields(ServerSettings)} == set(table)
