"""Shared helpers for the trading-cycle tests.

- ``wall_sim_config``: a simulator whose market clock follows the wall clock from now, so a bot
  subprocess on the system clock sees fresh tickers and passes the X-Stamp check;
- ``bot_settings`` / ``subprocess_env`` / ``run_bot``: run the real ``btcbot`` CLI in a child
  process against that simulator (live mode, the simulator's credentials);
- ``read_book`` + ``consistency_violations``: the end-state checks of the crash tests: no client
  order id with more than one exchange order, every simulator trade in the fills table exactly
  once, and ledger wallet balances (reserve included) equal to the simulator's balances.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text

from btcbot.domain.ledger import Account
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from btcbot.sim.config import SimConfig
from btcbot.sim.testing import SimHandle

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTS_ROOT = REPO_ROOT / "tests"
QUOTE = "TRY"
MARKET_BUY = "cycle.strategies:MarketBuyOnce"
LIMIT_BUY = "cycle.strategies:RestingLimitBuy"
EXIT_SAFE_MODE = 3
EXIT_LEASE_HELD = 75


def wall_sim_config(**overrides: Any) -> SimConfig:
    """Market time = wall time from now (X-Stamp checked against either clock); no rate limits
    unless asked, so repeated subprocess runs never trip the per-minute budgets."""
    values: dict[str, Any] = {
        "clock_mode": "wall",
        "start_time": datetime.now(UTC).replace(microsecond=0),
        "rate_limits": False,
        "cancel_delay_s": 0.5,
    }
    values.update(overrides)
    return SimConfig(**values)


def bot_settings(sim: SimHandle, db_url: str, **extra: str) -> dict[str, str]:
    """BTCBOT_* settings of a live bot trading against ``sim`` into ``db_url``."""
    settings = {
        "BTCBOT_EXCHANGE__BASE_URL": sim.base_url,
        "BTCBOT_EXCHANGE__GRAPH_URL": sim.graph_url,
        "BTCBOT_EXCHANGE__API_TIMEOUT": "3",
        "BTCBOT_AUTH__API_KEY": sim.api_key,
        "BTCBOT_AUTH__API_SECRET": sim.api_secret,
        "BTCBOT_TRADING__DRY_RUN": "false",
        "BTCBOT_TRADING__STRATEGY": MARKET_BUY,
        "BTCBOT_TRADING__CANDLE_INTERVAL_S": "60",
        "BTCBOT_TRADING__UNKNOWN_GRACE_S": "1",
        "BTCBOT_TRADING__CYCLE_JITTER_S": "0",
        "BTCBOT_DATABASE__URL": db_url,
        "BTCBOT_OBSERVABILITY__LOG_FORMAT": "console",
        "BTCBOT_RESILIENCE__RETRY_BASE_DELAY_S": "0.01",
        "BTCBOT_RESILIENCE__RETRY_MAX_DELAY_S": "0.05",
    }
    settings.update(extra)
    return settings


def subprocess_env(settings: Mapping[str, str]) -> dict[str, str]:
    """The parent's environment without any BTCBOT_ variable, plus ``settings``; the repo root
    and ``tests/`` on PYTHONPATH so the test strategies import by dotted path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), str(TESTS_ROOT)])
    env["PYTHONUNBUFFERED"] = "1"
    env.update(settings)
    return env


def bot_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "btcbot.cli.main", *args]


def run_bot(args: list[str], settings: Mapping[str, str], cwd: Path, timeout_s: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run ``btcbot ARGS`` to completion in ``cwd`` (which holds no .env)."""
    return subprocess.run(
        bot_command(*args), env=subprocess_env(settings), cwd=cwd, capture_output=True, text=True,
        timeout=timeout_s, check=False,
    )


def start_bot(args: list[str], settings: Mapping[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        bot_command(*args), env=subprocess_env(settings), cwd=cwd, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@dataclass(frozen=True)
class LocalBook:
    """What the bot's database says, for comparing with the simulator."""

    fill_trade_ids: list[int]
    fill_order_ids: dict[int, int]  # trade id -> exchange order id
    orders: dict[str, tuple[str, int | None]]  # client id -> (state, exchange order id)
    wallet: dict[str, Decimal]
    reserve: Decimal
    outbox_pending: int
    trading_state: str


def read_book(db_url: str) -> LocalBook:
    engine = create_engine_for(db_url, 5000)
    try:
        with engine.connect() as conn:
            fills = conn.execute(text("SELECT trade_id, exchange_order_id FROM fills ORDER BY id")).all()
            orders = conn.execute(text("SELECT client_order_id, state, exchange_order_id FROM orders")).all()
            pending = conn.execute(text("SELECT count(*) FROM outbox WHERE status = 'pending'")).scalar()
        with SqlUnitOfWork(engine) as uow:
            wallet = dict(uow.ledger.wallet_balances())
            reserve = uow.ledger.balance(Account.RESERVE, QUOTE)
            state = uow.trading_state.get().state.value
    finally:
        engine.dispose()
    return LocalBook(
        fill_trade_ids=[int(r[0]) for r in fills],
        fill_order_ids={int(r[0]): int(r[1]) for r in fills},
        orders={str(r[0]): (str(r[1]), None if r[2] is None else int(r[2])) for r in orders},
        wallet=wallet,
        reserve=reserve,
        outbox_pending=int(pending or 0),
        trading_state=state,
    )


def exchange_totals(state: Mapping[str, Any]) -> dict[str, Decimal]:
    return {a: Decimal(b["free"]) + Decimal(b["locked"]) for a, b in state["balances"].items()}


def consistency_violations(state: Mapping[str, Any], book: LocalBook) -> list[str]:
    """Everything that breaks the crash-safety guarantees; empty when the end state is right.

    ``state`` is the simulator's ``/__sim/state``; the simulator has one account, so every trade
    on it is ours.
    """
    problems: list[str] = []
    per_client = Counter(o["client_id"] for o in state["orders"] if o["client_id"])
    problems += [f"client id {cid} has {n} exchange orders" for cid, n in per_client.items() if n > 1]
    for o in state["orders"]:
        local = book.orders.get(o["client_id"])
        if local is None:
            problems.append(f"exchange order {o['id']} ({o['client_id']}) has no local row")
        elif local[1] is not None and local[1] != o["id"]:
            problems.append(f"local {o['client_id']} points at exchange order {local[1]}, exchange has {o['id']}")
    trade_ids = [int(t["id"]) for t in state["trades"]]
    booked = Counter(book.fill_trade_ids)
    problems += [f"trade {t} booked {booked[t]} times" for t in trade_ids if booked[t] != 1]
    problems += [f"fill {t} is not a simulator trade" for t in booked if t not in set(trade_ids)]
    ledger = dict(book.wallet)
    ledger[QUOTE] = ledger.get(QUOTE, Decimal(0)) + book.reserve
    exchange = exchange_totals(state)
    for asset in sorted(set(ledger) | set(exchange)):
        mine, theirs = ledger.get(asset, Decimal(0)), exchange.get(asset, Decimal(0))
        if mine != theirs:
            problems.append(f"{asset}: ledger {mine} != exchange {theirs}")
    return problems


def dump_tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of a SQLite file (read-only connection), for "wrote nothing" checks."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
    finally:
        conn.close()
