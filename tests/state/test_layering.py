"""The state layer sits below the engine and the client; only it may import Redis, lazily."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "chatbridge"
IMPORTS = re.compile(r"^\s*(?:from|import)\s+([\w.]+)", re.MULTILINE)


def imports(folder: str) -> dict[str, set[str]]:
    found = {}
    for path in (PACKAGE / folder).rglob("*.py"):
        found[str(path.relative_to(PACKAGE))] = set(IMPORTS.findall(path.read_text()))
    return found


def test_only_the_state_layer_imports_redis() -> None:
    users = {
        name
        for name, modules in imports(".").items()
        if any(m == "redis" or m.startswith("redis.") for m in modules)
    }
    assert users == {"_state/_redis.py"}


def test_the_state_layer_imports_no_engine_client_or_server() -> None:
    for name, modules in imports("_state").items():
        assert not any(
            m.startswith(("..", "chatbridge."))
            and m.split(".")[-1] in {"_aipower", "_aiengine", "_client", "server"}
            for m in modules
        ), name
        assert not any(
            m.startswith(("._aipower", ".._aipower", ".._aiengine", ".._client", "..server"))
            for m in modules
        ), name


def test_importing_chatbridge_and_its_server_does_not_import_redis() -> None:
    code = (
        "import sys, chatbridge, chatbridge.server, chatbridge._state, chatbridge._cli._main\n"
        "chatbridge._state.open_store(None)\n"
        "print('redis' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
