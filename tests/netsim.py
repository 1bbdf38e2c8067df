"""A simulated internet for one process under test: ``python -m tests.netsim TABLE.json
chatbridge-args...`` runs the chatbridge CLI with

* names resolved as the table says: each name has a list of answers, taken in turn, the
  last one for good (``["93.184.216.34", "127.0.0.1"]`` is DNS rebinding: public at the
  first look, loopback after), and
* connections to the table's public addresses routed to local servers
  (``"93.184.216.34:80": "127.0.0.1:41234"``); a public address the table does not route
  is refused, so nothing under test can reach the real internet.

This is test code only: the package never reads the table or the environment for it. The
guard under test sees exactly what it would see on a real network (the answers of the
resolver, the address handed to the socket); only where a public address's packets go
is simulated, below the guard.
"""

from __future__ import annotations

import asyncio.selector_events
import ipaddress
import json
import socket
import sys
import threading
from typing import Any

__all__ = ["install"]


def install(table: dict[str, Any]) -> None:
    names: dict[str, list[str]] = {k: list(v) for k, v in table.get("names", {}).items()}
    routes = {
        _address(public): _address(local) for public, local in table.get("routes", {}).items()
    }
    lock = threading.Lock()
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in names:
            return real_getaddrinfo(host, port, *args, **kwargs)
        with lock:
            answers = names[name]
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
        family = socket.AF_INET6 if ":" in answer else socket.AF_INET
        number = int(port or 0)
        where = (answer, number, 0, 0) if family == socket.AF_INET6 else (answer, number)
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", where)]

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    loop_class = asyncio.selector_events.BaseSelectorEventLoop
    real_connect = loop_class.sock_connect

    async def sock_connect(self: Any, sock: socket.socket, address: Any) -> None:
        key = (str(address[0]), int(address[1]))
        if key in routes:
            host, port = routes[key]
            address = (host, port, 0, 0) if sock.family == socket.AF_INET6 else (host, port)
        elif ipaddress.ip_address(key[0].split("%")[0]).is_global:
            raise ConnectionRefusedError(f"netsim: {key[0]}:{key[1]} is not simulated")
        await real_connect(self, sock, address)

    loop_class.sock_connect = sock_connect  # type: ignore[method-assign]


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def main() -> None:
    with open(sys.argv[1]) as handle:
        install(json.load(handle))
    from chatbridge._cli._main import main as cli

    raise SystemExit(cli(sys.argv[2:]))


if __name__ == "__main__":
    main()
