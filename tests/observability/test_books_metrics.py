"""Profit and capital-policy figures after a cycle (issue 13, item 8): the month-start fee baseline,
unrealized profit from the recorded cost basis, the gauges and the one ``capital.policy`` record, and
the alert outbox backlog. In-process with the fake unit of work; the real cycle against the
simulator is in test_books_end_to_end.py."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from loguru import logger
from prometheus_client.parser import text_string_to_metric_families

from btcbot.adapters.clock import ManualClock
from btcbot.app.alerting import AlertHub
from btcbot.app.telemetry import (
    META_FEE_MONTH,
    BooksSource,
    Telemetry,
    read_profit,
    roll_fee_month,
    unrealized_profit,
)
from btcbot.config.groups.capital import CapitalSettings
from btcbot.config.groups.risk import RiskSettings
from btcbot.config.params import capital_params, risk_params
from btcbot.domain.enums import TradingState
from btcbot.domain.ledger import Account, Posting
from btcbot.domain.portfolio import PortfolioView
from btcbot.observability.alerts.model import Alert, AlertKind, Severity
from btcbot.observability.alerts.policy import AlertPolicy
from btcbot.observability.alerts.sender import AlertDeliveryError
from btcbot.observability.logging import configure_logging, fmt_amount
from btcbot.observability.metrics import Metrics
from btcbot.persistence.fake import FakeStore, FakeUnitOfWork
from btcbot.persistence.genesis import GENESIS_KEY
from btcbot.services.accounting import META_BASIS
from btcbot.services.risk.capital_policy import compute_capital_policy

D = Decimal
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
TZ = "Europe/Istanbul"
UNIVERSE = ("BTCTRY", "ETHTRY", "SOLTRY", "AVAXTRY", "XRPTRY")


@pytest.fixture(autouse=True)
def _log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream)
    yield stream
    logger.remove()


def view(**kw: object) -> PortfolioView:
    base: dict[str, object] = dict(
        quote_asset="TRY", cash_free=D("50000"), cash_total=D("50000"),
        positions={"BTCTRY": D("0.01")}, prices={"BTCTRY": D("3000000"), "ETHTRY": D("120000")},
        equity=D("88000"), high_water=D("100000"), day_start_equity=D("88000"),
        realized_pnl_mtd=D("150.25"),
    )  # fmt: skip
    base.update(kw)
    return PortfolioView(**base)  # type: ignore[arg-type]


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


# --- the month-start baseline of fees and taxes (pure) ----------------------------------------


def test_first_baseline_counts_everything_when_the_bot_started_this_month() -> None:
    doc = roll_fee_month(None, "2026-03", D("12"), D("2.4"), genesis_this_month=True)
    assert (doc["fees_start"], doc["taxes_start"]) == ("0", "0")


def test_first_baseline_of_an_older_install_starts_counting_now() -> None:
    doc = roll_fee_month(None, "2026-03", D("900"), D("180"), genesis_this_month=False)
    assert (doc["fees_start"], doc["taxes_start"]) == ("900", "180")


def test_same_month_keeps_the_start_and_a_new_month_starts_at_the_last_balance_seen() -> None:
    march = roll_fee_month(None, "2026-03", D("10"), D("2"), genesis_this_month=True)
    march = roll_fee_month(march, "2026-03", D("25"), D("5"), genesis_this_month=True)
    assert march["fees_start"] == "0" and march["fees_last"] == "25"
    april = roll_fee_month(march, "2026-04", D("31"), D("6.2"), genesis_this_month=True)
    # 25 was the last balance seen in March: the 6 booked since then count in April.
    assert (april["fees_start"], april["taxes_start"], april["fees_last"]) == ("25", "5", "31")


# --- unrealized profit ---------------------------------------------------------------------------


def test_unrealized_profit_uses_the_recorded_cost_and_skips_coins_without_one() -> None:
    v = view(positions={"BTCTRY": D("0.01"), "ETHTRY": D("1")})
    basis = {"BTC": (D("0.01"), D("29000"))}  # ETH held but with no recorded cost
    assert unrealized_profit(v, basis) == D("0.01") * D("3000000") - D("29000")


# --- reading the books from a unit of work ------------------------------------------------------


def seeded_store(fees: str, taxes: str, genesis: datetime) -> FakeStore:
    store = FakeStore()
    with FakeUnitOfWork(store) as uow:
        uow.ledger.post([Posting("TRY", Account.EXTERNAL, D("-100000"), "genesis", "genesis"),
                         Posting("TRY", Account.WALLET, D("100000"), "genesis", "genesis")], genesis)
        uow.ledger.post([Posting("TRY", Account.FEES, D(fees), "trade:1"),
                         Posting("TRY", Account.TAXES, D(taxes), "trade:1"),
                         Posting("TRY", Account.WALLET, -(D(fees) + D(taxes)), "trade:1")], genesis)
        uow.meta.set(GENESIS_KEY, genesis.isoformat())
        uow.meta.set(META_BASIS, json.dumps({"BTC": ["0.01", "29000"]}))
        uow.commit()
    return store


def policy_for(v: PortfolioView) -> object:
    return compute_capital_policy(v, capital_params(CapitalSettings()), risk_params(RiskSettings()), UNIVERSE, NOW)


def test_read_profit_reports_month_to_date_and_writes_the_baseline_once() -> None:
    store = seeded_store("12.5", "2.5", genesis=datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    v = view()
    with FakeUnitOfWork(store) as uow:
        profit = read_profit(uow, v, policy_for(v), "TRY", TZ)  # type: ignore[arg-type]
        uow.commit()
    assert (profit.fees_mtd, profit.taxes_mtd) == (D("12.5"), D("2.5"))
    assert profit.realized_mtd == D("150.25") and profit.unrealized == D("1000")
    with FakeUnitOfWork(store) as uow:
        stored = uow.meta.get(META_FEE_MONTH)
    assert stored is not None and json.loads(stored)["month"] == "2026-03"


def test_publish_books_sets_every_gauge_and_logs_one_capital_policy_record(_log: io.StringIO) -> None:
    store = seeded_store("12.5", "2.5", genesis=datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    metrics = Metrics.create(enabled=True)
    telemetry = Telemetry(metrics=metrics)
    risk, capital = risk_params(RiskSettings()), capital_params(CapitalSettings())
    books = BooksSource(lambda v, at: compute_capital_policy(v, capital, risk, UNIVERSE, at),
                        lambda: FakeUnitOfWork(store), "TRY", TZ)
    telemetry.attach_books(books, 60.0)
    v = view()
    telemetry.cycle_finished(v, TradingState.ACTIVE, 12.0, NOW)

    policy = compute_capital_policy(v, capital, risk, UNIVERSE, NOW)
    got = samples(metrics)
    assert got[("cycle_interval_seconds", ())] == 60.0
    assert got[("tradable_capital", ())] == float(policy.tradable)
    assert got[("reserved_cash", ())] == float(policy.c_res)
    assert got[("fee_buffer", ())] == float(policy.fee_buffer)
    assert got[("drawdown_multiplier", ())] == float(policy.m_dd) == 0.4  # 12 % drawdown: 10 % <= DD < 15 %
    assert got[("portfolio_exposure_cap", ())] == float(policy.portfolio_cap)
    assert got[("asset_exposure_cap", (("symbol", "BTCTRY"),))] == float(policy.asset_caps["BTCTRY"])
    assert got[("realized_pnl_mtd", ())] == 150.25 and got[("unrealized_pnl", ())] == 1000.0
    assert got[("fees_paid_mtd", ())] == 12.5 and got[("taxes_paid_mtd", ())] == 2.5

    records = [json.loads(line) for line in _log.getvalue().splitlines()]
    (record,) = [r for r in records if r["event"] == "capital.policy"]
    assert record["tradable_capital"] == fmt_amount(policy.tradable)
    assert record["drawdown_multiplier"] == "0.4" and record["fees_paid_mtd"] == "12.5"
    assert set(record["asset_exposure_cap"]) == set(UNIVERSE)
    assert "capital policy: tradable" in record["message"] and "fees 12.5" in record["message"]


def test_an_unpriced_holding_publishes_no_policy_figures(_log: io.StringIO) -> None:
    """Equity is unknown when a held coin has no price: no figure is built on it."""
    metrics = Metrics.create(enabled=True)
    telemetry = Telemetry(metrics=metrics)
    telemetry.attach_books(BooksSource(lambda v, at: pytest.fail("policy computed"),
                                       lambda: pytest.fail("books read"), "TRY", TZ), 60.0)
    telemetry.cycle_finished(view(prices={}), TradingState.ACTIVE, 12.0, NOW)
    assert samples(metrics)[("drawdown_multiplier", ())] == 1.0  # untouched since creation
    assert "capital.policy" not in _log.getvalue()


def test_idle_cycles_reuse_the_books_and_a_fill_reads_them_again() -> None:
    """Steady-cycle CPU is counted in database transactions: an idle cycle (same holdings and
    cash) opens none for the profit figures; a changed holding (a fill) reads the books again."""
    store = seeded_store("12.5", "2.5", genesis=datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    opened: list[int] = []

    def uow() -> FakeUnitOfWork:
        opened.append(1)
        return FakeUnitOfWork(store)

    metrics = Metrics.create(enabled=True)
    telemetry = Telemetry(metrics=metrics)
    risk, capital = risk_params(RiskSettings()), capital_params(CapitalSettings())
    telemetry.attach_books(BooksSource(lambda v, at: compute_capital_policy(v, capital, risk, UNIVERSE, at),
                                       uow, "TRY", TZ), 60.0)
    telemetry.cycle_finished(view(), TradingState.ACTIVE, 12.0, NOW)
    telemetry.cycle_finished(view(prices={"BTCTRY": D("3100000"), "ETHTRY": D("120000")}), TradingState.ACTIVE,
                             12.0, NOW)
    assert len(opened) == 1
    assert samples(metrics)[("unrealized_pnl", ())] == 2000.0  # new price, cached cost: still current
    with FakeUnitOfWork(store) as w:  # a fill: more fees, a bigger position
        w.ledger.post([Posting("TRY", Account.FEES, D("1"), "trade:2"),
                       Posting("TRY", Account.WALLET, D("-1"), "trade:2")], NOW)
        w.commit()
    telemetry.cycle_finished(view(positions={"BTCTRY": D("0.02")}), TradingState.ACTIVE, 12.0, NOW)
    assert len(opened) == 2
    assert samples(metrics)[("fees_paid_mtd", ())] == 13.5


# --- the alert outbox backlog ---------------------------------------------------------------------


class DownWebhook:
    def send(self, alert: Alert, idempotency_key: str) -> None:
        raise AlertDeliveryError("webhook answered 502")


class UpWebhook:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, alert: Alert, idempotency_key: str) -> None:
        self.sent.append(idempotency_key)


def test_the_outbox_backlog_gauge_follows_delivery() -> None:
    store = FakeStore()
    clock = ManualClock(NOW)
    metrics = Metrics.create(enabled=True)
    hub = AlertHub(lambda: FakeUnitOfWork(store), clock, DownWebhook(), AlertPolicy(0))
    telemetry = Telemetry(metrics=metrics, alerts=hub)
    with FakeUnitOfWork(store) as uow:
        for i in range(3):
            telemetry.raise_alert(uow, Alert(AlertKind.STALE_FEED, Severity.WARNING, f"stale {i}", {}, f"k{i}", NOW))
        uow.commit()
    telemetry.flush_alerts()
    assert samples(metrics)[("alert_outbox_pending", ())] == 3.0
    hub_up = AlertHub(lambda: FakeUnitOfWork(store), clock, UpWebhook(), AlertPolicy(0))
    telemetry.alerts = hub_up
    telemetry.flush_alerts()
    assert samples(metrics)[("alert_outbox_pending", ())] == 0.0
