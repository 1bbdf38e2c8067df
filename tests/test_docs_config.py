"""The configuration examples of docs/ are real: every TOML example loads, and routing.md's
Python example builds the routes it shows. (They are files of examples/, which
tests/test_examples.py holds equal to the pages' blocks.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbridge._client._config import load_config
from chatbridge.server import parse_settings
from chatbridge.server._namespace import state_namespace, state_timeout

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TOML = sorted(EXAMPLES.glob("*.toml"))


def test_the_toml_examples_were_found() -> None:
    assert [path.name for path in TOML] == [
        "balancing.toml",
        "deployment.toml",
        "namespace.toml",
        "proxies.toml",
        "quotas.toml",
        "routes.toml",
        "server.toml",
    ]


@pytest.mark.parametrize("path", TOML, ids=[path.stem for path in TOML])
def test_every_toml_example_loads(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = ("LOCAL_KEY", "CHATBRIDGE_KEY", "CHATBRIDGE_MONITOR_KEY", "CHATBRIDGE_ADMIN_KEY")
    for name in (*names, "CHATBRIDGE_REDIS"):
        monkeypatch.setenv(name, "redis://127.0.0.1:6379/0" if "REDIS" in name else "k-1")
    config = load_config(path)
    assert config.routes
    parse_settings(config.server, str(path), environ={})
    state_namespace(config.state, str(path), {}, ())
    state_timeout(config.state, str(path))


def test_the_routing_python_example_builds_its_routes() -> None:
    code = (EXAMPLES / "routes.py").read_text()
    scope: dict[str, object] = {}
    exec(compile(code, "examples/routes.py", "exec"), scope)
    client = scope["client"]
    routes = client.routes  # type: ignore[attr-defined]
    assert [t.provider.get_name() for t in routes["default"].targets] == [
        "AIPower",
        "OpenAICompatible",
    ]
