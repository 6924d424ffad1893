#!/usr/bin/env python3
"""Mutation testing of the money-critical modules (not part of CI: it runs the tests once per mutant).

Usage (from the repository root, after ``./run.sh test`` has created ``.venv``)::

    .venv/bin/python scripts/mutation_test.py                 # every module in TARGETS
    .venv/bin/python scripts/mutation_test.py domain/venue    # one module (key of TARGETS)
    .venv/bin/python scripts/mutation_test.py --list domain/venue   # print the mutants only

How it works, one small change at a time, as an outsider would test the suite:

1. The tree (``btcbot/``, ``tests/``, config files) is copied to a temporary directory, so the
   working tree is never modified; the copy is imported first (``PYTHONPATH``), which the script
   verifies before it starts.
2. The module is parsed with ``ast``; each mutation operator below yields one mutant: a single
   node changed. The mutated module is written into the copy and the module's own tests
   (``TARGETS``) run with ``pytest -x``. A mutant is *killed* when the tests fail (or time out),
   *survived* when they pass.
3. Mutants listed in ``scripts/mutation_equivalents.json`` (module, line, operator, reason) are
   equivalent: no test can tell them apart from the original. They are reported, and left out of
   the score's denominator.

Operators: comparison swaps (``<``/``<=``, ``>``/``>=``, ``==``/``!=``, ``in``/``not in``,
``is``/``is not``), ``and``/``or`` swap, ``not x`` -> ``x``, arithmetic swaps (``+``/``-``,
``*``/``/``), integer constants ``n`` -> ``n + 1``, ``if`` conditions forced ``True`` and
``False``, and deletion of a ``raise``/``return``/assignment statement inside an ``if`` body
(replaced by ``pass``). Docstrings, type annotations and logging calls are not mutated.

Prints one line per survivor and a score per module; saves everything to
``benchmarks/results/mutation.json``.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "mutation.json"
EQUIVALENTS = ROOT / "scripts" / "mutation_equivalents.json"

#: module key -> (source file, the tests that own it). Keys are what the command line takes.
TARGETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "services/risk/capital_policy": (
        "btcbot/services/risk/capital_policy.py",
        ("tests/services/risk",),
    ),
    "services/execution/client_order_id": (
        "btcbot/services/execution/client_order_id.py",
        ("tests/services/execution/test_client_order_id.py",),
    ),
    "adapters/btcturk/errors": (
        "btcbot/adapters/btcturk/errors.py",
        ("tests/adapters/btcturk",),
    ),
    "domain/orders": (
        "btcbot/domain/orders.py",
        ("tests/domain", "tests/services/execution"),
    ),
    "services/risk/limits": (
        "btcbot/services/risk/limits.py",
        ("tests/services/risk",),
    ),
    "domain/venue": (
        "btcbot/domain/venue.py",
        ("tests/domain",),
    ),
}

_SWAP_CMP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_SWAP_BIN: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
}


@dataclass(frozen=True)
class Mutant:
    module: str
    index: int
    line: int
    operator: str
    description: str


@dataclass
class Outcome:
    mutant: Mutant
    killed: bool
    equivalent: str | None
    seconds: float


def _skip_nodes(tree: ast.Module) -> set[int]:
    """ids of nodes never mutated: docstrings, annotations, logging/f-string internals."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for arg in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]:
                if arg.annotation is not None:
                    skip.update(id(n) for n in ast.walk(arg.annotation))
            if node.returns is not None:
                skip.update(id(n) for n in ast.walk(node.returns))
        if isinstance(node, ast.AnnAssign):
            skip.update(id(n) for n in ast.walk(node.annotation))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in {"debug", "info", "warning", "error", "exception", "bind"}:
                skip.update(id(n) for n in ast.walk(node))
        if isinstance(node, ast.JoinedStr):
            skip.update(id(n) for n in ast.walk(node))
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                skip.update(id(n) for n in ast.walk(body[0]))
    return skip


def _candidates(tree: ast.Module) -> Iterator[tuple[int, str, str]]:
    """(node index in ast.walk order, operator, description) for every mutation of ``tree``."""
    skip = _skip_nodes(tree)
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in skip:
            continue
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Compare):
            for position, op in enumerate(node.ops):
                swap = _SWAP_CMP.get(type(op))
                if swap is not None:
                    yield index, f"cmp{position}", f"L{line}: {type(op).__name__} -> {swap.__name__}"
                if isinstance(op, ast.Lt | ast.Gt):
                    flip = ast.Gt if isinstance(op, ast.Lt) else ast.Lt
                    yield index, f"flip{position}", f"L{line}: {type(op).__name__} -> {flip.__name__}"
        elif isinstance(node, ast.BoolOp):
            yield index, "boolop", f"L{line}: {type(node.op).__name__} swapped"
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield index, "not", f"L{line}: 'not' removed"
        elif isinstance(node, ast.BinOp) and type(node.op) in _SWAP_BIN:
            swap_bin = _SWAP_BIN[type(node.op)]
            yield index, "binop", f"L{line}: {type(node.op).__name__} -> {swap_bin.__name__}"
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            yield index, "const", f"L{line}: {node.value} -> {node.value + 1}"
        elif isinstance(node, ast.If):
            yield index, "if_true", f"L{line}: if-condition forced True"
            yield index, "if_false", f"L{line}: if-condition forced False"
            for position, stmt in enumerate(node.body if len(node.body) > 1 else ()):
                if isinstance(stmt, ast.Raise | ast.Return | ast.Assign | ast.AugAssign):
                    yield index, f"del{position}", f"L{line}: statement {position} of if-body deleted"


class _Apply(ast.NodeTransformer):
    def __init__(self, target: int, operator: str) -> None:
        self.target = target
        self.operator = operator
        self.index = -1

    def mutate(self, tree: ast.Module) -> ast.Module:
        nodes = list(ast.walk(tree))
        node = nodes[self.target]
        op = self.operator
        if isinstance(node, ast.Compare) and op.startswith("cmp"):
            position = int(op[3:])
            node.ops[position] = _SWAP_CMP[type(node.ops[position])]()
        elif isinstance(node, ast.Compare) and op.startswith("flip"):
            position = int(op[4:])
            node.ops[position] = ast.Gt() if isinstance(node.ops[position], ast.Lt) else ast.Lt()
        elif isinstance(node, ast.BoolOp):
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        elif isinstance(node, ast.UnaryOp):
            self._replace(tree, node, node.operand)
        elif isinstance(node, ast.BinOp):
            node.op = _SWAP_BIN[type(node.op)]()
        elif isinstance(node, ast.Constant):
            node.value = node.value + 1
        elif isinstance(node, ast.If) and op == "if_true":
            node.test = ast.Constant(True)
        elif isinstance(node, ast.If) and op == "if_false":
            node.test = ast.Constant(False)
        elif isinstance(node, ast.If) and op.startswith("del"):
            node.body[int(op[3:])] = ast.Pass()
        return ast.fix_missing_locations(tree)

    @staticmethod
    def _replace(tree: ast.Module, old: ast.AST, new: ast.AST) -> None:
        for parent in ast.walk(tree):
            for field, value in ast.iter_fields(parent):
                if value is old:
                    setattr(parent, field, new)
                    return
                if isinstance(value, list):
                    for i, item in enumerate(value):
                        if item is old:
                            value[i] = new
                            return


def mutants_of(key: str) -> tuple[str, list[tuple[Mutant, str]]]:
    """The original source of module ``key`` and every (mutant, mutated source)."""
    path, _tests = TARGETS[key]
    source = (ROOT / path).read_text()
    tree = ast.parse(source)
    out: list[tuple[Mutant, str]] = []
    seen: set[str] = set()
    original = ast.unparse(tree)
    for number, (index, operator, description) in enumerate(_candidates(tree)):
        mutated = ast.unparse(_Apply(index, operator).mutate(copy.deepcopy(tree)))
        if mutated == original or mutated in seen:
            continue
        seen.add(mutated)
        line = int(description.split(":", 1)[0][1:])
        out.append((Mutant(key, number, line, operator, description), mutated))
    return source, out


def _make_copy() -> Path:
    workdir = Path(tempfile.mkdtemp(prefix="btcbot-mutation-"))
    for name in ("btcbot", "tests", "examples"):
        shutil.copytree(ROOT / name, workdir / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("setup.cfg", "pyproject.toml", "README.md", "alembic.ini"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, workdir / name)
    return workdir


def _env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(workdir)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("BTCBOT_TEST_POSTGRES_URL", None)  # SQLite only: the point is the module's logic
    # Fewer hypothesis examples per property: a mutant is usually caught by the first few.
    env.setdefault("BTCBOT_HYPOTHESIS_PROFILE", "mutation")
    return env


def _run_tests(workdir: Path, tests: tuple[str, ...], timeout_s: float) -> bool:
    """True when the tests pass."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header", *tests]
    try:
        done = subprocess.run(
            cmd, cwd=workdir, env=_env(workdir), capture_output=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def _load_equivalents() -> list[dict[str, object]]:
    if not EQUIVALENTS.exists():
        return []
    data = json.loads(EQUIVALENTS.read_text())
    assert isinstance(data, list)
    return data


def _equivalent(mutant: Mutant, equivalents: list[dict[str, object]]) -> str | None:
    for entry in equivalents:
        if entry.get("module") == mutant.module and entry.get("description") == mutant.description:
            return str(entry.get("reason", "equivalent"))
    return None


def run_module(key: str, jobs: int, timeout_s: float) -> list[Outcome]:
    path, tests = TARGETS[key]
    _source, mutants = mutants_of(key)
    equivalents = _load_equivalents()
    copies = [_make_copy() for _ in range(jobs)]
    try:
        probe = subprocess.run(
            [sys.executable, "-c", "import btcbot; print(btcbot.__file__)"],
            cwd=copies[0], env=_env(copies[0]), capture_output=True, text=True, check=True,
        )
        if not probe.stdout.strip().startswith(str(copies[0])):
            raise SystemExit(f"mutation: the copy is not imported first ({probe.stdout.strip()})")
        if not _run_tests(copies[0], tests, timeout_s * 3):
            raise SystemExit(f"mutation: the tests of {key} fail without any mutant; fix them first")

        def work(item: tuple[int, tuple[Mutant, str]]) -> Outcome:
            number, (mutant, mutated) = item
            workdir = copies[number % jobs]
            target = workdir / path
            started = time.perf_counter()
            target.write_text(mutated)
            try:
                passed = _run_tests(workdir, tests, timeout_s)
            finally:
                shutil.copy2(ROOT / path, target)
            if passed and _equivalent(mutant, equivalents) is None:
                print(f"  survived: {key} {mutant.description}", flush=True)
            return Outcome(mutant, not passed, _equivalent(mutant, equivalents), time.perf_counter() - started)

        # Each copy runs one mutant at a time: mutants are grouped by copy, copies run in parallel.
        groups: list[list[tuple[int, tuple[Mutant, str]]]] = [[] for _ in range(jobs)]
        for number, item in enumerate(mutants):
            groups[number % jobs].append((number, item))
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = pool.map(lambda group: [work(item) for item in group], groups)
            outcomes = sorted((o for group in results for o in group), key=lambda o: o.mutant.index)
        return outcomes
    finally:
        for workdir in copies:
            shutil.rmtree(workdir, ignore_errors=True)


def score(outcomes: list[Outcome]) -> tuple[int, int, float]:
    """(killed, counted, percent) where equivalent mutants are not counted."""
    counted = [o for o in outcomes if o.equivalent is None]
    killed = sum(1 for o in counted if o.killed)
    return killed, len(counted), (100.0 * killed / len(counted)) if counted else 100.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("modules", nargs="*", help=f"keys of TARGETS (default all): {', '.join(TARGETS)}")
    parser.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2)))
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per mutant test run")
    parser.add_argument("--list", action="store_true", help="print the mutants and exit")
    args = parser.parse_args(argv)
    keys = args.modules or list(TARGETS)
    unknown = [k for k in keys if k not in TARGETS]
    if unknown:
        parser.error(f"unknown module(s): {', '.join(unknown)}")
    if args.list:
        for key in keys:
            for mutant, _ in mutants_of(key)[1]:
                print(f"{key} {mutant.description} [{mutant.operator}]")
        return 0
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    report: dict[str, object] = dict(previous)
    below = 0
    for key in keys:
        started = time.perf_counter()
        outcomes = run_module(key, args.jobs, args.timeout)
        killed, counted, percent = score(outcomes)
        for o in outcomes:
            if not o.killed and o.equivalent is None:
                print(f"SURVIVED {key} {o.mutant.description}")
        equivalent = sum(1 for o in outcomes if o.equivalent is not None)
        print(
            f"{key}: {killed}/{counted} killed = {percent:.1f}% "
            f"({equivalent} equivalent, {time.perf_counter() - started:.0f} s)"
        )
        below += percent < 95.0
        report[key] = {
            "killed": killed,
            "counted": counted,
            "percent": round(percent, 1),
            "equivalent": equivalent,
            "survivors": [asdict(o.mutant) for o in outcomes if not o.killed and o.equivalent is None],
        }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    print(f"saved {RESULTS.relative_to(ROOT)}")
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
