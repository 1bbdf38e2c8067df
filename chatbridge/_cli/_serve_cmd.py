"""``chatbridge serve``: the OpenAI-compatible server. All server logic is in
``chatbridge.server``; this module parses the options, sets up the log and reports."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from .. import _constants as defaults
from ._errors import INTERRUPTED, UsageError
from ._options import port_number

__all__ = ["register"]

_EXAMPLES = """\
examples:
  chatbridge serve --port 8000                      # the built-in local site as model "default"
  chatbridge serve --config chatbridge.toml --api-key sk-local
  chatbridge serve --site https://blog.example --host 0.0.0.0
  chatbridge serve --no-ui                          # the API only, no chat page at /

  curl http://127.0.0.1:8000/v1/chat/completions -H 'Content-Type: application/json' \\
    -d '{"model": "default", "messages": [{"role": "user", "content": "Hello"}]}'

  from openai import OpenAI
  client = OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="sk-local")
  reply = client.chat.completions.create(
      model="default", messages=[{"role": "user", "content": "Hello"}])
  print(reply.choices[0].message.content)

  chatbridge serve --config chatbridge.toml --workers 4 --redis redis://127.0.0.1:6379/0

The first line on stdout is "Serving on http://HOST:PORT" (--port 0 picks a free port).
--workers N: N processes on one port (SO_REUSEPORT); SIGTERM to the parent drains them all.
--redis URL: the processes (and hosts) share site tokens, breakers, limits, conversations;
without Redis they fall back to per-process state (one warning, no failed request).
One access-log line per request goes to stderr (no message text, no key). SIGTERM stops
accepting, lets requests finish for grace_seconds ([server] table), then exits 0.
API keys also come from CHATBRIDGE_API_KEYS (comma-separated).
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve an OpenAI-compatible API (/v1/chat/completions) over the routes",
        description=(
            "Serve an OpenAI-compatible HTTP API that the openai SDK, curl and OpenAI tools "
            "use unchanged. With no --config or --site it serves the built-in local AI Power "
            "site as the model 'default'."
        ),
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", metavar="FILE", help="routes file (TOML, with [server])")
    parser.add_argument(
        "--site",
        metavar="URL",
        help="serve one site as 'default' (AI Power or AI Engine: its page tells which)",
    )
    parser.add_argument("--host", default=defaults.SERVER_HOST, help="address to bind")
    parser.add_argument(
        "--port",
        type=port_number,
        default=defaults.SERVER_PORT,
        help=f"port to listen on, 0 = any free (default: {defaults.SERVER_PORT})",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help="accept this API key (repeatable; also CHATBRIDGE_API_KEYS, comma-separated)",
    )
    parser.add_argument(
        "--no-ui", action="store_true", help="do not serve the chat page at / (API only)"
    )
    parser.add_argument(
        "--redis",
        metavar="URL",
        help="share site tokens, breakers, limits and conversations with every process "
        "using this Redis (redis://HOST:PORT/DB; or redis_url in [server])",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="run N server processes on one port (Linux SO_REUSEPORT); share their state "
        "with --redis",
    )
    parser.add_argument(
        "--reuse-port",
        action="store_true",
        help="bind with SO_REUSEPORT, so several processes (a process manager's) share the port",
    )
    parser.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)  # a --workers child
    parser.set_defaults(handler=run)


def _setup_logging(debug: bool) -> None:
    """The access log (one line per request) and server errors to stderr; with --debug,
    internal errors carry their traceback."""
    from ..server._logs import LineFormatter, lean_records, own_library_loggers

    lean_records()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LineFormatter())
    for name, level in (
        ("chatbridge.server", logging.DEBUG if debug else logging.INFO),
        ("chatbridge.client", logging.WARNING),
        ("chatbridge.state", logging.WARNING),
        ("chatbridge.aipower", logging.WARNING),  # a conversation shortened to fit a site
        ("chatbridge.aiengine", logging.WARNING),  # ... or folded to fit its bot
    ):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.addHandler(handler)
        logger.propagate = False
    own_library_loggers(sys.stderr)  # aiohttp's and asyncio's: one line each, no request bytes


async def _main(args: argparse.Namespace) -> str:
    from ..server import open_client, serve

    if args.config and args.site:
        raise UsageError("give --config or --site, not both")
    if args.site:
        from ._options import check_site_url

        args.site = check_site_url(args.site, "--site")
    redis = getattr(args, "redis", None)
    opened = open_client(args.config, args.site, redis_url=redis, api_keys=args.api_key)
    async with opened as (client, settings, what):
        if args.no_ui:
            settings = replace(settings, ui=False)

        def announce(url: str) -> None:
            print(f"Serving on {url}", flush=True)
            print(f"Serving {what}", flush=True)
            print(settings.keys_line(), flush=True)
            if settings.ui:
                print(f"Chat page: {url}/", flush=True)

        return await serve(
            client,
            settings,
            host=args.host,
            port=args.port,
            announce=announce,
            reuse_port=bool(getattr(args, "reuse_port", False)),
        )


def _worker_command(args: argparse.Namespace) -> Callable[[int], list[str]]:
    def command(port: int) -> list[str]:
        line = [sys.executable, "-m", "chatbridge", "serve", "--host", args.host]
        line += ["--port", str(port), "--reuse-port", "--parent-pid", str(os.getpid())]
        for option in ("config", "site", "redis"):
            if getattr(args, option, None):
                line += [f"--{option}", str(getattr(args, option))]
        for key in args.api_key:
            line += ["--api-key", key]
        if getattr(args, "no_ui", False):
            line.append("--no-ui")
        if getattr(args, "debug", False):
            line.append("--debug")
        return line

    return command


def _run_workers(args: argparse.Namespace) -> int:
    from .._client._config import load_config
    from ..server._namespace import state_namespace, state_timeout
    from ..server._run import check_quotas
    from ..server._settings import parse_settings
    from ..server._workers import supervise

    # A config mistake (or an empty key) is exit 2 here, before any worker starts.
    loaded = load_config(args.config) if args.config else None
    source = args.config or "config"
    settings = parse_settings(loaded.server if loaded else {}, source)
    check_quotas(loaded, settings.with_keys(args.api_key))
    state_namespace(loaded.state if loaded else {}, source, {}, ())
    state_timeout(loaded.state if loaded else {}, source)
    redis = getattr(args, "redis", None) or settings.redis_url
    if not redis:
        print(
            f"warning: {args.workers} workers without Redis: site tokens, breakers, limits "
            "and conversations are per process (give --redis URL to share them)",
            file=sys.stderr,
            flush=True,
        )
    ui = settings.ui and not getattr(args, "no_ui", False)
    with contextlib.ExitStack() as stack:
        serving = None
        if not args.config and not args.site:  # one local site for every worker
            url = stack.enter_context(_local_site_in_a_thread())
            args = argparse.Namespace(**{**vars(args), "site": url})
            serving = (
                f"Serving route default: the built-in local AI Power site at {url}, one for "
                "all the workers (no --config or --site given; it echoes, for trying things out)"
            )
        try:
            why = supervise(
                _worker_command(args),
                args.workers,
                args.host,
                args.port,
                announce=lambda line: print(line, flush=True),
                lines=4 if ui else 3,
                serving=serving,
            )
        except OSError as error:
            reason = error.strerror or str(error)
            raise UsageError(f"cannot listen on {args.host}:{args.port}: {reason}") from error
    if why == "failed":
        raise UsageError("the worker processes failed to start or kept exiting (see above)")
    return INTERRUPTED if why == "SIGINT" else 0


@contextlib.contextmanager
def _local_site_in_a_thread() -> Iterator[str]:
    """The built-in local site, served by this (supervising) process on a thread of its
    own: the workers talk to it over HTTP, as to any site. Yields its URL."""
    from ..site import LocalSite

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="local-site", daemon=True)
    thread.start()
    site = LocalSite()
    try:
        yield asyncio.run_coroutine_threadsafe(site.start(), loop).result()
    finally:
        asyncio.run_coroutine_threadsafe(site.stop(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


def run(args: argparse.Namespace) -> int:
    _setup_logging(bool(getattr(args, "debug", False)))
    from ..server._settings import check_keys

    args.api_key = list(check_keys(args.api_key, "--api-key"))  # before anything starts
    if args.workers < 1:
        raise UsageError("--workers wants a whole number >= 1")
    if args.workers > 1:
        if args.config and args.site:
            raise UsageError("give --config or --site, not both")
        return _run_workers(args)
    if getattr(args, "parent_pid", None):
        from ..server._workers import follow_parent

        follow_parent(args.parent_pid)
    try:
        why = asyncio.run(_main(args))
    except OSError as error:
        reason = error.strerror or str(error)
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {reason}") from error
    return INTERRUPTED if why == "SIGINT" else 0
