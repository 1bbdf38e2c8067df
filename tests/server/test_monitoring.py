"""Who may read the monitoring endpoints of a real ``chatbridge serve``: ``/metrics`` needs a
monitoring key (or, without any, an API key), ``/health/ready`` tells anyone its status but
names the targets only to a monitoring key, ``/health/live`` is open."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.server.conftest import Served
from tests.server.rawhttp import exchange

Spawn = Callable[..., Served]
SITE = "http://127.0.0.1:9"  # nothing listens: the name must not show to strangers
CONFIG = f'[routes.default]\ntargets = [{{ provider = "AIPower", site_url = "{SITE}" }}]\n'


def _get(served: Served, path: str, key: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    status, _, body = exchange(served.url, "GET", path, headers)
    return status, body


def test_monitoring_keys_guard_metrics_and_the_targets_in_readiness(spawn_server: Spawn) -> None:
    served = spawn_server(
        "--api-key", "k1", config=CONFIG + '[server]\nmonitoring_keys = ["env:MONITOR"]\n',
        env={"MONITOR": "mon-secret-77"},
    )  # fmt: skip
    assert _get(served, "/health/live")[0] == 200
    for key in (None, "k1", "wrong"):  # an API key reads no metrics once monitoring keys exist
        status, body = _get(served, "/metrics", key)
        assert status == 401 and json.loads(body)["error"]["code"] == "invalid_api_key"
        status, body = _get(served, "/health/ready", key)
        assert status == 200 and json.loads(body) == {"status": "ready"}, body
        assert "127.0.0.1:9" not in body
    status, body = _get(served, "/metrics", "mon-secret-77")
    assert status == 200 and "chatbridge_breaker_state" in body and "127.0.0.1:9" in body
    status, body = _get(served, "/health/ready", "mon-secret-77")
    ready = json.loads(body)
    assert status == 200 and ready["status"] == "ready" and ready["answering"] == {"default": True}
    assert SITE in json.dumps(ready["routes"])
    assert served.stop() == 0
    assert "mon-secret-77" not in served.stderr()


def test_without_monitoring_keys_the_api_keys_read_metrics(spawn_server: Spawn) -> None:
    served = spawn_server("--api-key", "k1", config=CONFIG)
    assert _get(served, "/metrics")[0] == 401
    assert _get(served, "/metrics", "k1")[0] == 200
    assert json.loads(_get(served, "/health/ready")[1]) == {"status": "ready"}
    assert "routes" in json.loads(_get(served, "/health/ready", "k1")[1])
    assert served.stop() == 0
    open_server = spawn_server(config=CONFIG)  # no key at all: an open server hides nothing
    assert _get(open_server, "/metrics")[0] == 200
    assert "routes" in json.loads(_get(open_server, "/health/ready")[1])
