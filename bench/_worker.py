"""One benchmark run of one implementation, in its own interpreter; prints one JSON line.

    python bench/_worker.py --impl ours|g4f --provider Chatgpt4o|ChatGptt --url URL \
        --messages N [--advance-every K]

``--impl g4f`` must run under the gpt4free 6.7.1 virtualenv (bench/.venv-g4f). That release's
``g4f/Provider/not_working/__init__.py`` fails to import, so the two provider modules are
loaded directly, with the package's ``__init__`` bypassed. Both implementations are pointed at
the site through their class attributes (``url``, and for gpt4free ``api_endpoint`` and the
cached ``_post_id``/``_nonce``, which are reset first).

With ``--advance-every K`` the site's nonce clock is moved one tick forward after every K
messages (the nonce-rotation soak); failures are counted by exception type, never raised.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import sys
import time
import types
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any


def load_g4f(name: str) -> Any:
    import g4f.Provider

    package_name = "g4f.Provider.not_working"
    package_dir = Path(g4f.Provider.__file__).parent / "not_working"
    if package_name not in sys.modules:
        package = types.ModuleType(package_name)
        package.__path__ = [str(package_dir)]
        sys.modules[package_name] = package
    spec = importlib.util.spec_from_file_location(
        f"{package_name}.{name}", package_dir / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    provider = getattr(module, name)
    provider.url = URL
    if hasattr(provider, "api_endpoint"):
        provider.api_endpoint = f"{URL}/wp-admin/admin-ajax.php"
    if hasattr(provider, "_post_id"):
        provider._post_id = None
        provider._nonce = None
    return provider


def load_ours(name: str) -> Any:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import chatbridge

    provider = getattr(chatbridge, name)
    provider.url = URL
    return provider


async def ask(provider: Any, text: str) -> str:
    messages = [{"role": "user", "content": text}]
    if hasattr(provider, "create_async_generator"):
        return "".join([c async for c in provider.create_async_generator("", messages)])
    result: str = await provider.create_async("", messages)
    return result


def advance(ticks: int = 1) -> None:
    request = urllib.request.Request(f"{URL}/__site__/advance?ticks={ticks}", method="POST")
    urllib.request.urlopen(request, timeout=10).read()


def site_requests() -> int:
    with urllib.request.urlopen(f"{URL}/__site__/stats", timeout=10) as response:
        count: int = json.loads(response.read())["requests"]
        return count


async def run(provider: Any, messages: int, advance_every: int | None) -> dict[str, Any]:
    failures: Counter[str] = Counter()
    answered = 0
    try:
        await ask(provider, "warm-up")  # the first message also fetches the page
    except Exception as error:  # counted below like every other failure
        failures[f"warm-up {type(error).__name__}: {str(error)[:60]}"] += 1
    requests_before = site_requests()
    wall = time.perf_counter()
    cpu = time.process_time()
    for index in range(messages):
        if advance_every and index and index % advance_every == 0:
            advance()
        try:
            answer = await ask(provider, f"message {index}")
            if f"message {index}" in answer:
                answered += 1
            else:
                failures["wrong answer"] += 1
        except Exception as error:  # a benchmark counts failures, it does not stop at one
            failures[f"{type(error).__name__}: {str(error)[:70]}"] += 1
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    return {
        "answered": answered,
        "failed": messages - answered,
        "failures": dict(failures.most_common(3)),
        "wall_s": wall,
        "cpu_per_message_us": cpu / messages * 1e6,
        "messages_per_s": messages / wall,
        "requests_per_message": (site_requests() - requests_before) / messages,
    }


def main() -> None:
    global URL
    parser = argparse.ArgumentParser()
    parser.add_argument("--impl", choices=["ours", "g4f"], required=True)
    parser.add_argument("--provider", choices=["Chatgpt4o", "ChatGptt"], required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--advance-every", type=int, default=None)
    args = parser.parse_args()
    URL = args.url
    provider = (load_g4f if args.impl == "g4f" else load_ours)(args.provider)
    result = asyncio.run(run(provider, args.messages, args.advance_every))
    print(json.dumps(result))


URL = ""

if __name__ == "__main__":
    main()
