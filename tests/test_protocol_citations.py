"""The code cites the protocols by the section names of pages in the repository
(docs/protocol-ai-power.md, docs/protocol-ai-engine.md), never by the numbers of a document
the reader cannot open."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "protocol-ai-power.md"
ENGINE_PAGE = ROOT / "docs" / "protocol-ai-engine.md"
SOURCES = [
    path
    for folder in ("chatbridge", "tests", "bench", "examples")
    for path in sorted((ROOT / folder).rglob("*.py"))
    if path.name != Path(__file__).name
]
#: A citation: the page (or ``protocol:`` in a module that names the page), then the quoted
#: names of its sections, separated by commas and "and".
CITATION = re.compile(r'(?:protocol-ai-power\.md,?|protocol:)((?:\s*(?:,|and)?\s*"[^"]+")+)')
#: A citation of the AI Engine page (always by its name).
ENGINE_CITATION = re.compile(r'protocol-ai-engine\.md,?((?:\s*(?:,|and)?\s*"[^"]+")+)')
#: A numbered citation: "protocol 0, 5.1, 13", "protocol §3", "rule 7", "section 4.2",
#: "step 9", "§ 12" (an RFC's section is fine: the reader can open an RFC).
NUMBERED = re.compile(
    r"\b(?:protocol|rules?|sections?|steps?)\s*(?:§\s*)?\d|§|\bprotocol\s+(?:rule|section|step)",
    re.IGNORECASE,
)


def headings(page: Path = PAGE) -> set[str]:
    return {
        line.lstrip("#").strip() for line in page.read_text().splitlines() if line.startswith("#")
    }


def joined(path: Path) -> str:
    """``path``'s text with its lines joined (a citation may wrap in a comment or docstring)."""
    return re.sub(r"\s*\n\s*(?:#:?\s*)?", " ", path.read_text())


def cited(path: Path, citation: re.Pattern[str] = CITATION) -> list[str]:
    """The section names ``path`` cites (of the AI Power page, unless ``citation`` says)."""
    text = joined(path)
    return [
        name
        for group in citation.findall(text)
        for name in re.findall(r'"([^"]+)"', group)
    ]


def test_every_cited_section_is_on_the_page() -> None:
    names = {name: path for path in SOURCES for name in cited(path)}
    assert len(names) >= 15  # the citations were found
    missing = {name: str(path.relative_to(ROOT)) for name, path in names.items()}
    for heading in headings():
        missing.pop(heading, None)
    assert missing == {}


def test_nothing_cites_a_numbered_rule_or_section() -> None:
    found = []
    for path in SOURCES:
        text = joined(path)
        found += [
            f"{path.relative_to(ROOT)}: {match.group(0)}"
            for match in NUMBERED.finditer(text)
            if "RFC" not in text[max(0, match.start() - 12) : match.start()]
        ]
    assert found == []


def test_the_engine_cites_the_page_it_follows() -> None:
    engine = ROOT / "chatbridge" / "_aipower"
    citing = {path.name for path in engine.glob("*.py") if cited(path)}
    assert {"_exchange.py", "_replies.py", "_page.py", "_history.py"} <= citing


def test_every_cited_ai_engine_section_is_on_its_page() -> None:
    names = {name: path for path in SOURCES for name in cited(path, ENGINE_CITATION)}
    assert len(names) >= 8  # the citations were found
    missing = {name: str(path.relative_to(ROOT)) for name, path in names.items()}
    for heading in headings(ENGINE_PAGE):
        missing.pop(heading, None)
    assert missing == {}


def test_the_ai_engine_engine_cites_the_page_it_follows() -> None:
    engine = ROOT / "chatbridge" / "_aiengine"
    citing = {path.name for path in engine.glob("*.py") if cited(path, ENGINE_CITATION)}
    assert {"_exchange.py", "_replies.py", "_page.py", "_transcript.py", "_tokens.py"} <= citing


def test_the_pattern_catches_every_numbered_form() -> None:
    numbered = (
        "protocol 0, 5.1, 13",
        "(protocol 4.1)",
        "protocol §3",
        "see rule 7",
        "Section 4.2",
        "sections 3 and 5",
        "(step 9)",
        "§12",
        "protocol section 2",
    )
    for text in numbered:
        assert NUMBERED.search(text), text
    named = ('docs/protocol-ai-power.md, "Legacy streams"', "plugin 1.8", "a 2.2 site")
    for text in named:
        assert not NUMBERED.search(text), text
