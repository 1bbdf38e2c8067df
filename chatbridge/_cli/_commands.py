"""The list of commands. Each command module exposes ``register(subparsers)``."""

from __future__ import annotations

from types import ModuleType

from . import _chat_cmd, _check_cmd, _demo_cmd, _providers_cmd, _serve_cmd, _site_cmd

COMMANDS: tuple[ModuleType, ...] = (
    _demo_cmd,
    _chat_cmd,
    _providers_cmd,
    _check_cmd,
    _site_cmd,
    _serve_cmd,
)
