"""OpenAI Assistants threads of the ``assistant`` option (docs/protocol-ai-power.md,
"Assistants streams"): the conversation lives on the server, keyed by the ``thread_id`` the
client sends back."""

from __future__ import annotations

import secrets
import string

from ._history import Turn

_ALPHABET = string.ascii_letters + string.digits
#: Threads kept; the least recently created ones are forgotten past this.
MAX_THREADS = 10000


def new_thread_id() -> str:
    """``thread_`` plus 24 random letters and digits, like OpenAI's ids."""
    return "thread_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))


class ThreadStore:
    """Known threads and the turns each holds (oldest first)."""

    def __init__(self, size: int = MAX_THREADS) -> None:
        self._size = size
        self._threads: dict[str, list[Turn]] = {}

    def open(self, thread_id: str | None) -> tuple[str, list[Turn], bool]:
        """``(thread id, its turns so far, whether it was created now)``. No id, or one this
        site does not know, starts a new thread (a real upstream would answer 404 to an
        unknown one; the local site is lenient)."""
        if thread_id and thread_id in self._threads:
            return thread_id, list(self._threads[thread_id]), False
        created = new_thread_id()
        self._threads[created] = []
        while len(self._threads) > self._size:
            del self._threads[next(iter(self._threads))]
        return created, [], True

    def add(self, thread_id: str, message: str, answer: str) -> None:
        """Store one finished run: the user message and the assistant's answer."""
        self._threads.setdefault(thread_id, []).extend(
            [("user", message), ("assistant", answer)]
        )

    def turns(self, thread_id: str) -> list[Turn]:
        """The turns of ``thread_id`` (empty if unknown)."""
        return list(self._threads.get(thread_id, []))

    def __contains__(self, thread_id: object) -> bool:
        return thread_id in self._threads

    def __len__(self) -> int:
        return len(self._threads)
