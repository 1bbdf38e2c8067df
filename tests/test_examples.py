"""The seed documents' usage examples and every example in docs/providers/ and the README,
run for real.

Each runs in its own interpreter against the local AI Power site (the AIEngine page: the
local AI Engine site; the OpenAICompatible page: the local fake upstream), as written except
for the import path, the site URL (and a local proxy in place of proxy.example.com), and must
print a real answer from the server.
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
DOCS = [*sorted((ROOT / "docs" / "providers").glob("*.md")), ROOT / "README.md"]
SEED_IMPORT = re.compile(r"^from \S+\.Provider\.not_working\.(\w+) import (\w+)$", re.MULTILINE)
DOCS_SITE = "http://127.0.0.1:8080"
SERVE_URL = "http://127.0.0.1:8000"
DOCS_UPSTREAM = "http://127.0.0.1:8000/v1"
#: The question the OpenAICompatible page asks (the test checks it is still there).
UPSTREAM_QUESTION = "Name three trees."
ANSWER = "[local AI Power site] Echo:"
ENGINE_ANSWER = "[local AI Engine site] Echo:"


def docs_examples() -> list[tuple[str, str]]:
    examples = []
    for page in DOCS:
        for index, block in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.S)):
            examples.append((f"{page.stem}-{index}", block))
    return examples


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
    stems = {page.stem for page in DOCS}
    assert stems == {
        "AIEngine",
        "AIPower",
        "AnySite",
        "ChatGptt",
        "Chatgpt4o",
        "OpenAICompatible",
        "README",
    }
    assert len(docs_examples()) == 9


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
    if name.startswith("OpenAICompatible"):
        await run_upstream_example(code)
        return
    if name.startswith("AIEngine"):
        await run_engine_example(code)
        return
    site = LocalSite(SiteConfig(generation="2.2"))
    async with site as url, local_proxy() as (proxy, _):
        if "from openai import" in code:  # the server section: a real `chatbridge serve`
            async with served(url) as server:
                code = code.replace(SERVE_URL, server)
                status, out, err = await run(runnable(code, url, proxy))
            assert out.count(ANSWER) == 2  # the plain answer and the streamed one
        else:
            status, out, err = await run(runnable(code, url, proxy))
    assert status == 0, err
    assert ANSWER in out
    if name.startswith("AIPower"):
        assert "history turns: 2" in out  # the conversation's first turn reached the site
    if name == "README-1":  # the route's first target is dead: the second answered
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
