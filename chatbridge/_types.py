"""Public typing names: what a message, a conversation and a result stream are."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, TypeAlias

#: One chat message: ``{"role": "user", "content": "hi"}``. ``content`` may also be a list
#: of parts, of which ``{"type": "text", "text": ...}`` parts carry text.
Message: TypeAlias = Mapping[str, Any]
#: A conversation, oldest message first.
Messages: TypeAlias = Sequence[Message]
#: What a streaming provider yields: text chunks.
AsyncResult: TypeAlias = AsyncIterator[str]
#: The synchronous counterpart of :data:`AsyncResult`.
CreateResult: TypeAlias = Iterator[str]
