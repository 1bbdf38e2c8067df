"""Without Chromium the browser tests fail and say what to install; they never skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_a_missing_chromium_fails_with_the_install_command() -> None:
    root = Path(__file__).parents[2]
    env = {**os.environ, "CHATBRIDGE_CHROMIUM": "/nonexistent/chromium"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/web/test_browser.py::test_phone_width_and_dark_theme"],
        cwd=root, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout[-2000:]
    assert "1 error" in run.stdout or "1 failed" in run.stdout, run.stdout[-2000:]
    assert "skipped" not in run.stdout
    assert "Chromium is not at /nonexistent/chromium" in run.stdout
    assert "apt-get install chromium" in run.stdout
