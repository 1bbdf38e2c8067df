"""The package's public namespace is exactly its sorted ``__all__``."""

import subprocess
import sys

import chatbridge


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert chatbridge.__all__ == sorted(chatbridge.__all__)
    for name in chatbridge.__all__:
        assert getattr(chatbridge, name) is not None, name


def test_public_members_are_in_all() -> None:
    public = {name for name in dir(chatbridge) if not name.startswith("_")}
    # modules the import machinery attaches and the lazy table's helpers are not API
    attached = {"annotations", "importlib", "TYPE_CHECKING", "Any"}
    attached |= {n for n in public if type(getattr(chatbridge, n)).__name__ == "module"}
    assert public - attached == set(chatbridge.__all__)


def test_import_touches_neither_aiohttp_nor_the_network() -> None:
    code = (
        "import socket, sys\n"
        "def refuse(*a, **k): raise AssertionError('network at import')\n"
        "socket.socket.connect = refuse\n"
        "import chatbridge\n"
        "assert 'aiohttp' not in sys.modules, 'aiohttp imported eagerly'\n"
        "chatbridge.Chatgpt4o\n"
        "assert 'aiohttp' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
