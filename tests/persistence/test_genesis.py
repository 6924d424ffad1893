"""Genesis records starting capital once, capped by the allocation, coins only when adopted."""

from __future__ import annotations

from decimal import Decimal

from btcbot.domain.ledger import Account
from btcbot.persistence.genesis import record_genesis

from .conftest import UowFactory
from .factories import T0, later


def test_genesis_caps_quote_and_skips_holdings_unless_adopted(uow_factory: UowFactory) -> None:
    holdings = {"BTC": Decimal("0.5"), "TRY": Decimal("999")}
    with uow_factory() as uow:
        made = record_genesis(uow, Decimal("25000.50"), "TRY", Decimal("10000"), holdings, False, T0)
        assert [p.asset for p in made] == ["TRY", "TRY"]
        uow.commit()
    with uow_factory() as uow:
        assert uow.ledger.wallet_balances() == {"TRY": Decimal("10000")}
        assert uow.ledger.balance(Account.EXTERNAL, "TRY") == Decimal("-10000")
        assert all(e.reason for e in uow.ledger.entries("genesis"))
        # Idempotent: a second call (another start) changes nothing.
        assert record_genesis(uow, Decimal("50000"), "TRY", None, holdings, True, later(1)) == []
        uow.commit()
    with uow_factory() as uow:
        assert uow.ledger.wallet_balances() == {"TRY": Decimal("10000")}


def test_genesis_adopts_holdings_and_uses_all_quote_without_allocation(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        record_genesis(uow, Decimal("1234.5"), "TRY", None, {"BTC": Decimal("0.01"), "ETH": Decimal(0)}, True, T0)
        uow.commit()
    with uow_factory() as uow:
        assert uow.ledger.wallet_balances() == {"TRY": Decimal("1234.5"), "BTC": Decimal("0.01")}
        assert uow.ledger.check_invariants() == []


def test_genesis_rolled_back_can_run_again(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        record_genesis(uow, Decimal(100), "TRY", None, None, False, T0)
    with uow_factory() as uow:
        assert len(record_genesis(uow, Decimal(100), "TRY", None, None, False, T0)) == 2
        uow.commit()
    with uow_factory() as uow:
        assert uow.ledger.wallet_balances() == {"TRY": Decimal(100)}


def test_genesis_with_zero_balance_still_marks_done(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        assert record_genesis(uow, Decimal(0), "TRY", Decimal(10), None, False, T0) == []
        uow.commit()
    with uow_factory() as uow:
        assert record_genesis(uow, Decimal(100), "TRY", None, None, False, later(1)) == []
        assert uow.ledger.wallet_balances() == {}
