"""load_strategy: built-ins, dotted paths to user classes, and errors that say what is wrong."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from itertools import count
from pathlib import Path

import pytest

from btcbot.contracts.strategy import Strategy
from btcbot.domain.errors import ConfigError
from btcbot.strategies.rebalance import RebalanceStrategy
from btcbot.strategies.registry import load_strategy
from btcbot.strategies.trend import TrendStrategy

from ._builders import portfolio, snapshot

REPO = Path(__file__).resolve().parents[2]
_names = count()

GOOD = """
class Good:
    def __init__(self, strategy_id):
        self.strategy_id = strategy_id
    def required_history(self):
        return 3
    def decide(self, snapshot, portfolio, tradable_symbols):
        return []
"""


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """Write a uniquely named module into an importable directory; returns its name."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(source: str) -> str:
        name = f"user_strategy_{next(_names)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        return name

    return write


def test_builtins() -> None:
    trend = load_strategy("trend", "s1")
    assert isinstance(trend, TrendStrategy) and trend.strategy_id == "s1"
    assert isinstance(load_strategy(" Rebalance ", "s2"), RebalanceStrategy)
    assert isinstance(trend, Strategy)


@pytest.mark.parametrize("separator", [":", "."])
def test_dotted_path_to_a_user_class(user_module: Callable[[str], str], separator: str) -> None:
    module = user_module(GOOD)
    strategy = load_strategy(f"{module}{separator}Good", "u1")
    assert type(strategy).__name__ == "Good" and strategy.strategy_id == "u1"
    assert strategy.required_history() == 3


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "neither a built-in strategy"),
        ("momentum", "neither a built-in strategy"),
        ("no_such_module_xyz:Thing", "cannot import module 'no_such_module_xyz'"),
        ("1bad.path:Thing", "neither a built-in"),
    ],
)
def test_bad_names(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_strategy(value, "s1")
    assert "BTCBOT_TRADING__STRATEGY" in str(info.value)


@pytest.mark.parametrize(
    ("source", "attribute", "message"),
    [
        (GOOD, "Missing", "has no attribute 'Missing'"),
        ("Thing = 5\n", "Thing", "is not a class"),
        ("raise RuntimeError('boom')\n", "Good", "raised RuntimeError: boom"),
        ("class NoArgs:\n    pass\n", "NoArgs", r"NoArgs\(strategy_id=...\) failed with TypeError"),
        (
            "class NoDecide:\n    def __init__(self, strategy_id):\n        self.strategy_id = strategy_id\n"
            "    def required_history(self):\n        return 1\n",
            "NoDecide",
            r"no decide\(\) method",
        ),
        (
            GOOD.replace("self.strategy_id = strategy_id", "self.strategy_id = 'other'"),
            "Good",
            "strategy_id is 'other', expected 'u1'",
        ),
        (GOOD.replace("return 3", "return -1"), "Good", "must return an int >= 0, got -1"),
        (GOOD.replace("return 3", "return '3'"), "Good", "must return an int >= 0"),
    ],
)
def test_user_class_problems_are_named(
    user_module: Callable[[str], str], source: str, attribute: str, message: str
) -> None:
    module = user_module(source)
    with pytest.raises(ConfigError, match=message):
        load_strategy(f"{module}:{attribute}", "u1")


def test_the_example_strategy_loads_and_trades(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO))
    strategy = load_strategy("examples.my_strategy:SmaFilterStrategy", "ex")
    assert strategy.required_history() == 24
    rising = [str(100 + i) for i in range(24)]
    falling = [str(200 - i) for i in range(24)]
    intents = strategy.decide(
        snapshot({"AAATRY": rising, "BBBTRY": falling}),
        portfolio("10000", {"BBBTRY": ("10", "177")}),
        ["AAATRY", "BBBTRY"],
    )
    assert [(i.symbol, i.side.value) for i in intents] == [("BBBTRY", "SELL"), ("AAATRY", "BUY")]
    assert all(i.strategy_id == "ex" for i in intents)
