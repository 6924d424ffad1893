"""The layer contracts (setup.cfg [importlinter], docs/architecture.md) hold and really bite.

``lint-imports`` runs over the checkout (it must pass), then over a temporary copy of the package
with one forbidden import added: each such copy must fail, naming the offending module. The copy
is found first on PYTHONPATH, so the installed (editable) package is not what gets checked.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed (lint extra)")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache", str(tree / "setup.cfg")],
        cwd=tree, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pristine copy of the package and its contracts; each test adds one module and removes it."""
    tree = tmp_path_factory.mktemp("arch")
    shutil.copytree(ROOT / "btcbot", tree / "btcbot", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "setup.cfg", tree / "setup.cfg")
    return tree


def test_the_checkout_keeps_every_contract(tree_copy: Path) -> None:
    result = lint_imports(tree_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"Contracts: \d+ kept, 0 broken", result.stdout)


VIOLATIONS = [
    # (module path in the package, its source, the contract name that must break)
    ("services/_probe.py", "from btcbot.persistence import engine\n", "Layers"),
    ("services/_probe.py", "from btcbot.config.groups.risk import RiskSettings\n", "Layers"),
    ("services/_probe.py", "from btcbot.adapters.btcturk import client\n", "Layers"),
    ("services/_probe.py", "import sqlalchemy\n", "import no I/O"),
    ("domain/_probe.py", "from btcbot.services import accounting\n", "Layers"),
    ("contracts/_probe.py", "from btcbot.services.risk import engine\n", "Layers"),
    ("adapters/_probe.py", "from btcbot.app import wiring\n", "Layers"),
    ("adapters/_probe.py", "from btcbot.persistence import unit_of_work\n", "Layers"),
    ("app/_probe.py", "from btcbot.cli import main\n", "Layers"),
    ("sim/_probe.py", "from btcbot.domain import orders\n", "separate venue"),
    ("services/_probe.py", "def lazy() -> None:\n    from btcbot.sim import testing\n", "never imports the simulator"),
]


@pytest.mark.parametrize(("path", "source", "contract"), VIOLATIONS, ids=[f"{p}:{s.split()[1]}" for p, s, _ in VIOLATIONS])
def test_a_forbidden_import_breaks_the_lint(tree_copy: Path, path: str, source: str, contract: str) -> None:
    probe = tree_copy / "btcbot" / path
    probe.write_text(source)
    try:
        result = lint_imports(tree_copy)
    finally:
        probe.unlink()
    module = "btcbot." + path.removesuffix(".py").replace("/", ".")
    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken
    assert module in broken


def test_the_trading_cycle_importing_a_service_breaks_the_lint(tree_copy: Path) -> None:
    """app/cycle.py talks to the reconciler, the state, risk, orders, portfolio and data feed
    through their ports in contracts/ only (the wiring builds the implementations)."""
    cycle = tree_copy / "btcbot" / "app" / "cycle.py"
    original = cycle.read_text()
    cycle.write_text(original + "\nfrom btcbot.services.state_service import StateService  # noqa\n")
    try:
        result = lint_imports(tree_copy)
    finally:
        cycle.write_text(original)
    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert "depends on ports only" in broken and "btcbot.app.cycle" in broken


def test_run_sh_lint_runs_the_contracts() -> None:
    lint_branch = (ROOT / "run.sh").read_text().split("  lint)", 1)[1].split(";;", 1)[0]
    assert "lint-imports" in lint_branch
