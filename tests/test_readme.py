"""The README's reference tables are the code's own: exit codes and fault kinds."""

from __future__ import annotations

from pathlib import Path

from chatbridge._cli._errors import EXIT_CODES_HELP
from chatbridge.site._aiengine._options import ENGINE_FAULT_EFFECTS
from chatbridge.site._config import FAULT_KINDS
from chatbridge.site._faults import FAULT_EFFECTS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_readme_lists_every_exit_code_as_help_does() -> None:
    rows = EXIT_CODES_HELP.splitlines()[1:]

    assert len(rows) == 12
    table = README.split("## Exit codes", 1)[1]
    for row in rows:
        assert f"\n    {row[2:]}\n" in table, row


def test_readme_says_what_each_fault_does() -> None:
    for kind in FAULT_KINDS:
        assert f"| `{kind}` | {FAULT_EFFECTS[kind]} |" in README, kind
    assert "Faults hit every eligible request unless `--fault-rate" in README


def test_readme_says_what_each_ai_engine_fault_does() -> None:
    for kind, effect in ENGINE_FAULT_EFFECTS.items():
        assert f"| `{kind}` | {effect} |" in README, kind


def test_readme_commands_run_from_the_virtualenv() -> None:
    # The set-up never activates the virtualenv: a bare `chatbridge` is "command not found".
    lines = [line.strip() for line in README.splitlines() if line.startswith("    ")]
    commands = [line for line in lines if "chatbridge " in line and not line.startswith("#")]
    assert commands
    for line in commands:
        first = line.split("&&")[-1].split()[0]
        assert first in (".venv/bin/chatbridge", "python3", ".venv/bin/pytest"), line
    assert ".venv/bin/python examples/hello_providers.py" in README
