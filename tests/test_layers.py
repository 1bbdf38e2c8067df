"""The layers, one way down: which package of chatbridge may import which, as a table.

Every import in the package, at module level or inside a function, is read with ``ast`` and
held against :data:`MAY_IMPORT`. The few imports across the layers' lines are named one by
one in :data:`SKIPS`, with the names they take and why. Across packages only public names
travel: a name starting with ``_`` is not imported from another package (modules, which are
private by convention here, are imported by their path).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "chatbridge"

#: The top-level modules every layer stands on; they import only one another. (``_queueing``
#: is the one variable the HTTP layer and the client's watchdog share: a request queueing for
#: a connection tells the call's time-to-first-token limit to stand still, and neither layer
#: may import the other. ``_text`` keeps a streamed text compactly, for the providers' parsers
#: and the router alike.)
CORE = {
    "_checks",
    "_constants",
    "_exceptions",
    "_json",
    "_local",
    "_prompt",
    "_queueing",
    "_text",
    "_types",
}

#: Package -> the packages it may import (the core modules always).
MAY_IMPORT: dict[str, set[str]] = {
    "core": set(),
    "_http": set(),
    "_state": set(),
    # What both WordPress plugin engines keep of a site: its target and its token cache.
    "_wordpress": {"_http", "_state"},
    # The protocol engines: HTTP, shared state and the WordPress site below them, nothing
    # above, and not each other.
    "_aipower": {"_http", "_state", "_wordpress"},
    "_aiengine": {"_http", "_state", "_wordpress"},
    "_providers": {"_aipower", "_aiengine", "_http", "_state", "_wordpress"},
    "_client": {"_providers", "_state"},
    "web": set(),
    "server": {"_client", "_state", "web"},
    # The local fakes: the AI Power site, and the OpenAI-compatible upstream beside it.
    "site": set(),
    "upstream": {"site"},
    "_cli": {"root", "_client", "_providers", "server", "site"},
    # ``import chatbridge`` loads its public names lazily from wherever they live.
    "root": {"_aipower", "_client", "_http", "_providers"},
    "__main__": {"_cli"},
}

#: (importer, imported) -> the names it takes across the table's lines, and why.
SKIPS: dict[tuple[str, str], tuple[set[str], str]] = {
    ("_cli", "_aipower"): (
        {"ClientStats", "Conversation"},
        "demo reports the engine's wire counters, and chat keeps one conversation identity "
        "across turns",
    ),
    ("server", "_providers"): (
        {"AIPower", "AnySite", "check_origins"},
        "the built-in site is an AIPower target, serve --site and a site a request names are "
        "AnySite targets (the page tells the plugin), and [server] endpoint_origins are "
        "checked as a target's are",
    ),
    ("server", "_http"): (
        {"is_inward", "no_inward_addresses"},
        "a site a request names is held to the rule every connection obeys (the SSRF guard)",
    ),
    ("server", "site"): ({"LocalSite"}, "the built-in site when nothing is configured (lazily)"),
    ("_client", "site"): ({"LocalSite"}, "the embedded default route (lazily)"),
}


def layer(module: str) -> str:
    """``chatbridge._client._router`` -> ``_client``; a core module -> ``core``."""
    parts = module.split(".")
    if len(parts) == 1:
        return "root"
    top = parts[1]
    return "core" if top in CORE else top


def is_module(module: str) -> bool:
    path = PACKAGE.parent.joinpath(*module.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports() -> Iterator[tuple[str, str, str]]:
    """(importing module, imported module, imported name or ``""``) for every import."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = parts[:-1]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("chatbridge"):
                        yield module, alias.name, ""
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, package)
                if not base.startswith("chatbridge"):
                    continue
                for alias in node.names:
                    if is_module(f"{base}.{alias.name}"):
                        yield module, f"{base}.{alias.name}", ""
                    else:
                        yield module, base, alias.name


def _absolute(node: ast.ImportFrom, package: tuple[str, ...]) -> str:
    if node.level == 0:
        return node.module or ""
    base = list(package[: len(package) - node.level + 1])
    return ".".join([*base, *([node.module] if node.module else [])])


def crossings() -> dict[tuple[str, str], set[str]]:
    """(importer's layer, imported layer) -> the names imported, for every pair that the
    table does not allow."""
    found: dict[tuple[str, str], set[str]] = {}
    for importer, imported, name in imports():
        mine, theirs = layer(importer), layer(imported)
        if theirs in {mine, "core"} or theirs in MAY_IMPORT[mine]:
            continue
        found.setdefault((mine, theirs), set()).add(name or imported)
    return found


def test_the_table_names_every_package() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert packages == set(MAY_IMPORT) - {"core", "root", "__main__"}
    assert modules - {"__main__"} == CORE


def test_every_import_follows_the_table_but_the_named_skips() -> None:
    allowed = {pair: names for pair, (names, _why) in SKIPS.items()}
    assert crossings() == allowed


def test_no_private_name_crosses_a_package() -> None:
    private = {
        (importer, f"{imported}.{name}")
        for importer, imported, name in imports()
        if name.startswith("_") and not name.startswith("__") and layer(importer) != layer(imported)
    }
    assert private == set()


def test_the_check_finds_what_it_forbids() -> None:
    assert layer("chatbridge._client._router") == "_client"
    assert layer("chatbridge._exceptions") == "core"
    assert layer("chatbridge") == "root"
    assert ("_client", "server") not in crossings()  # (it would be a crossing, not allowed)
    assert "server" not in MAY_IMPORT["_client"] and "_client" not in MAY_IMPORT["_aipower"]
    # The engines never import each other.
    assert "_aiengine" not in MAY_IMPORT["_aipower"] and "_aipower" not in MAY_IMPORT["_aiengine"]
