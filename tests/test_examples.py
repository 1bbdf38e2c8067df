"""The seed documents' usage examples and every example of the README and docs/, run for real.

The examples live in ``examples/``, one file each: every ``python`` and ``toml`` block of the
README and of docs/ is one of those files, character for character (checked here), so the
file is the one source and the page shows it. Each Python example runs in its own
interpreter against the local AI Power site (the AI Engine one: the local AI Engine site; the
OpenAICompatible one: the local fake upstream), as written except for the import path, the
site URL (and a local proxy in place of proxy.example.com), and must print a real answer from
the server. The TOML examples are loaded by tests/test_docs_config.py.
"""

from __future__ import annotations

import asyncio
import re
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from chatbridge.site import AIEngineSiteConfig, LocalSite, SiteConfig
from chatbridge.upstream import LocalUpstream, expected_answer
from tests.conftest import local_proxy

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "tests" / "seeds").glob("*.py.txt"))
EXAMPLES = ROOT / "examples"
#: Every page whose code blocks are examples.
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
#: The examples that run against the local site (the routes one only builds its routes:
#: tests/test_docs_config.py).
RUN_HERE = sorted(path for path in EXAMPLES.glob("*.py") if path.name != "routes.py")
SEED_IMPORT = re.compile(r"^from \S+\.Provider\.not_working\.(\w+) import (\w+)$", re.MULTILINE)
DOCS_SITE = "http://127.0.0.1:8080"
SERVE_URL = "http://127.0.0.1:8000"
DOCS_UPSTREAM = "http://127.0.0.1:8000/v1"
#: The question the OpenAICompatible page asks (the test checks it is still there).
UPSTREAM_QUESTION = "Name three trees."
ANSWER = "[local AI Power site] Echo:"
ENGINE_ANSWER = "[local AI Engine site] Echo:"


def page_blocks() -> list[tuple[str, str]]:
    """``(where, text)`` of every ``python`` and ``toml`` block of the README and docs/."""
    found = []
    for page in PAGES:
        text = page.read_text()
        for match in re.finditer(r"```(python|toml)\n(.*?)```", text, re.S):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{page.relative_to(ROOT)}:{line}", match.group(2)))
    return found


def docs_examples() -> list[tuple[str, str]]:
    return [(path.stem, path.read_text()) for path in RUN_HERE]


def test_every_example_in_the_docs_is_a_file_of_examples() -> None:
    files = {path.read_text(): path.name for path in EXAMPLES.iterdir() if path.is_file()}
    shown = set()
    for where, block in page_blocks():
        assert block in files, f"{where}: this block is no file of examples/ (or differs)"
        shown.add(files[block])
    assert shown == set(files.values())  # and every file is shown somewhere


def runnable(code: str, site: str, proxy: str) -> str:
    """The example with only its import path and addresses changed; top-level ``await``
    (allowed in the seed snippets) gets the coroutine wrapper a notebook would give it."""
    code = SEED_IMPORT.sub(r"from chatbridge import \2", code)
    code = code.replace(DOCS_SITE, site).replace("http://proxy.example.com:8080", proxy)
    prelude = (
        "import chatbridge\n"
        "from chatbridge import Chatgpt4o, ChatGptt\n"
        f"Chatgpt4o.url = ChatGptt.url = {site!r}  # the seed sites are gone\n"
    )
    if re.search(r"^\S.*\bawait ", code, re.MULTILINE):
        code = (
            "async def __example():\n"
            + textwrap.indent(code, "    ")
            + ("\nimport asyncio\nasyncio.run(__example())\n")
        )
    return prelude + code


async def run(code: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def test_the_examples_were_found() -> None:
    assert len(SEEDS) == 4
    assert {name for name, _ in docs_examples()} == {
        "aiengine_conversation", "aipower_conversation", "anysite", "chatgpt4o",
        "chatgptt_stream", "client_failover", "hello_providers", "messages_sdk",
        "openai_compatible", "openai_sdk", "responses_sdk",
    }  # fmt: skip
    assert len(page_blocks()) == 19


@pytest.mark.parametrize(
    "seed", [path.read_text() for path in SEEDS], ids=[p.name.split(".")[0] for p in SEEDS]
)
async def test_seed_example_runs(seed: str) -> None:
    site = LocalSite(SiteConfig(generation="2.2"))
    async with site as url, local_proxy() as (proxy, seen):
        code, out, err = await run(runnable(seed, url, proxy))
    assert code == 0, err
    assert "Traceback" not in err
    printed = " ".join(out.split())  # a streaming example prints a chunk per line
    answers = printed.count(ANSWER)
    assert answers >= 1, out
    assert site.stats.answers == answers
    if "proxy=" in seed:
        assert any(target.startswith(url) for target in seen)


@asynccontextmanager
async def served(site: str) -> AsyncIterator[str]:
    """``chatbridge serve`` over ``site`` with the README's key, as the README starts it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chatbridge", "serve", "--port", "0", "--site", site,
        "--api-key", "sk-local", stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert line.startswith("Serving on http://127.0.0.1:"), line
        yield line.split()[-1]
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0


@pytest.mark.parametrize(("name", "code"), docs_examples(), ids=[n for n, _ in docs_examples()])
async def test_docs_example_runs(name: str, code: str) -> None:
    if name == "openai_compatible":
        await run_upstream_example(code)
        return
    if name == "aiengine_conversation":
        await run_engine_example(code)
        return
    site = LocalSite(SiteConfig(generation="2.2"))
    async with site as url, local_proxy() as (proxy, _):
        if SERVE_URL in code:  # the server's doors, through the official SDKs
            async with served(url) as server:
                code = code.replace(SERVE_URL, server)
                status, out, err = await run(runnable(code, url, proxy))
            assert out.count(ANSWER) == 2  # the plain answer and the streamed one
            # (the Responses example also continues its first answer, unprinted)
            assert site.stats.answers == (3 if "previous_response_id" in code else 2)
        else:
            status, out, err = await run(runnable(code, url, proxy))
    assert status == 0, err
    assert ANSWER in out
    if name == "aipower_conversation":
        assert "history turns: 2" in out  # the conversation's first turn reached the site
    if name == "client_failover":  # the route's first target is dead: the second answered
        assert f"answered by {url} ['failed', 'failed', 'answered']" in out
        assert out.count(ANSWER) == 2


async def run_engine_example(code: str) -> None:
    """The AIEngine page: against the local AI Engine site, a conversation of two turns."""
    site = LocalSite(AIEngineSiteConfig())
    async with site as url, local_proxy() as (proxy, _):
        status, out, err = await run(runnable(code, url, proxy))
    assert status == 0, err
    assert out.count(ENGINE_ANSWER) == 1  # the first answer is kept, the second printed
    assert "history turns: 2" in out  # the first turn reached the site with the second
    assert re.search(r"\((\d+) tokens, as the site counted them\)", out)
    chats = [r.fields["chatId"] for r in site.requests if r.action.endswith("/submit")]
    assert len(chats) == 2 and chats[0] == chats[1]  # one conversation, one chatId


async def run_upstream_example(code: str) -> None:
    assert DOCS_UPSTREAM in code and UPSTREAM_QUESTION in code
    upstream = LocalUpstream()
    async with upstream as url:
        status, out, err = await run(runnable(code.replace(DOCS_UPSTREAM, url), url, url))
    assert status == 0, err
    answer = "".join(expected_answer([{"role": "user", "content": UPSTREAM_QUESTION}]))
    assert out.count(answer) == 2  # streamed, then whole
    assert "(finish reason: stop)" in out and "tokens:" in out
    assert upstream.stats.completed == 2
    assert upstream.stats.recent[0].options["temperature"] == 0.2


def test_the_agent_settings_in_the_docs_are_the_ones_the_bench_runs() -> None:
    """bench/agents.py runs Codex CLI and Claude Code with exactly what docs/server.md says."""
    from bench.agents import CLAUDE_ENV, CODEX_CONFIG

    page = (ROOT / "docs" / "server.md").read_text()
    assert CODEX_CONFIG.format(base_url=f"{SERVE_URL}/v1") in page
    for name, value in CLAUDE_ENV.items():
        assert f"export {name}={value.format(url=SERVE_URL, key='sk-local')}\n" in page
