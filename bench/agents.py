"""Coding agents against a loopback ``chatbridge serve``: OpenAI's Codex CLI (the Responses
API, a custom provider with ``wire_api = "responses"``) and Anthropic's Claude Code (the
Messages API, ``ANTHROPIC_BASE_URL``), each asked to run one shell command with its own tool.
Not in CI: the agents come from npm.

Run: .venv/bin/python bench/agents.py [--prefix DIR] [--install] [--strace]

The route goes to the fake upstream, which plays the model: its first answer calls the agent's
shell tool (``exec_command`` for Codex, ``Bash`` for Claude Code) with a command that writes
a marker file, the next one says it is done. For each agent: its exit code, the endpoints it
called (the server's access log), whether the tool ran (the marker file), whether the tool's
result came back to the model (the upstream's last request ends with a ``tool`` message), and
with ``--strace`` every address its processes connected to (nothing but the loopback server
is the goal). The settings are the ones ``docs/server.md`` gives (``tests/test_examples.py``
holds the two equal).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
KEY = "sk-agents-local"
ROUTE = "chatbridge"
MARKER = "chatbridge-tool-ok"
#: ``$CODEX_HOME/config.toml`` (``{base_url}``: the server's, ending in /v1).
CODEX_CONFIG = """\
model = "chatbridge"
model_provider = "chatbridge"
check_for_update_on_startup = false

[model_providers.chatbridge]
name = "chatbridge"
base_url = "{base_url}"
env_key = "CHATBRIDGE_KEY"
wire_api = "responses"

[features]
plugins = false

[analytics]
enabled = false

[otel]
exporter = "none"
"""
#: Claude Code's environment (``{url}``: the server's, without /v1).
CLAUDE_ENV = {
    "ANTHROPIC_BASE_URL": "{url}",
    "ANTHROPIC_API_KEY": "{key}",
    "ANTHROPIC_MODEL": "chatbridge",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL": "chatbridge",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_AUTOUPDATER": "1",
}
PACKAGES = ("@openai/codex", "@anthropic-ai/claude-code")


@contextmanager
def started(args: list[str], first_line: str, **popen: Any) -> Iterator[str]:
    """Run ``args`` until the ``with`` ends; yields the URL on its line holding
    ``first_line``."""
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, **popen)
    try:
        assert process.stdout is not None
        for _ in range(20):
            line = process.stdout.readline()
            if first_line in line:
                break
        else:
            raise RuntimeError(f"{args[:4]} did not say {first_line!r}")
        yield line.split()[-1].strip()
    finally:
        process.terminate()
        process.wait(15)


def upstream_call(upstream: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(upstream.removesuffix("/v1") + path, data=data)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def plan(upstream: str, tool: str, arguments: dict[str, Any]) -> None:
    """The model's part: call ``tool`` with ``arguments``, then say it is done."""
    upstream_call(upstream, "/__upstream__/reset", {})
    upstream_call(
        upstream,
        "/__upstream__/plan",
        [
            {"kind": "tool_call", "tool": tool, "arguments": json.dumps(arguments)},
            {"kind": "reply", "message": "Done: the command wrote the marker."},
        ],
    )


def connections(trace: Path) -> list[str]:
    """Every address a traced process connected to (``host:port``, or a socket path)."""
    if not trace.exists():
        return []
    text = trace.read_text(errors="replace")
    found = re.findall(
        r'sin6?_port=htons\((\d+)\), (?:sin_addr=inet_addr|inet_pton\(AF_INET6, )\("([^"]+)"', text
    )
    paths = re.findall(r'sun_path="([^"]+)"', text)
    return sorted({f"{host}:{port}" for port, host in found} | set(paths))


def run_agent(
    name: str, command: list[str], env: dict[str, str], work: Path, strace: bool
) -> dict[str, Any]:
    trace = work / "connect.strace"
    if strace and shutil.which("strace"):
        command = ["strace", "-f", "-qq", "-e", "trace=connect", "-o", str(trace), *command]
    done = subprocess.run(
        command, cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    marker = work / "marker.txt"
    return {
        "agent": name,
        "exit": done.returncode,
        "tool ran": marker.exists() and marker.read_text().strip() == MARKER,
        "answered": "Done: the command wrote the marker." in done.stdout,
        "connected to": connections(trace) if strace else "(not traced)",
        "output": done.stdout[-400:] + done.stderr[-400:],
    }


def codex(prefix: Path, server: str, upstream: str, home: Path, strace: bool) -> dict[str, Any]:
    codex_home = home / "codex"
    codex_home.mkdir()
    (codex_home / "config.toml").write_text(CODEX_CONFIG.format(base_url=server + "/v1"))
    work = home / "codex-work"
    work.mkdir()
    plan(upstream, "exec_command", {"cmd": f"echo {MARKER} > marker.txt"})
    env = {**os.environ, "CODEX_HOME": str(codex_home), "CHATBRIDGE_KEY": KEY}
    command = [str(prefix / "node_modules/.bin/codex"), "exec", "--skip-git-repo-check",
               "--sandbox", "workspace-write", "Write the marker file with echo"]  # fmt: skip
    return run_agent("Codex CLI", command, env, work, strace)


def claude(prefix: Path, server: str, upstream: str, home: Path, strace: bool) -> dict[str, Any]:
    work = home / "claude-work"
    work.mkdir()
    plan(upstream, "Bash", {"command": f"echo {MARKER} > marker.txt", "description": "Marker"})
    settings = {k: v.format(url=server, key=KEY) for k, v in CLAUDE_ENV.items()}
    env = {**os.environ, "HOME": str(home / "claude-home"), **settings}
    command = [str(prefix / "node_modules/.bin/claude"), "-p", "Write the marker file with echo",
               "--allowedTools", "Bash"]  # fmt: skip
    return run_agent("Claude Code", command, env, work, strace)


def endpoints(log: Path, since: int) -> list[str]:
    """The requests in the access log after line ``since``: method, path and status."""
    lines = log.read_text().splitlines()[since:]
    return [" ".join(line.split()[2:5]) for line in lines if " /" in line]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prefix", type=Path, default=HERE / ".agents")
    parser.add_argument("--install", action="store_true", help="npm install the agents first")
    parser.add_argument("--strace", action="store_true", help="record where they connect")
    args = parser.parse_args()
    if args.install:
        subprocess.run(["npm", "install", "--prefix", str(args.prefix), "--no-fund",
                        "--no-audit", *PACKAGES], check=True)  # fmt: skip
    for package in PACKAGES:
        version = json.loads((args.prefix / "node_modules" / package / "package.json").read_text())
        print(f"{package} {version['version']}")
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="chatbridge-agents-") as tmp:
        home = Path(tmp)
        upstream_cmd = [python, "-m", "chatbridge.upstream", "--port", "0", "--answer-tokens", "8"]
        with started(upstream_cmd, "Serving on") as upstream:
            config = home / "serve.toml"
            config.write_text(
                f'[routes.{ROUTE}]\ntargets = [{{ provider = "OpenAICompatible", '
                f'base_url = "{upstream}", model = "fake-model" }}]\n'
                f'[server]\napi_keys = ["{KEY}"]\n'
            )
            log = home / "serve.log"
            serve_cmd = [python, "-m", "chatbridge", "serve", "--port", "0", "--no-ui",
                         "--config", str(config)]  # fmt: skip
            with log.open("w") as stderr, started(serve_cmd, "Serving on", stderr=stderr) as url:
                results = []
                for agent in (codex, claude):
                    since = len(log.read_text().splitlines())
                    result = agent(args.prefix, url, upstream, home, args.strace)
                    result["endpoints"] = endpoints(log, since)
                    recent = upstream_call(upstream, "/__upstream__/stats")["recent"]
                    result["tool result sent back"] = (
                        bool(recent) and recent[-1]["roles"][-1] == "tool"
                    )
                    results.append(result)
    for result in results:
        print(f"\n== {result.pop('agent')}")
        output = result.pop("output")
        for key, value in result.items():
            print(f"  {key}: {value}")
        if result["exit"] != 0 or not result["tool ran"]:
            print("  output: " + output.replace("\n", "\n    "))


if __name__ == "__main__":
    main()
