"""The shared rules for caller-named sites (``chatbridge._http._guard``), on plain data."""

from __future__ import annotations

import socket

import pytest

from chatbridge._http._guard import (
    GuardedResolver,
    InwardAddressError,
    endpoint_allowed,
    guarded,
    guarded_socket,
    is_inward,
    no_inward_addresses,
)

PAGE = "https://blog.example/chat/"


@pytest.mark.parametrize(
    ("endpoint", "allowed", "ok"),
    [
        ("https://blog.example/wp-admin/admin-ajax.php", (), True),
        ("https://BLOG.example:443/x", (), True),
        ("http://blog.example/x", (), False),  # a downgrade
        ("https://blog.example:8443/x", (), False),
        ("https://www.blog.example/x", (), False),
        ("http://169.254.169.254/latest", (), False),
        ("https://admin.example/x", ("https://admin.example",), True),
        ("https://admin.example/x", ("https://other.example", "not an origin"), False),
        ("https://anywhere.example/x", ("*",), True),
        ("ftp://blog.example/x", ("*",), False),
        ("javascript:alert(1)", ("*",), False),
    ],
)
def test_endpoint_allowed(endpoint: str, allowed: tuple[str, ...], ok: bool) -> None:
    assert endpoint_allowed(endpoint, PAGE, allowed) is ok


def test_an_upgrade_to_https_on_the_same_host_is_the_same_site() -> None:
    assert endpoint_allowed("https://blog.example/wp-admin/admin-ajax.php", "http://blog.example/")
    assert not endpoint_allowed("https://blog.example:8443/x", "http://blog.example/")


@pytest.mark.parametrize(
    "address",
    ["::ffff:169.254.169.254", "::ffff:10.0.0.1", "fd12::1", "ff02::1", "::", "240.0.0.1"],
)
def test_more_inward_forms(address: str) -> None:
    assert is_inward(address)


def test_the_socket_factory_refuses_the_dialled_address() -> None:
    with pytest.raises(InwardAddressError, match=r"169\.254\.169\.254"):
        guarded_socket((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 80)))
    sock = guarded_socket((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80)))
    sock.close()


async def test_the_resolver_keeps_only_public_answers() -> None:
    with pytest.raises(InwardAddressError, match="localhost resolves to"):
        await GuardedResolver().resolve("localhost", 80)
    assert not guarded()
    with no_inward_addresses():
        assert guarded()
    assert not guarded()
