"""Nothing grows too big to read: no module over 450 lines, no function over 60 lines.

A module or function past these sizes has usually taken on a second job; the check lists
the offenders so the one who grew it splits it rather than a reviewer finding it later.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "support_tool"
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60
NOT_YET: tuple[str, ...] = ()  # every folder is measured
# Still over at the time of writing, each at most its size then: the list may only shrink
# (a listed entry that grows, or a new entry, fails). Split one, then delete its line.
STILL_OVER: dict[str, int] = {}


def _modules() -> list[Path]:
    return sorted(
        p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in NOT_YET
    )


def _name(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


def _new_or_grown(offenders: dict[str, int]) -> dict[str, int]:
    return {name: n for name, n in offenders.items() if n > STILL_OVER.get(name, 0)}


def test_no_module_is_over_the_line_limit() -> None:
    sizes = {_name(p): len(p.read_text(encoding="utf-8").splitlines()) for p in _modules()}
    offenders = {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES}
    assert _new_or_grown(offenders) == {}


def test_no_function_is_over_the_line_limit() -> None:
    offenders = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    offenders[f"{_name(path)} {node.name}"] = length
    assert _new_or_grown(offenders) == {}


def test_the_list_of_what_is_still_over_only_shrinks() -> None:
    """An entry whose module or function was split must leave the list, or it would let
    the next one grow back unnoticed."""
    modules = {_name(p): len(p.read_text(encoding="utf-8").splitlines()) for p in _modules()}
    functions: dict[str, int] = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno:
                name = f"{_name(path)} {node.name}"
                functions[name] = max(functions.get(name, 0), node.end_lineno - node.lineno + 1)
    healed = [
        name
        for name in STILL_OVER
        if modules.get(name, functions.get(name, 0))
        <= (MAX_FUNCTION_LINES if " " in name else MAX_MODULE_LINES)
    ]
    assert healed == []
