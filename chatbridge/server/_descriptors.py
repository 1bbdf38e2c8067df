"""File descriptors for ``max_connections``: each open connection holds one, and one with a
request in flight holds a second towards its upstream. The process's soft limit is raised
(up to the hard limit) to fit; when it cannot be, the cap is lowered to what fits, with one
warning, so the server meets its own cap long before the kernel's."""

from __future__ import annotations

import logging

__all__ = ["RESERVE", "descriptor_room"]

log = logging.getLogger("chatbridge.server")
#: Descriptors kept for everything but connections (listening sockets, Redis, logs, DNS).
RESERVE = 64


def descriptor_room(most: int) -> int:
    """``most``, or fewer when the descriptor limit cannot be raised to hold them."""
    try:
        import resource
    except ImportError:  # not a Unix: the operating system manages descriptors differently
        return most
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * most + RESERVE
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
            soft = ceiling
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return most
    room = max(1, (soft - RESERVE) // 2)
    log.warning(
        "max_connections is %d here, not %d: the descriptor limit is %d (ulimit -n)",
        room,
        most,
        soft,
    )
    return room
