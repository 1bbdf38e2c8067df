"""Syntax highlighting for the code blocks of an answer, with Pygments, where the Markdown is
rendered (on the server, so the page stays plain files and its CSP strict).

Tokens come out as ``<span class="tok-k">``... (Pygments' short class names behind a
``tok-`` prefix), never a ``style`` attribute, which the page's policy refuses: the page's
stylesheet colours them, for light and dark. The text inside is escaped by Pygments, and a
block's text is unchanged (no newline added or stripped), so Copy copies what was sent.

Only the common languages of :data:`LANGUAGES` are highlighted (each by any of its Pygments
aliases: ``py``, ``python3``, ``sh``, ``ts``...); any other is shown as plain text, still
labelled. A rendering highlights for at most a set CPU time (:class:`HighlightBudget`):
several Pygments lexers take time that grows with the square of the input on some text (an
unterminated ``<!--`` in HTML, long lines of Java), so a block that is not done in time is
shown plain, and a rendering's cost stays linear in its length whatever the answer holds.
CPU time, not wall time: what the budget guards is the server's processor, and a busy
machine does not turn highlighting off.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import pygments
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_all_lexers, get_lexer_by_name

__all__ = ["LANGUAGES", "HighlightBudget"]

#: Pygments lexer names (not aliases) of the languages highlighted: the common ones in
#: answers (each lexer is imported on first use; this bounds what an answer can make load).
LANGUAGES = frozenset(
    {
        "Bash", "Bash Session", "C", "C#", "C++", "CSS", "Dart", "Diff", "Docker", "Elixir",
        "Erlang", "Go", "GraphQL", "HTML", "Haskell", "INI", "JSON", "JSX", "Java",
        "JavaScript", "Kotlin", "Lua", "Makefile", "Markdown", "MySQL", "Objective-C", "PHP",
        "Perl", "PostgreSQL SQL dialect", "PowerShell", "Protocol Buffer", "Python",
        "Python console session", "Ruby", "Rust", "S", "SCSS", "SQL", "Scala", "Swift",
        "TOML", "TSX", "TeX", "TypeScript", "Vue", "XML", "YAML",
    }
)  # fmt: skip

_FORMATTER = HtmlFormatter(nowrap=True, classprefix="tok-")
#: The clock is read every this many tokens (reading a thread's CPU clock takes ~1 µs).
_LOOK_EVERY = 16
_T = TypeVar("_T")


class _OutOfTime(Exception):
    pass


@functools.cache
def _aliases() -> frozenset[str]:
    """Every alias of the languages highlighted (the installed Pygments' own list)."""
    return frozenset(
        alias.lower()
        for name, aliases, _files, _types in get_all_lexers(plugins=False)
        if name in LANGUAGES
        for alias in aliases
    )


@functools.cache
def _lexer(alias: str) -> Lexer:
    # the text as written: no leading/trailing newline stripped, none added
    return get_lexer_by_name(alias, stripnl=False, ensurenl=False)


def _until(deadline: float, clock: Callable[[], float], items: Iterable[_T]) -> Iterator[_T]:
    for count, item in enumerate(items):
        if count % _LOOK_EVERY == 0 and clock() > deadline:
            raise _OutOfTime
        yield item


@dataclass
class HighlightBudget:
    """The time one rendering may spend highlighting (``seconds``, measured with ``clock``:
    the rendering thread's CPU time); once it is spent, code blocks are plain."""

    seconds: float
    clock: Callable[[], float] = time.thread_time

    def highlight(self, code: str, language: str) -> str | None:
        """``code`` as escaped HTML with token classes, or ``None`` (the caller escapes it as
        plain text) when ``language`` is not one of :data:`LANGUAGES` or time ran out."""
        alias = language.lower()
        if self.seconds <= 0 or alias not in _aliases():
            return None
        lexer = _lexer(alias)
        # Pygments ends its text with a newline: a block still streaming in (or cut off) may
        # end without one, so one is added, and the last newline of the markup taken away
        # again (no tag holds one): the text stays exactly as it was.
        added = not code.endswith("\n")
        start = self.clock()
        tokens = _until(start + self.seconds, self.clock, lexer.get_tokens(code + "\n" * added))
        try:
            html: str | None = pygments.format(tokens, _FORMATTER)
        except _OutOfTime:
            html = None
        self.seconds -= self.clock() - start
        if html is not None and added:
            end = html.rfind("\n")
            html = html[:end] + html[end + 1 :]
        return html
