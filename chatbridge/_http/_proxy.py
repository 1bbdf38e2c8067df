"""Outbound proxies at the HTTP boundary: a failure of the proxy itself is told apart from a
failure of the site (:class:`ProxyError`: nothing reached the site), and a proxy's
credentials never leave this module in a message: a proxy is shown without its user and
password (:func:`public_proxy`), and text that might hold them is masked (:func:`mask`)."""

from __future__ import annotations

from urllib.parse import unquote

from yarl import URL

from .._exceptions import ProxyError

__all__ = ["mask", "proxy_error", "public_proxy"]


def public_proxy(proxy: str) -> str:
    """The proxy's scheme, host and port: no user, password, path, query or fragment."""
    try:
        url = URL(proxy)
    except (ValueError, TypeError):
        return "<invalid proxy URL>"
    if not url.host:
        return "<invalid proxy URL>"
    port = f":{url.explicit_port}" if url.explicit_port else ""
    return f"{url.scheme}://{url.host}{port}"


def mask(text: str, proxy: str | None) -> str:
    """``text`` with ``proxy``'s user and password (as written, and decoded) replaced."""
    if not proxy:
        return text
    try:
        url = URL(proxy)
    except (ValueError, TypeError):
        return text
    secrets = {url.raw_user, url.raw_password, url.user, url.password}
    secrets |= {unquote(secret) for secret in secrets if secret}
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def proxy_error(error: BaseException, proxy: str | None, url: str) -> ProxyError:
    """The failure of ``proxy`` (its address shown, its credentials masked) on the way to
    ``url``."""
    shown = public_proxy(proxy) if proxy else "the proxy"
    reason = mask(str(error) or type(error).__name__, proxy)
    if "Timeout" in type(error).__name__ or isinstance(error, TimeoutError):
        message = f"Timed out reaching the proxy {shown}: {reason}"
    else:
        message = f"Cannot go through the proxy {shown}: {reason}"
    return ProxyError(message, proxy=public_proxy(proxy) if proxy else None, url=url)
