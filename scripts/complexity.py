"""Cyclomatic complexity of every function, from the standard library's ``ast`` only.

McCabe's count as radon computes it: 1 per function, +1 for each ``if``/``elif``, conditional
expression, ``for``/``while`` loop (and their ``else``), ``except`` clause, ``case`` of a
``match``, comprehension ``for`` and ``if``, and +1 for every extra operand of ``and``/``or``.
This is stricter than ruff's C901 (which ignores boolean operators and comprehensions), so a
function under the limit here is under it for ``./run.sh lint`` too. Nested functions and
classes are measured on their own, not added to the enclosing function.

Usage:
    python scripts/complexity.py [PATHS ...] [--max N] [--top K] [--json FILE]

Defaults: PATHS = btcbot/services btcbot/app, --max 15. Prints the K most complex functions
(default 15) and every one above the limit; exits 1 when any function is above it.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_PATHS = ("btcbot/services", "btcbot/app")
DEFAULT_MAX = 15

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCOPES = (*_FUNCTIONS, ast.ClassDef, ast.Lambda)


@dataclass(frozen=True)
class Measured:
    path: str
    line: int
    name: str  # Class.method or function (nested: outer.inner)
    complexity: int


def _decisions(node: ast.AST) -> int:
    """Decision points of ``node`` itself (not of its children)."""
    if isinstance(node, ast.If | ast.IfExp | ast.While | ast.For | ast.AsyncFor):
        loop_else = 1 if isinstance(node, ast.While | ast.For | ast.AsyncFor) and node.orelse else 0
        return 1 + loop_else
    if isinstance(node, ast.ExceptHandler | ast.match_case):
        return 1
    if isinstance(node, ast.comprehension):
        return 1 + len(node.ifs)
    if isinstance(node, ast.BoolOp):
        return len(node.values) - 1
    return 0


def _walk_body(node: ast.AST) -> Iterator[ast.AST]:
    """Every node inside ``node`` except what belongs to a nested function/class/lambda."""
    for child in ast.iter_child_nodes(node):
        yield child
        if not isinstance(child, _SCOPES):
            yield from _walk_body(child)


def complexity_of(func: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> int:
    return 1 + sum(_decisions(n) for n in _walk_body(func) if not isinstance(n, _SCOPES))


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, _FUNCTIONS):
            name = f"{prefix}{node.name}"
            yield name, node
            yield from _functions(node, f"{name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")
        else:
            yield from _functions(node, prefix)


def measure_file(path: Path) -> list[Measured]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [Measured(str(path), f.lineno, name, complexity_of(f)) for name, f in _functions(tree)]


def measure(paths: Iterable[str]) -> list[Measured]:
    found: list[Measured] = []
    for root in paths:
        p = Path(root)
        files = [p] if p.is_file() else sorted(p.rglob("*.py"))
        for file in files:
            found.extend(measure_file(file))
    return sorted(found, key=lambda m: (-m.complexity, m.path, m.line))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=list(DEFAULT_PATHS))
    parser.add_argument("--max", type=int, default=DEFAULT_MAX, help="highest complexity allowed")
    parser.add_argument("--top", type=int, default=15, help="how many of the most complex to list")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure to this file")
    args = parser.parse_args(argv)
    rows = measure(args.paths)
    over = [m for m in rows if m.complexity > args.max]
    shown = rows[: args.top] + [m for m in over if m not in rows[: args.top]]
    print(f"{'complexity':>10}  function")
    for m in shown:
        flag = "  <-- above the limit" if m.complexity > args.max else ""
        print(f"{m.complexity:>10}  {m.path}:{m.line} {m.name}{flag}")
    print(f"{len(rows)} functions in {', '.join(args.paths)}; highest {rows[0].complexity if rows else 0}; "
          f"{len(over)} above {args.max}")
    if args.json is not None:
        args.json.write_text(json.dumps({"max": args.max, "functions": [asdict(m) for m in rows]}, indent=1) + "\n")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
