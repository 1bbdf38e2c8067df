"""HTTP/1.1 over a plain socket, for what ordinary clients never send: bytes that are not
UTF-8 in a header, malformed requests, a client that half-closes after its request. One
request per connection (``Connection: close``); the answer is read until the server closes."""

from __future__ import annotations

import socket
from collections.abc import Mapping

__all__ = ["address", "exchange", "parse", "read_all", "request_bytes"]

Headers = Mapping[str, str] | Mapping[bytes, bytes]


def address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    return host.strip("[]"), int(port)


def request_bytes(
    method: str, path: str, headers: Headers | None = None, body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: chatbridge.test"]
    for name, value in (headers or {}).items():
        raw_name = name if isinstance(name, bytes) else name.encode()
        raw_value = value if isinstance(value, bytes) else value.encode()
        lines.append(raw_name + b": " + raw_value)
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}".encode())
        lines.append(b"Content-Type: application/json")
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _dechunk(body: bytes) -> bytes:
    out, rest = [], body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out.append(rest[:size])
        rest = rest[size + 2 :]
    return b"".join(out)


def parse(raw: bytes) -> tuple[int, dict[str, str], str]:
    """Status, headers (lower-case names) and body text of one raw answer (0 when none)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    while head.startswith(b"HTTP/1.1 1"):  # an interim answer goes before the final one
        head, _, body = body.partition(b"\r\n\r\n")
    if not head:
        return 0, {}, ""
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = _dechunk(body)
    return int(status_line.split()[1]), headers, body.decode("utf-8", "replace")


def exchange(
    url: str,
    method: str,
    path: str,
    headers: Headers | None = None,
    body: bytes = b"",
    *,
    half_close: bool = False,
    raw: bytes | None = None,
    timeout: float = 30,
) -> tuple[int, dict[str, str], str]:
    """Send one request (or ``raw`` bytes), optionally shut the sending side (the client
    half-closes), and read the answer until the server closes."""
    with socket.create_connection(address(url), timeout=timeout) as sock:
        sock.sendall(raw if raw is not None else request_bytes(method, path, headers, body))
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return parse(read_all(sock))
