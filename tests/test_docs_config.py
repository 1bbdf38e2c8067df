"""The configuration examples in docs/ are real: every TOML block loads, and routing.md's
Python example builds the routes it shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chatbridge._client._config import load_config
from chatbridge.server import parse_settings

DOCS = Path(__file__).resolve().parent.parent / "docs"


def blocks(page: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", (DOCS / page).read_text(), re.S)


@pytest.mark.parametrize("page", ["routing.md", "deployment.md", "server.md"])
def test_every_toml_example_loads(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ("LOCAL_KEY", "CHATBRIDGE_KEY", "CHATBRIDGE_MONITOR_KEY", "CHATBRIDGE_ADMIN_KEY")
    for name in (*names, "CHATBRIDGE_REDIS"):
        monkeypatch.setenv(name, "redis://127.0.0.1:6379/0" if "REDIS" in name else "k-1")
    found = blocks(page, "toml")
    assert found, page
    for index, text in enumerate(found):
        path = tmp_path / f"{index}.toml"
        path.write_text(text)
        config = load_config(path)
        assert config.routes
        parse_settings(config.server, str(path), environ={})


def test_the_routing_python_example_builds_its_routes() -> None:
    (code,) = blocks("routing.md", "python")
    scope: dict[str, object] = {}
    exec(compile(code, "docs/routing.md", "exec"), scope)
    client = scope["client"]
    routes = client.routes  # type: ignore[attr-defined]
    assert [t.provider.get_name() for t in routes["default"].targets] == [
        "AIPower",
        "OpenAICompatible",
    ]
