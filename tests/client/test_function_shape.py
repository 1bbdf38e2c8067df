"""The client's functions stay short and shallow: none over 60 lines or 5 levels deep.

A level is a block statement (``if``, ``for``, ``while``, ``try``, ``with``, ``match`` and
their async forms) inside another; an ``elif`` is the level of its ``if``. A function
defined inside another is measured on its own.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

CLIENT = Path(__file__).resolve().parents[2] / "chatbridge" / "_client"
MAX_LINES = 60
MAX_DEPTH = 5

_BLOCKS = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.Try,
    ast.TryStar,
    ast.With,
    ast.AsyncWith,
    ast.Match,
)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def depth(node: ast.AST) -> int:
    """How many block statements deep the deepest statement under ``node`` sits."""
    deepest = 0
    for child in ast.iter_child_nodes(node):
        if isinstance(child, _FUNCTIONS):
            continue
        below = depth(child)
        if isinstance(child, _BLOCKS):
            below += 1
        deepest = max(deepest, below)
    if isinstance(node, ast.If) and len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
        # ``elif``: the nested ``if`` in ``orelse`` sits at this level, not one below
        deepest = max(
            max((depth(s) + isinstance(s, _BLOCKS) for s in node.body), default=0),
            depth(node.orelse[0]),
        )
    return deepest


def functions(root: Path) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for path in sorted(root.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield f"{path.name}:{node.lineno} {node.name}", node


def test_the_measure_counts_what_it_says() -> None:
    code = """
def f(x):
    if x:                 # 1
        for y in x:       # 2
            try:          # 3
                pass
            except E:
                with y:   # 4
                    pass
    elif x > 1:           # still 1
        pass
    else:
        while x:          # 2
            pass
"""
    node = ast.parse(code).body[0]
    assert depth(node) == 4
    flat = ast.parse("def g():\n    return 1\n").body[0]
    assert depth(flat) == 0


def shapes(root: Path) -> dict[str, tuple[int, int]]:
    """Each function's lines and depth, by file, line and name."""
    return {
        name: ((node.end_lineno or node.lineno) - node.lineno + 1, depth(node))
        for name, node in functions(root)
    }


def test_no_client_function_is_long_or_deep() -> None:
    measured = shapes(CLIENT)
    assert len(measured) > 50  # the client's functions were found
    over = {
        name: f"{lines} lines, {levels} levels deep"
        for name, (lines, levels) in measured.items()
        if lines > MAX_LINES or levels > MAX_DEPTH
    }
    assert over == {}
