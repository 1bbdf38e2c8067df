"""The two protocol engines share the HTTP and state layers and never import each other, or
anything above them (providers, the client, the server, the CLI)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "chatbridge"
IMPORTS = re.compile(r"^\s*(?:from|import)\s+([\w.]+)", re.MULTILINE)
ABOVE = ("_providers", "_client", "server", "_cli", "web", "site", "upstream")


def imported(folder: str) -> dict[str, set[str]]:
    return {
        str(path.relative_to(PACKAGE)): set(IMPORTS.findall(path.read_text()))
        for path in (PACKAGE / folder).rglob("*.py")
    }


@pytest.mark.parametrize(
    ("engine", "other"), [("_aiengine", "_aipower"), ("_aipower", "_aiengine")]
)
def test_an_engine_imports_neither_the_other_nor_anything_above(engine: str, other: str) -> None:
    for name, modules in imported(engine).items():
        parents = {
            module.lstrip(".").split(".")[0] for module in modules if module.startswith("..")
        }
        assert other not in parents, name
        assert not parents & set(ABOVE), (name, parents & set(ABOVE))
        assert not any(module.startswith("chatbridge") for module in modules), name


def test_the_shared_layers_import_no_engine() -> None:
    for folder in ("_http", "_state"):
        for name, modules in imported(folder).items():
            assert not any("_aiengine" in m or "_aipower" in m for m in modules), name
