"""Turn ``trading.strategy`` (``BTCBOT_TRADING__STRATEGY``) into a Strategy instance.

Accepted values: a built-in name (``trend``, ``rebalance``, ``ema_cross``; case-insensitive) or a dotted path to
a user class, ``package.module:ClassName`` or ``package.module.ClassName``. The module must be
importable (installed, or on ``PYTHONPATH``). The class is constructed as
``ClassName(strategy_id=...)`` and must satisfy :class:`btcbot.contracts.strategy.Strategy`.
Every failure is a :class:`ConfigError` that names the setting, the value and what is wrong.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from btcbot.contracts.strategy import Strategy
from btcbot.domain.errors import ConfigError
from btcbot.strategies.ema_cross import EmaCrossStrategy
from btcbot.strategies.rebalance import RebalanceStrategy
from btcbot.strategies.trend import TrendStrategy

SETTING = "trading.strategy (BTCBOT_TRADING__STRATEGY)"

BUILTIN_STRATEGIES: dict[str, Callable[[str], Strategy]] = {
    "ema_cross": lambda strategy_id: EmaCrossStrategy(strategy_id=strategy_id),
    "rebalance": lambda strategy_id: RebalanceStrategy(strategy_id=strategy_id),
    "trend": lambda strategy_id: TrendStrategy(strategy_id=strategy_id),
}


def load_strategy(name_or_path: str, strategy_id: str) -> Strategy:
    """Build the configured strategy; raises ConfigError naming the problem."""
    text = name_or_path.strip()
    builtin = BUILTIN_STRATEGIES.get(text.lower())
    if builtin is not None:
        return builtin(strategy_id)
    module_name, attribute = _split_path(text)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"{SETTING}={text!r}: cannot import module {module_name!r} ({exc})") from exc
    except Exception as exc:  # a user module that fails while importing is still a config problem
        raise ConfigError(
            f"{SETTING}={text!r}: importing module {module_name!r} raised {type(exc).__name__}: {exc}"
        ) from exc
    factory = getattr(module, attribute, None)
    if factory is None:
        raise ConfigError(f"{SETTING}={text!r}: module {module_name!r} has no attribute {attribute!r}")
    if not callable(factory):
        raise ConfigError(f"{SETTING}={text!r}: {attribute!r} is not a class")
    try:
        instance = factory(strategy_id=strategy_id)
    except Exception as exc:
        raise ConfigError(
            f"{SETTING}={text!r}: {attribute}(strategy_id=...) failed with {type(exc).__name__}: {exc}"
        ) from exc
    return _checked(instance, text, strategy_id)


def _split_path(text: str) -> tuple[str, str]:
    if ":" in text:
        module_name, _, attribute = text.partition(":")
    else:
        module_name, _, attribute = text.rpartition(".")
    parts = module_name.split(".") if module_name else []
    if not parts or not all(p.isidentifier() for p in parts) or not attribute.isidentifier():
        names = ", ".join(sorted(BUILTIN_STRATEGIES))
        raise ConfigError(
            f"{SETTING}={text!r} is neither a built-in strategy ({names}) "
            "nor a dotted path like 'package.module:ClassName'"
        )
    return module_name, attribute


def _checked(instance: object, text: str, strategy_id: str) -> Strategy:
    """Check the Strategy protocol member by member so the error says which part is missing."""
    for method in ("decide", "required_history"):
        if not callable(getattr(instance, method, None)):
            raise ConfigError(f"{SETTING}={text!r}: the strategy has no {method}() method")
    actual_id = getattr(instance, "strategy_id", None)
    if actual_id != strategy_id:
        raise ConfigError(
            f"{SETTING}={text!r}: the strategy's strategy_id is {actual_id!r}, expected {strategy_id!r}"
        )
    try:
        history = instance.required_history()  # type: ignore[attr-defined]
    except Exception as exc:
        raise ConfigError(
            f"{SETTING}={text!r}: required_history() raised {type(exc).__name__}: {exc}"
        ) from exc
    if isinstance(history, bool) or not isinstance(history, int) or history < 0:
        raise ConfigError(f"{SETTING}={text!r}: required_history() must return an int >= 0, got {history!r}")
    if not isinstance(instance, Strategy):  # pragma: no cover - the checks above cover every member
        raise ConfigError(f"{SETTING}={text!r}: the object does not satisfy the Strategy protocol")
    return instance
