"""HTTP for every protocol engine and provider: one client over aiohttp and the pure parts
around it.

It owns ``StreamSession`` (``_session``: default headers, proxies, a deadline on every path,
a cap on what is read, and aiohttp's errors translated into chatbridge's at this one
boundary), cookies kept per request and redirects followed hop by hop (``_cookies``), failed
replies mapped to typed errors (``_status``), one connection pool per event loop shared by
every session on it (``_pool``), and pure decoders of lines and server-sent events
(``_decoders``) and of forms (``_forms``).

It uses nothing of chatbridge but its top-level modules (errors, defaults, JSON), so both
protocol engines and the providers can stand on it.
"""
