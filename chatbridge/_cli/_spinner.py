"""A spinner on stderr while we wait (page fetch, first token), and only on a terminal."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.status import Status

__all__ = ["Spinner", "stderr_is_terminal"]


def stderr_is_terminal() -> bool:
    console = Console(stderr=True)
    return console.is_terminal and not console.is_dumb_terminal


class Spinner:
    """``with Spinner("Connecting…", enabled=...) as spinner: ...; spinner.stop()``.

    ``stop()`` may be called early (at the first token) and more than once; a disabled
    spinner does nothing, so callers need no second code path for pipes and ``--json``.
    """

    def __init__(self, text: str, *, enabled: bool) -> None:
        self._status: Status | None = None
        if enabled:
            console = Console(stderr=True, highlight=False)
            self._status = Status(text, console=console, spinner="dots")

    def update(self, text: str) -> None:
        if self._status is not None:
            self._status.update(text)

    def stop(self) -> None:
        status, self._status = self._status, None
        if status is not None:
            status.stop()

    def __enter__(self) -> Spinner:
        if self._status is not None:
            self._status.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
