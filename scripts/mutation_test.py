#!/usr/bin/env python3
"""Mutation testing of the money-critical modules (not part of CI: it runs the tests once per mutant).

Usage (from the repository root, after ``./run.sh test`` has created ``.venv``)::

    .venv/bin/python scripts/mutation_test.py                 # every module in TARGETS
    .venv/bin/python scripts/mutation_test.py domain/venue    # one module (key of TARGETS)
    .venv/bin/python scripts/mutation_test.py --list domain/venue   # print the mutants only
    nice -n 19 .venv/bin/python scripts/mutation_test.py domain/venue --jobs 1   # on a busy machine

How it works, one small change at a time, as an outsider would test the suite:

1. The tree (``btcbot/``, ``tests/``, ``docs/``, config files) is copied to a temporary directory, so the
   working tree is never modified; the copy is imported first (``PYTHONPATH``), which the script
   verifies before it starts.
2. The module is parsed with ``ast``; each mutation operator below yields one mutant: a single
   node changed. The module's own tests (``TARGETS``) run against it with ``pytest -x``. A mutant
   is *killed* when the tests fail (or time out), *survived* when they pass.
3. Mutants listed in ``scripts/mutation_equivalents.json`` are equivalent: no test can tell them
   apart from the original. An entry names the module, the mutant's ``description``, its
   ``function`` and ``context`` (the stripped source line; with them an entry still matches after
   edits above it moved the line) and the ``reason``. They are reported, and left out of the
   score's denominator.

Two engines run the tests (``--engine``):

- ``fork`` (default): one server process per copy imports everything and runs the module's tests
  once, recording which tests call which function of the module (``sys.setprofile``). Then, per
  mutant, it forks; the child swaps the mutated function's code object into the already imported
  function (``func.__code__``) and runs, with ``pytest -x``, only the tests that call that
  function. No interpreter start, no imports, no collection of unrelated tests: several times
  faster than a subprocess per mutant. A mutant outside a function body (module constants,
  default values, class attributes), in a function that runs at import time, or whose child ends
  in anything but pass/fail is run by the subprocess engine instead. The unmutated module is run
  through a forked child first and must pass, else the whole module falls back to ``subprocess``.
- ``subprocess``: a fresh ``python -m pytest`` over all of the module's tests per mutant (slow,
  the reference).

With ``fork``, every survivor is confirmed by the ``subprocess`` engine (all the module's tests in
a fresh interpreter), so a survivor is never an artefact of test selection or swapped code.

Operators: comparison swaps (``<``/``<=``, ``>``/``>=``, ``==``/``!=``, ``in``/``not in``,
``is``/``is not``), ``and``/``or`` swap, ``not x`` -> ``x``, arithmetic swaps (``+``/``-``,
``*``/``/``), integer constants ``n`` -> ``n + 1``, ``if`` conditions forced ``True`` and
``False``, and deletion of a ``raise``/``return``/assignment statement inside an ``if`` body
(replaced by ``pass``). Docstrings, type annotations and logging calls are not mutated.
A mutant's description is ``L<line>: <change>``; when two mutants of a module would share one,
both get `` @col <first>-<last>`` appended (the 1-based columns of the mutated node).

Prints one line per survivor and a score per module; saves everything to
``benchmarks/results/mutation.json`` (merged into what is there, one key per module).
"""

from __future__ import annotations

import argparse
import ast
import copy
import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

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
        (
            "tests/services/execution/test_client_order_id.py",
            "tests/services/execution/test_client_order_id_mutants.py",
        ),
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
    #: qualified name of the outermost function whose body holds the mutated node (None: not in one)
    function: str | None = None
    #: the original source line of the mutated node, stripped (matches equivalents across line shifts)
    context: str = ""


@dataclass
class Outcome:
    mutant: Mutant
    killed: bool
    equivalent: str | None
    seconds: float
    #: "fork" (swapped into a forked server) or "subprocess" (fresh interpreter, all the tests)
    engine: str = "subprocess"
    #: the subprocess engine confirmed a survivor of the fork engine (or killed it)
    confirmed: bool = False


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
        logging_call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        if logging_call and node.func.attr in {"debug", "info", "warning", "error", "exception", "bind"}:  # type: ignore[attr-defined]
            skip.update(id(n) for n in ast.walk(node))
        if isinstance(node, ast.JoinedStr):
            skip.update(id(n) for n in ast.walk(node))
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                skip.update(id(n) for n in ast.walk(body[0]))
    return skip


def _owners(tree: ast.Module) -> dict[int, str]:
    """id(node) -> qualified name of the outermost function whose body holds the node.

    Nodes outside any function body (module and class level, default values, decorators) are
    absent: their mutants cannot be swapped into an imported function.
    """
    owner: dict[int, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                qualname = prefix + child.name
                for stmt in child.body:
                    owner.update((id(n), qualname) for n in ast.walk(stmt))
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return owner


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
        elif isinstance(node, ast.Constant) and isinstance(node.value, int):
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
    lines = source.splitlines()
    nodes = list(ast.walk(tree))
    owners = _owners(tree)
    found: list[tuple[int, int, str, str, str]] = []  # (number, index, operator, description, mutated)
    seen: set[str] = set()
    original = ast.unparse(tree)
    for number, (index, operator, description) in enumerate(_candidates(tree)):
        mutated = ast.unparse(_Apply(index, operator).mutate(copy.deepcopy(tree)))
        if mutated == original or mutated in seen:
            continue
        seen.add(mutated)
        found.append((number, index, operator, description, mutated))
    counts: dict[str, int] = {}
    for _n, _i, _o, description, _m in found:
        counts[description] = counts.get(description, 0) + 1
    out: list[tuple[Mutant, str]] = []
    for number, index, operator, description, mutated in found:
        if counts[description] > 1:  # make it unique: the equivalents file names mutants by it
            node = nodes[index]
            start, end = getattr(node, "col_offset", -1) + 1, getattr(node, "end_col_offset", -1)
            description = f"{description} @col {start}-{end}"
        line = int(description.split(":", 1)[0][1:])
        function = owners.get(id(nodes[index]))
        context = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        out.append((Mutant(key, number, line, operator, description, function, context), mutated))
    return source, out


def _make_copy() -> Path:
    workdir = Path(tempfile.mkdtemp(prefix="btcbot-mutation-"))
    for name in ("btcbot", "tests", "examples", "docs"):  # docs: tests check docs against code
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


_PYTEST_ARGS = ["-q", "-p", "no:cacheprovider", "--no-header"]


def _run_tests(workdir: Path, tests: tuple[str, ...], timeout_s: float) -> bool:
    """True when the tests pass (subprocess engine: a fresh interpreter, every test of ``tests``)."""
    cmd = [sys.executable, "-m", "pytest", "-x", *_PYTEST_ARGS, *tests]
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
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


def _change(description: str) -> str:
    """``L97: if-condition forced False`` -> ``if-condition forced False`` (the line number dropped)."""
    return description.split(": ", 1)[-1]


def _equivalent(mutant: Mutant, equivalents: list[dict[str, object]]) -> str | None:
    """The reason when ``mutant`` is listed as equivalent: same module and either the same
    description, or (when edits above moved it) the same function, source line and change."""
    for entry in equivalents:
        if entry.get("module") != mutant.module:
            continue
        description = str(entry.get("description", ""))
        moved = (
            entry.get("context") == mutant.context
            and entry.get("function") == mutant.function
            and _change(description) == _change(mutant.description)
        )
        if description == mutant.description or moved:
            return str(entry.get("reason", "equivalent"))
    return None


# ----------------------------------------------------------------------------- fork engine (server side)


class _Recorder:
    """pytest plugin + profile function: which test calls which function of one source file."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        self.current = "<import>"  # calls outside a test's setup/call/teardown
        self.calls: dict[str, set[str]] = {}
        self.order: list[str] = []
        self.filename: str | None = None

    def profile(self, frame: types.FrameType, event: str, _arg: object) -> None:
        if event != "call":
            return
        code = frame.f_code
        if code.co_filename.endswith(self.suffix):
            self.filename = code.co_filename
            self.calls.setdefault(code.co_qualname, set()).add(self.current)

    def pytest_runtest_protocol(self, item: Any, nextitem: Any) -> None:
        self.current = item.nodeid
        self.order.append(item.nodeid)

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        self.current = "<import>"

    def tests_calling(self, qualname: str) -> set[str]:
        nested = f"{qualname}.<locals>."
        out: set[str] = set()
        for name, nodeids in self.calls.items():
            if name == qualname or name.startswith(nested):
                out |= nodeids
        return out


class _Select:
    """pytest plugin: run only the given node ids."""

    def __init__(self, nodeids: set[str]) -> None:
        self.nodeids = nodeids

    def pytest_collection_modifyitems(self, session: Any, config: Any, items: list[Any]) -> None:
        keep = [item for item in items if item.nodeid in self.nodeids]
        drop = [item for item in items if item.nodeid not in self.nodeids]
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _code_objects(code: types.CodeType, qualname: str) -> list[types.CodeType]:
    found = [code] if code.co_qualname == qualname else []
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found.extend(_code_objects(const, qualname))
    return found


def _child(
    swap: tuple[list[types.FunctionType], types.CodeType] | None,
    nodeids: set[str],
    files: list[str],
    timeout_s: float,
) -> str:
    """Fork, swap the code in, run the selected tests: "killed", "survived" or "error"."""
    import pytest

    pid = os.fork()
    if pid == 0:  # child
        code = 4
        try:
            if swap is not None:
                functions, new_code = swap
                for function in functions:
                    function.__code__ = new_code
            code = int(pytest.main(["-x", *_PYTEST_ARGS, *files], plugins=[_Select(nodeids)]))
        except BaseException:  # anything but pass/fail: the subprocess engine decides
            code = 4
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "killed"  # a timeout kills, as in the subprocess engine
        time.sleep(0.01)
    return {0: "survived", 1: "killed"}.get(os.waitstatus_to_exitcode(status), "error")


def _fork_one(
    entry: dict[str, Any],
    recorder: _Recorder,
    functions: dict[str, list[types.FunctionType]],
    filename: str,
    files_of: Callable[[set[str]], list[str]],
    timeout_s: float,
) -> tuple[str, int]:
    """(result, number of tests run) of one mutant: killed, survived or fallback (subprocess)."""
    qualname: str | None = entry["function"]
    if qualname is None:
        return "fallback", 0  # module or class level: not inside a function body
    selection = recorder.tests_calling(qualname)
    originals = functions.get(qualname, [])
    try:
        new_codes = _code_objects(compile(entry["mutated"], filename, "exec"), qualname)
    except SyntaxError:
        new_codes = []
    swappable = (
        len(new_codes) == 1
        and len({id(f.__code__) for f in originals}) == 1
        and new_codes[0].co_freevars == originals[0].__code__.co_freevars
    )
    if "<import>" in selection or not swappable:
        return "fallback", 0  # runs at import time, or not a single plain function
    if not selection:
        return "survived", 0  # no test calls it (the subprocess engine confirms)
    result = _child((originals, new_codes[0]), selection, files_of(selection), timeout_s)
    return ("fallback" if result == "error" else result), len(selection)


def _serve(key: str, plan_path: Path, out_path: Path, timeout_s: float) -> int:
    """Server of the fork engine, run with the copy as working directory: see the docstring."""
    path, tests = TARGETS[key]
    workdir = Path.cwd()
    sys.path.insert(0, str(workdir))
    plan: list[dict[str, Any]] = json.loads(plan_path.read_text())
    report = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)

    def finish(result: dict[str, Any]) -> int:
        out_path.write_text(json.dumps(result))
        return 0

    import pytest

    recorder = _Recorder("/" + path)
    threading.setprofile(recorder.profile)
    sys.setprofile(recorder.profile)
    try:
        rc = pytest.main([*_PYTEST_ARGS, *tests], plugins=[recorder])
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    if rc != 0 or recorder.filename is None or not recorder.filename.startswith(str(workdir)):
        return finish({"baseline": f"warm-up run: exit {int(rc)}, module file {recorder.filename}"})
    filename = recorder.filename
    functions: dict[str, list[types.FunctionType]] = {}
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType) and obj.__code__.co_filename == filename:
            functions.setdefault(obj.__code__.co_qualname, []).append(obj)
    order = {nodeid: n for n, nodeid in enumerate(recorder.order)}

    def files_of(nodeids: set[str]) -> list[str]:
        first: dict[str, int] = {}
        for nodeid in nodeids:
            name = nodeid.split("::", 1)[0]
            first[name] = min(first.get(name, len(order)), order.get(nodeid, len(order)))
        return sorted(first, key=lambda name: first[name])

    everything = set(recorder.order)
    started = time.perf_counter()
    if _child(None, everything, files_of(everything), timeout_s * 3) != "survived":
        return finish({"baseline": "the unmutated module fails in a forked child"})
    # A mutant that loops (e.g. a step-down loop that never ends) is killed by the timeout: no
    # need to wait --timeout seconds when the unmutated tests take a fraction of it.
    timeout_s = min(timeout_s, max(30.0, 10 * (time.perf_counter() - started)))

    outcomes: list[dict[str, Any]] = []
    for entry in plan:
        started = time.perf_counter()
        result, selected = _fork_one(entry, recorder, functions, filename, files_of, timeout_s)
        outcomes.append(
            {
                "number": entry["number"],
                "result": result,
                "tests": selected,
                "seconds": time.perf_counter() - started,
            }
        )
        if result == "survived" and not entry["equivalent"]:
            report.write(f"  survived (fork, {selected} tests): {key} {entry['description']}\n")
        if len(outcomes) % 25 == 0:
            report.write(f"  ... {len(outcomes)}/{len(plan)} mutants of {key} through the fork engine\n")
    return finish({"baseline": None, "outcomes": outcomes})


# ----------------------------------------------------------------------------- driver


def _subprocess_outcomes(
    key: str,
    items: list[tuple[Mutant, str]],
    copies: list[Path],
    timeout_s: float,
    equivalents: list[dict[str, object]],
) -> list[Outcome]:
    path, tests = TARGETS[key]
    jobs = len(copies)

    def work(number: int, mutant: Mutant, mutated: str) -> Outcome:
        workdir = copies[number % jobs]
        target = workdir / path
        started = time.perf_counter()
        target.write_text(mutated)
        try:
            passed = _run_tests(workdir, tests, timeout_s)
        finally:
            shutil.copy2(ROOT / path, target)
        equivalent = _equivalent(mutant, equivalents)
        if passed and equivalent is None:
            print(f"  survived: {key} {mutant.description}", flush=True)
        return Outcome(mutant, not passed, equivalent, time.perf_counter() - started)

    # Each copy runs one mutant at a time: mutants are grouped by copy, copies run in parallel.
    groups: list[list[tuple[int, Mutant, str]]] = [[] for _ in range(jobs)]
    for number, (mutant, mutated) in enumerate(items):
        groups[number % jobs].append((number, mutant, mutated))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = pool.map(lambda group: [work(*item) for item in group], groups)
        return [o for group in results for o in group]


def _fork_outcomes(
    key: str,
    items: list[tuple[Mutant, str]],
    copies: list[Path],
    timeout_s: float,
    equivalents: list[dict[str, object]],
) -> list[Outcome] | None:
    """Outcomes of the fork engine (None when the module must use the subprocess engine)."""
    jobs = len(copies)
    servers: list[tuple[subprocess.Popen[bytes], Path, list[int]]] = []
    for shard, workdir in enumerate(copies):
        numbers = list(range(shard, len(items), jobs))
        plan = [
            {
                "number": n,
                "function": items[n][0].function,
                "mutated": items[n][1],
                "description": items[n][0].description,
                "equivalent": _equivalent(items[n][0], equivalents) is not None,
            }
            for n in numbers
        ]
        plan_path, out_path = workdir / ".mutation_plan.json", workdir / ".mutation_out.json"
        plan_path.write_text(json.dumps(plan))
        cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", key, "--plan", str(plan_path),
               "--out", str(out_path), "--timeout", str(timeout_s)]  # fmt: skip
        server = subprocess.Popen(cmd, cwd=workdir, env=_env(workdir))  # noqa: S603 - our own script
        servers.append((server, out_path, numbers))
    results: dict[int, dict[str, Any]] = {}
    usable = True
    for process, out_path, _numbers in servers:
        process.wait()
        data: dict[str, Any] = json.loads(out_path.read_text()) if out_path.exists() else {"baseline": "died"}
        if data["baseline"] is not None:
            print(
                f"mutation: fork engine unusable for {key} ({data['baseline']}); using subprocess", flush=True
            )
            usable = False
            continue
        results.update((o["number"], o) for o in data["outcomes"])
    if not usable:
        return None
    outcomes: list[Outcome] = []
    recheck: list[tuple[Mutant, str]] = []
    survivors: set[int] = set()
    for number, (mutant, mutated) in enumerate(items):
        result = results[number]
        if result["result"] == "killed":
            equivalent = _equivalent(mutant, equivalents)
            outcomes.append(Outcome(mutant, True, equivalent, result["seconds"], engine="fork"))
        else:  # fallback, or a survivor to confirm in a fresh interpreter with all the tests
            recheck.append((mutant, mutated))
            if result["result"] == "survived":
                survivors.add(mutant.index)
    if recheck:
        print(f"mutation: {key}: {len(recheck)} mutants through the subprocess engine "
              f"({len(survivors)} fork survivors to confirm)", flush=True)  # fmt: skip
    rechecked = _subprocess_outcomes(key, recheck, copies, timeout_s, equivalents) if recheck else []
    for outcome in rechecked:
        outcome.confirmed = outcome.mutant.index in survivors
    return outcomes + rechecked


def run_module(key: str, jobs: int, timeout_s: float, engine: str = "fork") -> list[Outcome]:
    _path, tests = TARGETS[key]
    _source, items = mutants_of(key)
    equivalents = _load_equivalents()
    copies = [_make_copy() for _ in range(jobs)]
    try:
        probe = subprocess.run(
            [sys.executable, "-c", "import btcbot; print(btcbot.__file__)"],
            cwd=copies[0], env=_env(copies[0]), capture_output=True, text=True, check=True,
        )  # fmt: skip
        if not probe.stdout.strip().startswith(str(copies[0])):
            raise SystemExit(f"mutation: the copy is not imported first ({probe.stdout.strip()})")
        outcomes: list[Outcome] | None = None
        if engine == "fork":
            outcomes = _fork_outcomes(key, items, copies, timeout_s, equivalents)
        if outcomes is None:
            if not _run_tests(copies[0], tests, timeout_s * 3):
                raise SystemExit(f"mutation: the tests of {key} fail without any mutant; fix them first")
            outcomes = _subprocess_outcomes(key, items, copies, timeout_s, equivalents)
        return sorted(outcomes, key=lambda o: o.mutant.index)
    finally:
        for workdir in copies:
            shutil.rmtree(workdir, ignore_errors=True)


def score(outcomes: list[Outcome]) -> tuple[int, int, float]:
    """(killed, counted, percent) where equivalent mutants are not counted."""
    counted = [o for o in outcomes if o.equivalent is None]
    killed = sum(1 for o in counted if o.killed)
    return killed, len(counted), (100.0 * killed / len(counted)) if counted else 100.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("modules", nargs="*", help=f"keys of TARGETS (default all): {', '.join(TARGETS)}")
    parser.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2)))
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds per mutant test run (fork engine: at most 10x the unmutated run, at least 30 s)",
    )
    parser.add_argument("--engine", choices=("fork", "subprocess"), default="fork")
    parser.add_argument("--list", action="store_true", help="print the mutants and exit")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # internal: the fork engine's server
    parser.add_argument("--plan", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return _serve(args.serve, args.plan, args.out, args.timeout)
    keys = args.modules or list(TARGETS)
    unknown = [k for k in keys if k not in TARGETS]
    if unknown:
        parser.error(f"unknown module(s): {', '.join(unknown)}")
    if args.list:
        for key in keys:
            for mutant, _ in mutants_of(key)[1]:
                where = f" in {mutant.function}" if mutant.function else ""
                print(f"{key} {mutant.description} [{mutant.operator}]{where}")
        return 0
    fresh: dict[str, object] = {}
    below = 0
    for key in keys:
        started = time.perf_counter()
        outcomes = run_module(key, args.jobs, args.timeout, args.engine)
        elapsed = time.perf_counter() - started
        killed, counted, percent = score(outcomes)
        for o in outcomes:
            if not o.killed and o.equivalent is None:
                print(f"SURVIVED {key} {o.mutant.description}")
        equivalent = sum(1 for o in outcomes if o.equivalent is not None)
        print(f"{key}: {killed}/{counted} killed = {percent:.1f}% ({equivalent} equivalent, {elapsed:.0f} s)")
        below += percent < 95.0
        fresh[key] = {
            "killed": killed,
            "counted": counted,
            "percent": round(percent, 1),
            "equivalent": equivalent,
            "mutants": len(outcomes),
            "engine": args.engine,
            "seconds": round(elapsed),
            "survivors": [asdict(o.mutant) for o in outcomes if not o.killed and o.equivalent is None],
            "equivalents": [o.mutant.description for o in outcomes if o.equivalent is not None],
        }
    # Merge at the end (another run may have written other modules meanwhile).
    report: dict[str, object] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    report.update(fresh)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    print(f"saved {RESULTS.relative_to(ROOT)}")
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
