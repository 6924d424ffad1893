"""Coins the bot did not buy get a cost basis at the mark of the moment they arrive (issue 11,
item 9), end to end through the real commands against the simulator:

- adopted at genesis (``capital.adopt_existing_holdings``) by the first ``once``;
- recorded as a deposit by ``reconcile --apply --reason``.

Selling them later must book the move since then minus the sale's fee and tax, not the whole
proceeds (which is what the code did before: a realized "profit" of ~22 000 TRY on a 2 000 TRY move).
The simulator ticks once a day here, so the price moves only when the test says so.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from btcbot.contracts.strategy import MarketSnapshot
from btcbot.domain.enums import OrderType, Side
from btcbot.domain.intents import OrderIntent
from btcbot.domain.portfolio import PortfolioView
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from btcbot.services.accounting import Position, cost_basis, realized_by_month
from btcbot.sim.testing import running_simulator
from cycle.harness import bot_settings, sqlite_url, wall_sim_config
from cycle.test_cycle_commands import Bot

STRATEGY = "cycle.test_cost_basis_flows:SellAbove"
MARK = Decimal("2000000")
LATER = Decimal("2200000")
QTY = Decimal("0.01")


class SellAbove:
    """Sells every BTC it holds once BTCTRY trades at 2 100 000 or more; never buys."""

    def __init__(self, strategy_id: str) -> None:
        self._strategy_id = strategy_id

    @property
    def strategy_id(self) -> str:
        return self._strategy_id

    def required_history(self) -> int:
        return 0

    def decide(
        self, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable_symbols: Sequence[str]
    ) -> list[OrderIntent]:
        price = snapshot.last_price("BTCTRY")
        held = portfolio.sellable_qty("BTCTRY")
        if "BTCTRY" not in tradable_symbols or price is None or price < Decimal("2100000") or held <= 0:
            return []
        return [OrderIntent(strategy_id=self._strategy_id, symbol="BTCTRY", side=Side.SELL,
                            order_type=OrderType.MARKET, quantity=held, reference_price=price,
                            expected_edge_bps=Decimal("1000"), reason="test: sell above")]


def _bot(tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
         balances: dict[str, Decimal], **extra: str) -> Iterator[Bot]:
    url = sqlite_url(tmp_cwd / "bot.db")
    upgrade(url)
    config = wall_sim_config(tick_seconds=86_400.0, balances=balances)
    with running_simulator(config) as sim:
        for name, value in bot_settings(sim, url, BTCBOT_TRADING__STRATEGY=STRATEGY, **extra).items():
            monkeypatch.setenv(name, value)
        sim.admin.set_price("BTCTRY", MARK)
        yield Bot(sim, url, capsys)


def _books(url: str) -> tuple[Position, dict[str, Decimal], Decimal, int]:
    """(BTC cost basis, realized PnL by month, proceeds - fee - tax of all BTCTRY sells, sells)."""
    engine = create_engine_for(url, 5000)
    try:
        with SqlUnitOfWork(engine) as uow:
            basis, months = cost_basis(uow.meta, "BTC"), realized_by_month(uow.meta)
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT price, quantity, fee, tax FROM fills WHERE symbol = 'BTCTRY' AND side = 'SELL'"
            )).all()
    finally:
        engine.dispose()
    net = sum((Decimal(p) * Decimal(q) - Decimal(f) - Decimal(t) for p, q, f, t in rows), Decimal(0))
    return basis, months, net, len(rows)


@pytest.fixture
def adopting_bot(tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch,
                 capsys: pytest.CaptureFixture[str]) -> Iterator[Bot]:
    yield from _bot(tmp_cwd, monkeypatch, capsys, {"TRY": Decimal("100000"), "BTC": QTY},
                    BTCBOT_CAPITAL__ADOPT_EXISTING_HOLDINGS="true")


@pytest.fixture
def plain_bot(tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Bot]:
    yield from _bot(tmp_cwd, monkeypatch, capsys, {"TRY": Decimal("100000")})


def test_coins_adopted_at_genesis_book_only_the_move_since_adoption(adopting_bot: Bot) -> None:
    bot = adopting_bot
    assert bot.cli("once")[0] == 0  # genesis adopts 0.01 BTC at last = 2 000 000; nothing sold
    basis, _, _, sells = _books(bot.url)
    assert basis == Position(QTY, QTY * MARK) and sells == 0  # 0.01 * 2 000 000 = 20 000
    bot.sim.admin.set_price("BTCTRY", LATER)
    code, out = bot.cli("once")
    assert code == 0, out
    basis, months, net, sells = _books(bot.url)
    assert sells >= 1 and basis == Position()
    # realized = proceeds - fee - tax - 20 000 (cost at adoption); before: proceeds - fee - tax.
    assert sum(months.values(), Decimal(0)) == net - QTY * MARK
    assert Decimal(0) < net - QTY * MARK < Decimal("2000")  # at most the 2 000 TRY price move


def test_a_deposit_recorded_by_reconcile_books_only_the_move_since_the_deposit(plain_bot: Bot) -> None:
    bot = plain_bot
    assert bot.cli("once")[0] == 0  # genesis: TRY only
    bot.sim.admin.set_balance("BTC", QTY)  # the owner deposits 0.01 BTC
    code, out = bot.cli("reconcile", "--apply", "--reason", "owner deposit")
    assert code == 0, out
    basis, _, _, _ = _books(bot.url)
    assert basis == Position(QTY, QTY * MARK)
    bot.sim.admin.set_price("BTCTRY", LATER)
    code, out = bot.cli("once")
    assert code == 0, out
    basis, months, net, sells = _books(bot.url)
    assert sells >= 1 and basis == Position()
    assert sum(months.values(), Decimal(0)) == net - QTY * MARK
    assert Decimal(0) < net - QTY * MARK < Decimal("2000")


def test_coins_without_a_recorded_cost_sell_at_zero_profit_and_alert(adopting_bot: Bot) -> None:
    bot = adopting_bot
    assert bot.cli("once")[0] == 0
    # A database from before cost bases existed: the adopted coins have none.
    engine = create_engine_for(bot.url, 5000)
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM meta WHERE key = 'accounting.cost_basis'"))
    finally:
        engine.dispose()
    bot.sim.admin.set_price("BTCTRY", LATER)
    code, out = bot.cli("once")
    assert code == 0, out
    _, months, net, sells = _books(bot.url)
    assert sells >= 1 and net > Decimal("20000")
    assert sum(months.values(), Decimal(0)) == 0  # before: the ~22 000 TRY proceeds as profit
    keys = bot.scalar("SELECT group_concat(key, ' ') FROM outbox WHERE key LIKE 'alert:cost_basis_unknown:%'")
    assert keys is not None and len(keys.split()) == sells
