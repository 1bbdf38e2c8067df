"""The list of commands. Each command module exposes ``register(subparsers)``."""

from __future__ import annotations

from types import ModuleType

from . import _demo_cmd, _providers_cmd

COMMANDS: tuple[ModuleType, ...] = (_demo_cmd, _providers_cmd)
