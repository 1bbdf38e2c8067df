"""API keys at the door of a real ``chatbridge serve``: an empty or whitespace key is a
start-up error naming where it came from (never an open door that looks locked), the
start-up line counts keys in words, and a header that is not UTF-8 is a 401."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.server.conftest import CLI, ENV, Spawn
from tests.server.rawhttp import exchange


def _start(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``serve`` expecting it to refuse to start; one that serves instead is stopped and
    the test fails (the old code served with an empty key)."""
    process = subprocess.Popen(
        [*CLI, "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**ENV, **(env or {})},
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()  # "" once it exited
        if first.startswith("Serving on"):
            pytest.fail(f"serve started with {args} / {env}: {first.strip()}")
        out, err = process.communicate(timeout=30)
        return subprocess.CompletedProcess(process.args, process.returncode, first + out, err)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


@pytest.mark.parametrize(
    ("args", "env", "config", "names"),
    [
        (["--api-key", ""], {}, None, "--api-key: key 1 is empty"),
        (["--api-key", "k1", "--api-key", "   "], {}, None, "--api-key: key 2 is empty"),
        ([], {"CHATBRIDGE_API_KEYS": " "}, None, "CHATBRIDGE_API_KEYS is set but names no key"),
        ([], {"CHATBRIDGE_API_KEYS": ", ,"}, None, "CHATBRIDGE_API_KEYS is set but names no key"),
        (
            [],
            {"EMPTY_KEY": ""},
            '[server]\napi_keys = ["k1", "env:EMPTY_KEY"]\n',
            "field 'api_keys': key 2 is empty or whitespace (env:EMPTY_KEY is empty)",
        ),
        (["--workers", "2", "--api-key", " "], {}, None, "--api-key: key 1 is empty"),
    ],
)
def test_an_empty_key_is_a_start_up_error_naming_its_source(
    tmp_path: Path, args: list[str], env: dict[str, str], config: str | None, names: str
) -> None:
    if config is not None:
        path = tmp_path / "keys.toml"
        path.write_text('[routes.default]\ntargets = [{ provider = "AIPower", '
                        'site_url = "http://127.0.0.1:9" }]\n' + config)  # fmt: skip
        args = [*args, "--config", str(path)]
    result = _start(args, env)
    assert result.returncode == 2, result
    assert names in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "EMPTY" not in result.stdout


def test_the_start_up_line_counts_keys_in_words(spawn_server: Spawn) -> None:
    served = spawn_server("--api-key", "k1", env={"CHATBRIDGE_API_KEYS": " k2 ,k3"})
    assert served.lines[1].strip() == "Requests need an API key (3 configured).", served.lines
    status, _, body = exchange(served.url, "GET", "/v1/models", {"Authorization": "Bearer k2"})
    assert status == 200, body  # surrounding whitespace is not part of a key
    assert served.stop() == 0
    open_server = spawn_server()
    assert open_server.lines[1].startswith("Requests need no API key"), open_server.lines
    assert "(s)" not in "".join(served.lines + open_server.lines)


def test_an_authorization_header_that_is_not_utf8_is_a_401(spawn_server: Spawn) -> None:
    served = spawn_server("--api-key", "k1", "--no-ui")
    for method, path in (("GET", "/v1/models"), ("POST", "/v1/chat/completions")):
        for value in (b"Bearer \xff\xfe", b"\xc3\x28 k1", b"Bearer k1\x80"):
            status, _, body = exchange(served.url, method, path, {b"Authorization": value})
            assert status == 401, (method, value, body)
            assert json.loads(body)["error"]["code"] == "invalid_api_key"
    status, _, _ = exchange(served.url, "GET", "/v1/models", {"Authorization": "Bearer k1"})
    assert status == 200
    assert served.stop() == 0
    assert "internal error" not in served.stderr()
