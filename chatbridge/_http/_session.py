"""``StreamSession``: the one HTTP client every provider uses, over aiohttp.

It owns what providers must not re-implement: default headers, a cookie jar, proxies,
deadlines on every path (connect, total, and the idle gap between body chunks), a cap on the
bytes read, the connections a host may have at once (a request past them queues within its
own deadline: ``_slots``), and the translation of aiohttp's exceptions into ours, done here
and only here.
"""

from __future__ import annotations

import asyncio
import codecs
import inspect
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from .._constants import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_CONNECTIONS_PER_HOST,
    DEFAULT_HEADERS,
    DEFAULT_MAX_LINE_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_READ_GAP,
    DEFAULT_TIMEOUT,
    MAX_HEADER_FIELDS,
)
from .._exceptions import (
    ChatbridgeError,
    ConnectError,
    RequestTimeoutError,
    ResponseError,
    ResponseTooLargeError,
    TransportError,
    excerpt,
)
from .._json import loads
from ._cookies import Jars, request_with_jars
from ._decoders import LineDecoder, ServerSentEvent, SSEDecoder, decode_text
from ._forms import FORM_CONTENT_TYPE, encode_form
from ._guard import InwardAddressError
from ._pool import get_connector, get_slots
from ._proxy import proxy_error
from ._slots import Key, Slots, origin_of
from ._status import raise_for_status

__all__ = ["FOREIGN_ERRORS", "StreamResponse", "StreamSession", "translate", "translate_errors"]

_ERROR_PREFIX_BYTES = 64 * 1024


def _socks_errors() -> tuple[type[BaseException], ...]:
    """The SOCKS extra's own exception classes (they derive from neither aiohttp nor OSError)."""
    errors: list[type[BaseException]] = []
    for module_name in ("python_socks", "aiohttp_socks"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        for name in ("ProxyError", "ProxyConnectionError", "ProxyTimeoutError"):
            error = getattr(module, name, None)
            if isinstance(error, type) and issubclass(error, BaseException):
                errors.append(error)
    return tuple(errors)


#: aiohttp's timeouts by phase (3.10+; older versions raise the common base only).
_CONNECT_TIMEOUT: Any = getattr(aiohttp, "ConnectionTimeoutError", ())
_READ_TIMEOUT: Any = getattr(aiohttp, "SocketTimeoutError", ())


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


def _timed_out(exc: BaseException, url: str, timeout: aiohttp.ClientTimeout | None) -> str:
    """Which wait ran out, and how long it was, when the request's limits are known."""
    if isinstance(exc, _CONNECT_TIMEOUT):
        limit = timeout.connect if timeout is not None else None
        return f"No connection to {url} within {_seconds(limit)}" if limit else (
            f"Timed out connecting to {url}"
        )
    if isinstance(exc, _READ_TIMEOUT):
        limit = timeout.sock_read if timeout is not None else None
        return f"{url} sent nothing for {_seconds(limit)}" if limit else (
            f"Timed out waiting for {url}"
        )
    limit = timeout.total if timeout is not None else None
    return f"No complete reply from {url} within {_seconds(limit)}" if limit else (
        f"Timed out talking to {url}"
    )


def _cannot_connect(exc: aiohttp.ClientConnectorError, url: str) -> ConnectError:
    where = f"{exc.host}:{exc.port}"
    if isinstance(exc.os_error, InwardAddressError):  # the guard's refusal says it all
        return ConnectError(f"Cannot connect to {where}: {exc.os_error}", url=url)
    if isinstance(exc.os_error, ConnectionRefusedError):
        return ConnectError(
            f"Cannot connect to {where}: connection refused (is the site running, and is the "
            "URL right?)",
            url=url,
        )
    return ConnectError(f"Cannot connect to {where}: {exc.os_error}", url=url)


def translate(
    exc: BaseException,
    url: str,
    timeout: aiohttp.ClientTimeout | None = None,
    proxy: str | None = None,
) -> ChatbridgeError:
    """The chatbridge error for an aiohttp/OS/proxy exception (done here, and only here);
    ``timeout``: the request's limits, so a timeout says which wait ran out and how long.
    With ``proxy`` (the request went through it), a failure to reach the proxy, or its
    refusal, is a :class:`ProxyError`: the site was never reached."""
    if isinstance(exc, ChatbridgeError):
        return exc
    if isinstance(exc, (*_PROXY_ERRORS, *_SOCKS_ERRORS)):
        return proxy_error(exc, proxy, url)
    if proxy and isinstance(exc, _CONNECT_TIMEOUT):  # connecting, which is to the proxy
        return proxy_error(exc, proxy, url)
    if isinstance(exc, TimeoutError):  # asyncio's timeouts, aiohttp's ServerTimeoutError
        return RequestTimeoutError(_timed_out(exc, url, timeout), url=url)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return _cannot_connect(exc, url)
    if isinstance(exc, aiohttp.TooManyRedirects):
        return TransportError(f"Too many redirects from {url}", url=url)
    if isinstance(exc, aiohttp.InvalidURL):
        return TransportError(f"Invalid URL: {exc}", url=url)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return TransportError(f"The connection to {url} broke mid-reply: {exc}", url=url)
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        return TransportError(f"The proxy refused the connection: {exc.message}", url=url)
    if isinstance(exc, aiohttp.ClientResponseError):
        # The host answered, but its status line or headers cannot be read (malformed, or a
        # header past the size cap): a reply we cannot read, not an unreachable host.
        return ResponseError(
            f"The reply from {url} cannot be read (its status line or headers): "
            f"{excerpt(exc.message)}",
            url=url,
        )
    return TransportError(f"HTTP request to {url} failed: {exc!r}", url=url)


_SOCKS_ERRORS = _socks_errors()
#: The proxy could not be reached, or answered its CONNECT with a failure (407, 502…).
_PROXY_ERRORS = (aiohttp.ClientProxyConnectionError, aiohttp.ClientHttpProxyError)
#: What :func:`translate` turns into chatbridge errors.
FOREIGN_ERRORS: tuple[type[BaseException], ...] = (
    TimeoutError,
    aiohttp.ClientError,
    OSError,
    *_SOCKS_ERRORS,
)


@contextmanager
def translate_errors(url: str, timeout: aiohttp.ClientTimeout | None = None) -> Iterator[None]:
    """``with translate_errors(url):`` raises :func:`translate` of any foreign error."""
    try:
        yield
    except FOREIGN_ERRORS as exc:
        raise translate(exc, url, timeout) from exc


class StreamResponse:
    """A response whose body is read lazily, bounded by the session's size cap."""

    def __init__(
        self,
        raw: aiohttp.ClientResponse,
        max_bytes: int,
        max_line: int,
        timeout: aiohttp.ClientTimeout | None = None,
    ) -> None:
        self._raw = raw
        self._max_bytes = max_bytes
        self._max_line = max_line
        self._timeout = timeout
        self._read = 0
        self._body: bytes | None = None
        #: The length the reply declares (parsed from its header once, here).
        self._declared = declared = raw.content_length
        if declared is not None and declared > max_bytes:
            raise ResponseTooLargeError(
                f"The reply declares {declared} bytes, over the {max_bytes}-byte cap",
                url=str(raw.url),
                status=raw.status,
            )

    @property
    def status(self) -> int:
        return self._raw.status

    @property
    def ok(self) -> bool:
        return self._raw.status < 400

    @property
    def reason(self) -> str:
        return self._raw.reason or ""

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        return self._raw.headers

    @property
    def url(self) -> URL:
        return self._raw.url

    @property
    def content_type(self) -> str:
        return self._raw.content_type

    @property
    def charset(self) -> str:
        """The declared charset when Python knows it (sites declare ``utf8mb4`` and worse),
        else UTF-8."""
        declared = self._raw.charset
        if declared:
            try:
                return codecs.lookup(declared).name
            except LookupError:
                pass
        return "utf-8"

    def _count(self, size: int) -> None:
        self._read += size
        if self._read > self._max_bytes:
            raise ResponseTooLargeError(
                f"The reply passed the {self._max_bytes}-byte cap",
                url=str(self.url),
                status=self.status,
            )

    async def iter_content(self) -> AsyncIterator[bytes]:
        """The body in chunks as they arrive; each wait is bounded by the read-gap deadline."""
        if self._body is not None:
            yield self._body
            return
        with translate_errors(str(self.url), self._timeout):
            async for chunk in self._raw.content.iter_any():
                self._count(len(chunk))
                yield chunk

    async def read(self) -> bytes:
        if self._body is None:
            if self._declared is not None and self._read == 0:
                # Declared length already checked against the cap: one read, no chunking.
                try:
                    self._body = await self._raw.read()
                except FOREIGN_ERRORS as exc:
                    raise translate(exc, str(self.url), self._timeout) from exc
                self._count(len(self._body))
            else:
                self._body = b"".join([chunk async for chunk in self.iter_content()])
        return self._body

    async def text(self) -> str:
        body = await self.read()
        if self._raw.charset in (None, "utf-8", "UTF-8"):  # the usual case, without a codec lookup
            return body.decode("utf-8", "replace")
        return decode_text(body, self.charset)

    async def text_prefix(self, limit: int = _ERROR_PREFIX_BYTES) -> str:
        """Up to ``limit`` bytes of the body, for error messages; never raises on size."""
        if self._body is None:
            buffer = bytearray()
            try:
                with translate_errors(str(self.url)):
                    while len(buffer) < limit:
                        chunk = await self._raw.content.read(limit - len(buffer))
                        if not chunk:
                            break
                        buffer.extend(chunk)
            except TransportError:
                pass  # an error page cut short still says what it can
            return decode_text(bytes(buffer), self.charset)
        return decode_text(self._body[:limit], self.charset)

    async def json(self) -> Any:
        """The body parsed as JSON, whatever the declared content type."""
        text = await self.text()
        try:
            return loads(text)
        except ValueError as exc:
            raise ResponseError(
                f"The reply is not JSON: {exc}", url=str(self.url), status=self.status, body=text
            ) from exc

    async def iter_lines(self) -> AsyncIterator[str]:
        decoder = LineDecoder(self._max_line, self.charset)
        async for chunk in self.iter_content():
            for line in decoder.feed(chunk):
                yield line
        for line in decoder.flush():
            yield line

    async def sse(self) -> AsyncIterator[ServerSentEvent]:
        """Server-sent events, including one left undispatched at end of stream."""
        decoder = SSEDecoder(self._max_line)
        async for chunk in self.iter_content():
            for event in decoder.feed(chunk):
                yield event
        for event in decoder.flush():
            yield event

    async def raise_for_status(self) -> None:
        await raise_for_status(self)

    def release(self) -> None:
        """Return the connection to the pool, or close it if the body was not fully read."""
        self._raw.release()

    def close(self) -> None:
        self._raw.close()


class _RequestContext:
    def __init__(self, session: StreamSession, method: str, url: str, kwargs: dict[str, Any]):
        self._session = session
        self._method = method
        self._url = url
        self._kwargs = kwargs
        self._response: StreamResponse | None = None
        self._slot: Key | None = None

    async def __aenter__(self) -> StreamResponse:
        session, kwargs = self._session, self._kwargs
        self._slot = await session._take_slot(self._url, kwargs)
        try:
            self._response = await session._send(self._method, self._url, kwargs)
        except BaseException:
            session._give_slot(self._slot)
            raise
        return self._response

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._response is not None:
            if exc is None:
                self._response.release()
            else:
                self._response.close()  # a half-read body cannot go back to the pool
        if self._slot is not None:
            self._session._give_slot(self._slot)
            self._slot = None


_SETS_MAX_HEADERS = "max_headers" in inspect.signature(aiohttp.ClientSession).parameters


def _header_limits(max_response_bytes: int) -> dict[str, Any]:
    """aiohttp's header limits raised to ours: a line or a field as long as a body may be
    (``max_headers`` exists from aiohttp 3.10)."""
    limits: dict[str, Any] = {
        "max_line_size": max_response_bytes,
        "max_field_size": max_response_bytes,
    }
    if _SETS_MAX_HEADERS:
        limits["max_headers"] = MAX_HEADER_FIELDS
    return limits


def _timeout(
    total: float | None, connect: float | None, read_gap: float | None
) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=total, connect=connect, sock_read=read_gap)


class StreamSession:
    """An async context manager over one aiohttp session with chatbridge's defaults.

    ``async with StreamSession(headers=..., proxy=..., timeout=30) as session:``
    ``async with session.post(url, data=form) as response: ...``

    ``proxy`` (or ``proxies={"all": url}``): an http(s):// or socks5:// proxy; ``None`` means
    no proxy, environment proxies only with ``trust_env=True``. ``timeout`` is the total
    deadline per request in seconds, body included; ``read_gap`` bounds the silence between
    chunks; ``connect_timeout`` the connection set-up. ``max_response_bytes`` caps any body.
    ``connections_per_host``: requests to one host (scheme, host and port) in flight at once;
    one more waits for a slot, bounded by its total deadline only (a request may say its own,
    ``connections_per_host=N``: the provider's, or its route target's).
    ``impersonate`` is accepted for gpt4free compatibility and ignored.
    """

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        proxies: Mapping[str, str] | None = None,
        proxy: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        *,
        connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
        read_gap: float | None = DEFAULT_READ_GAP,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        connections_per_host: int = DEFAULT_CONNECTIONS_PER_HOST,
        cookie_jar: aiohttp.abc.AbstractCookieJar | None = None,
        trust_env: bool = False,
        impersonate: str | None = None,
    ) -> None:
        self.headers = {**DEFAULT_HEADERS, **(headers or {})}
        self.proxy = proxy or (proxies or {}).get("all") or (proxies or {}).get("https")
        self.timeout = _timeout(timeout, connect_timeout, read_gap)
        self.max_response_bytes = max_response_bytes
        self.max_line_bytes = max_line_bytes
        self.connections_per_host = connections_per_host
        self.cookie_jar = cookie_jar if cookie_jar is not None else aiohttp.CookieJar(unsafe=True)
        self._initial_cookies = dict(cookies or {})
        self._trust_env = trust_env
        self._client: aiohttp.ClientSession | None = None
        self._slots: Slots | None = None
        self._request_proxy: str | None = None

    async def __aenter__(self) -> StreamSession:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:
        if self._client is not None:
            return
        connector, self._request_proxy = await get_connector(self.proxy)
        self._slots = await get_slots()
        self._client = aiohttp.ClientSession(
            connector=connector,
            connector_owner=False,
            cookie_jar=self.cookie_jar,
            cookies=self._initial_cookies or None,
            headers=self.headers,
            timeout=self.timeout,
            trust_env=self._trust_env,
            auto_decompress=True,
            **_header_limits(self.max_response_bytes),
        )

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    @property
    def cookies(self) -> dict[str, str]:
        """Current cookies by name (all domains)."""
        return {cookie.key: cookie.value for cookie in self.cookie_jar}

    def request(self, method: str, url: str, **kwargs: Any) -> _RequestContext:
        """Any aiohttp request option, plus ``cookie_jar=``: a jar of this request's own
        (one per conversation, say) that supplies its cookies and keeps the ones it sets,
        instead of the session's; or a sequence of jars, the first keeping what is set and
        all supplying cookies. Redirects are then followed hop by hop, each hop getting only
        the cookies of its own URL (``_cookies``)."""
        return _RequestContext(self, method, url, kwargs)

    def get(self, url: str, **kwargs: Any) -> _RequestContext:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> _RequestContext:
        return self.request("POST", url, **kwargs)

    async def _take_slot(self, url: str, kwargs: dict[str, Any]) -> Key:
        """A connection slot for ``url``'s host; a wait for one comes out of the request's
        total deadline (its ``timeout`` is set to what is left)."""
        slots = self._slots
        if self._client is None or slots is None:
            raise RuntimeError("StreamSession is not open: use 'async with StreamSession()'")
        limit = kwargs.pop("connections_per_host", None) or self.connections_per_host
        timeout = kwargs.get("timeout", self.timeout)
        if not isinstance(timeout, aiohttp.ClientTimeout):
            timeout = kwargs["timeout"] = _timeout(
                timeout, self.timeout.connect, self.timeout.sock_read
            )
        origin = origin_of(url)
        key = slots.take_now(origin, limit)
        if key is not None:
            return key
        loop = asyncio.get_running_loop()
        started = loop.time()
        key = await slots.wait(origin, limit, timeout.total)
        if timeout.total is not None:
            left = max(timeout.total - (loop.time() - started), 0.001)
            kwargs["timeout"] = aiohttp.ClientTimeout(
                total=left,
                connect=timeout.connect,
                sock_connect=timeout.sock_connect,
                sock_read=timeout.sock_read,
            )
        return key

    def _give_slot(self, key: Key) -> None:
        if self._slots is not None:
            self._slots.give(key)

    async def _send(self, method: str, url: str, kwargs: dict[str, Any]) -> StreamResponse:
        if self._client is None:
            raise RuntimeError("StreamSession is not open: use 'async with StreamSession()'")
        if self._request_proxy and "proxy" not in kwargs:
            kwargs["proxy"] = self._request_proxy
        data = kwargs.get("data")
        body = encode_form(data) if isinstance(data, dict) else None
        if body is not None:
            kwargs["data"] = body
            headers = kwargs.get("headers")
            if not headers or "Content-Type" not in headers:
                kwargs["headers"] = {**(headers or {}), "Content-Type": FORM_CONTENT_TYPE}
        jars: Jars | None = kwargs.pop("cookie_jar", None)
        limits = kwargs.get("timeout") or self.timeout
        try:
            if jars is None:
                raw = await self._client.request(method, url, **kwargs)
            else:
                raw = await request_with_jars(self._client, method, url, kwargs, jars)
        except FOREIGN_ERRORS as exc:
            raise translate(exc, url, limits, kwargs.get("proxy") or self.proxy) from exc
        proxy = kwargs.get("proxy") or self.proxy
        if raw.status == 407 and proxy:  # the proxy's own refusal, not the site's answer
            raw.close()
            raise proxy_error(
                ConnectionRefusedError("407 Proxy Authentication Required"), proxy, url
            )
        try:
            return StreamResponse(raw, self.max_response_bytes, self.max_line_bytes, limits)
        except BaseException:
            raw.close()
            raise
