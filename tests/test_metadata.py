"""Package metadata says what is true: the licence file exists and matches pyproject."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import chatbridge
from chatbridge._constants import DISTRIBUTION, install_hint

ROOT = Path(__file__).resolve().parent.parent


def test_license_file_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    license_text = (ROOT / "LICENSE").read_text()

    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert license_text.startswith("MIT License\n")
    assert "Copyright (c) 2026 the chatbridge authors" in license_text


def test_every_install_line_names_our_distribution() -> None:
    """``pip install chatbridge`` installs someone else's project: every install line of the
    docs, the CI script and the package's own messages names ``chatbridge-wp`` or a path."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION == "chatbridge-wp"
    texts = [ROOT / "README.md", ROOT / ".ci" / "run", *sorted((ROOT / "docs").rglob("*.md"))]
    texts += sorted((ROOT / "chatbridge").rglob("*.py"))
    targets = []
    for path in texts:
        for line in re.findall(r"pip install ([^`\n\"]+)", path.read_text()):
            for word in line.split():
                word = word.strip("'),")
                if word.startswith("chatbridge") or word.startswith("-e"):
                    targets.append((path.name, word))
    assert len(targets) >= 6
    for where, target in targets:
        assert target.startswith((f"{DISTRIBUTION}[", "-e")) or target == DISTRIBUTION, where
    assert install_hint("redis") == (
        "pip install 'chatbridge-wp[redis]', or in a checkout pip install -e '.[redis]'"
    )


def test_the_version_is_written_once_and_has_a_changelog_entry() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "chatbridge.__version__"
    }
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "Keep a Changelog" in changelog and "## [Unreleased]" in changelog
    assert re.search(rf"^## \[{re.escape(chatbridge.__version__)}\] - \d{{4}}-\d\d-\d\d$",
                     changelog, re.MULTILINE)
