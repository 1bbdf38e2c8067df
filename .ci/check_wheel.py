"""The release check: run by the python of a fresh virtualenv that has only the built wheel
installed, from a directory outside the checkout (so nothing is imported from the source).

It runs ``chatbridge demo``, then ``chatbridge serve`` with one real chat request, the chat
page and every file the page names: a module, the local site or a static file missing from
the package fails here. Standard library only; every step has a time limit; the server is
stopped (and reaped) whatever happens.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import chatbridge

VENV_BIN = Path(sys.executable).parent
CHATBRIDGE = str(VENV_BIN / "chatbridge")
CHECKOUT = Path(__file__).resolve().parent.parent


def check(condition: bool, what: str) -> None:
    if not condition:
        sys.exit(f"wheel check failed: {what}")
    print(f"ok: {what}", flush=True)


def fetch(url: str, body: bytes | None = None) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:  # a 404 is an answer: the check says what failed
        return error.code, error.read().decode(errors="replace")


def check_assets(url: str, assets: list[str]) -> None:
    """Every file the page names, and every module its scripts import, is served."""
    seen: set[str] = set()
    while assets:
        asset = assets.pop()
        path = asset.split("?", 1)[0]
        if path in seen:
            continue
        seen.add(path)
        status, text = fetch(url + asset)
        check(status == 200, f"{path} is in the package")
        if path.endswith(".js"):
            folder = path.rsplit("/", 1)[0]
            assets += [f"{folder}/{name}" for name in re.findall(r'from "\./([^"]+)"', text)]


def check_serve() -> None:
    server = subprocess.Popen(
        [CHATBRIDGE, "serve", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        check(first.startswith("Serving on http://127.0.0.1:"), f"serve started: {first!r}")
        url = first.split()[-1]
        question = {"model": "default", "messages": [{"role": "user", "content": "wheel?"}]}
        status, text = fetch(f"{url}/v1/chat/completions", json.dumps(question).encode())
        answer = json.loads(text)["choices"][0]["message"]["content"]
        check(status == 200 and "Echo: wheel?" in answer, f"serve answered: {answer!r}")
        status, page = fetch(f"{url}/")
        assets = re.findall(r'(?:src|href)="(/[^"]+)"', page)
        check(status == 200 and len(assets) >= 2, f"the chat page names its files: {assets}")
        check_assets(url, assets)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            code = server.wait()
        if server.stdout is not None:
            server.stdout.close()
    check(code == 0, "serve stopped cleanly on SIGTERM")


def main() -> None:
    installed = Path(chatbridge.__file__).resolve()
    check(CHECKOUT not in installed.parents, f"chatbridge comes from the wheel: {installed}")
    demo = subprocess.run(
        [CHATBRIDGE, "demo"], capture_output=True, text=True, timeout=120, check=False
    )
    check(demo.returncode == 0 and "Echo:" in demo.stdout, f"demo ran (exit {demo.returncode})")
    check_serve()


if __name__ == "__main__":
    main()
