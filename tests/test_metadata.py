"""Package metadata says what is true: the licence file exists and matches pyproject."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_license_file_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    license_text = (ROOT / "LICENSE").read_text()

    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert license_text.startswith("MIT License\n")
    assert "Copyright (c) 2026 the chatbridge authors" in license_text
