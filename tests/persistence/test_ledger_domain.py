"""Pure ledger rules: legs of a fill, genesis/external reasons, harvest, batch invariants."""

from __future__ import annotations

from decimal import Decimal

import pytest

from btcbot.domain.enums import Side
from btcbot.domain.errors import InvariantViolation
from btcbot.domain.ledger import (
    Account,
    Posting,
    apply_postings,
    check_balances,
    check_batch,
    external_adjustment,
    genesis_postings,
    harvest_transfer,
    postings_for_fill,
)

from .factories import fill


def _by(postings: list[Posting]) -> dict[tuple[Account, str], Decimal]:
    return apply_postings({}, postings)


def test_buy_fill_legs() -> None:
    legs = _by(postings_for_fill(fill(1, Side.BUY, "2500000", "0.001", "3.75", "0.75"), "BTC", "TRY"))
    assert legs == {
        (Account.WALLET, "BTC"): Decimal("0.001"),
        (Account.MARKET, "BTC"): Decimal("-0.001"),
        (Account.WALLET, "TRY"): Decimal("-2500.000") - Decimal("3.75") - Decimal("0.75"),
        (Account.MARKET, "TRY"): Decimal("2500.000"),
        (Account.FEES, "TRY"): Decimal("3.75"),
        (Account.TAXES, "TRY"): Decimal("0.75"),
    }


def test_sell_fill_legs_mirror_the_buy() -> None:
    legs = _by(postings_for_fill(fill(1, Side.SELL, "100.5", "2", "0.2", "0"), "ETH", "TRY"))
    assert legs == {
        (Account.WALLET, "ETH"): Decimal("-2"),
        (Account.MARKET, "ETH"): Decimal("2"),
        (Account.WALLET, "TRY"): Decimal("201.0") - Decimal("0.2"),
        (Account.MARKET, "TRY"): Decimal("-201.0"),
        (Account.FEES, "TRY"): Decimal("0.2"),
    }


def test_fill_postings_balance_and_carry_the_trade_ref() -> None:
    postings = postings_for_fill(fill(77), "BTC", "TRY")
    check_batch(postings)
    assert {p.ref for p in postings} == {"trade:77"}


def test_fill_with_negative_fee_or_zero_quantity_is_refused() -> None:
    with pytest.raises(InvariantViolation):
        postings_for_fill(fill(1, fee="-1"), "BTC", "TRY")
    with pytest.raises(InvariantViolation):
        postings_for_fill(fill(1, quantity="0"), "BTC", "TRY")


def test_external_money_needs_a_reason() -> None:
    with pytest.raises(InvariantViolation, match="reason"):
        genesis_postings("TRY", Decimal(1), "  ")
    with pytest.raises(InvariantViolation, match="reason"):
        external_adjustment("TRY", Decimal(-1), "")
    with pytest.raises(InvariantViolation):
        genesis_postings("TRY", Decimal(0), "x")
    withdrawal = _by(external_adjustment("TRY", Decimal("-5.5"), "withdrawal 2026-01-02"))
    assert withdrawal == {(Account.WALLET, "TRY"): Decimal("-5.5"), (Account.EXTERNAL, "TRY"): Decimal("5.5")}


def test_harvest_moves_wallet_to_reserve() -> None:
    assert _by(harvest_transfer("TRY", Decimal("12.34"))) == {
        (Account.RESERVE, "TRY"): Decimal("12.34"),
        (Account.WALLET, "TRY"): Decimal("-12.34"),
    }
    with pytest.raises(InvariantViolation):
        harvest_transfer("TRY", Decimal(0))


def test_check_batch_rules() -> None:
    with pytest.raises(InvariantViolation, match="empty"):
        check_batch([])
    with pytest.raises(InvariantViolation, match="balance"):
        check_batch([Posting("TRY", Account.WALLET, Decimal("0.0000000000000001"), "r")])
    with pytest.raises(InvariantViolation, match="reason"):
        check_batch([Posting("TRY", Account.EXTERNAL, Decimal(1), "r"), Posting("TRY", Account.WALLET, Decimal(-1), "r")])


def test_wallet_and_reserve_may_not_go_negative_but_market_may() -> None:
    check_balances({(Account.MARKET, "BTC"): Decimal(-1), (Account.WALLET, "BTC"): Decimal(0)})
    with pytest.raises(InvariantViolation, match="wallet:BTC"):
        check_balances({(Account.WALLET, "BTC"): Decimal("-0.00000001")})
    with pytest.raises(InvariantViolation, match="reserve:TRY"):
        check_balances({(Account.RESERVE, "TRY"): Decimal(-1)})


def test_posting_validation() -> None:
    with pytest.raises(TypeError):
        Posting("TRY", Account.WALLET, 1.5, "r")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Posting("TRY", Account.WALLET, Decimal(0), "r")
    with pytest.raises(ValueError):
        Posting("try", Account.WALLET, Decimal(1), "r")
    with pytest.raises(TypeError):
        Posting("TRY", "wallet", Decimal(1), "r")  # type: ignore[arg-type]
