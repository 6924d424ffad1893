"""Table tests of when a balance verdict is withheld (``execution.drift_verdicts``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from btcbot.domain.enums import OrderState, OrderType, Side
from btcbot.domain.ids import ClientOrderId
from btcbot.services.execution.corrections import BalanceDrift, Correction, ExternalSurplus, MarkNotPlaced
from btcbot.services.execution.drift_verdicts import (
    IN_FLIGHT_MARGIN,
    in_flight_allowance,
    is_withheld,
    order_allowance,
    probe_symbols,
    withhold_verdicts,
)

from .factories import order

S = OrderState
D = Decimal


def drift(asset: str, diff: str) -> BalanceDrift:
    return BalanceDrift(asset, D(100), D(100) + D(diff), D(diff), None)


def surplus(asset: str, diff: str) -> ExternalSurplus:
    return ExternalSurplus(asset, D(100), D(100) + D(diff), D(diff), None)


# correction, allowance, exchange balances known -> withheld
VERDICT_TABLE = [
    pytest.param(drift("TRY", "-5"), {}, True, False, id="drift-nothing-in-flight"),
    pytest.param(surplus("TRY", "5"), {}, True, False, id="surplus-nothing-in-flight"),
    pytest.param(drift("TRY", "-5"), {}, False, True, id="drift-without-balances"),
    pytest.param(surplus("TRY", "5"), {}, False, True, id="surplus-without-balances"),
    pytest.param(drift("TRY", "-5"), {"TRY": D(5)}, True, True, id="drift-exactly-the-allowance"),
    pytest.param(drift("TRY", "-5.01"), {"TRY": D(5)}, True, False, id="drift-beyond-the-allowance"),
    pytest.param(drift("TRY", "-1000"), {"TRY": None}, True, True, id="drift-unbounded-allowance"),
    pytest.param(drift("TRY", "-1"), {"TRY": D(0)}, True, False, id="drift-zero-allowance-other-side"),
    pytest.param(surplus("BTC", "1"), {"BTC": D(0)}, True, True, id="surplus-on-the-other-side"),
    pytest.param(drift("ETH", "-1"), {"TRY": None}, True, False, id="drift-other-asset"),
    pytest.param(MarkNotPlaced(ClientOrderId("x")), {}, False, False, id="other-kinds-never-withheld"),
]


@pytest.mark.parametrize(("correction", "allowance", "balances_known", "withheld"), VERDICT_TABLE)
def test_is_withheld_table(
    correction: Correction, allowance: dict[str, Decimal | None], balances_known: bool, withheld: bool
) -> None:
    assert is_withheld(correction, allowance, balances_known) is withheld
    kept = withhold_verdicts([correction], allowance, balances_known)
    assert kept == (() if withheld else (correction,))


# side, type, quantity, price, quote amount -> allowance per asset (BTCTRY)
ALLOWANCE_TABLE = [
    pytest.param(Side.BUY, OrderType.LIMIT, "2", "100", None, {"TRY": D(200) * IN_FLIGHT_MARGIN, "BTC": D(0)},
                 id="limit-buy-spends-qty-times-price"),
    pytest.param(Side.BUY, OrderType.MARKET, "2", None, "150", {"TRY": D(150) * IN_FLIGHT_MARGIN, "BTC": D(0)},
                 id="market-buy-spends-its-quote-amount"),
    pytest.param(Side.BUY, OrderType.MARKET, "2", None, None, {"TRY": None, "BTC": D(0)},
                 id="buy-without-price-is-unbounded"),
    pytest.param(Side.SELL, OrderType.LIMIT, "2", "100", None, {"BTC": D(2), "TRY": D(0)},
                 id="sell-sells-its-quantity"),
]


@pytest.mark.parametrize(("side", "kind", "qty", "price", "quote", "expected"), ALLOWANCE_TABLE)
def test_order_allowance_table(
    side: Side, kind: OrderType, qty: str, price: str | None, quote: str | None,
    expected: dict[str, Decimal | None],
) -> None:
    o = order(S.UNKNOWN, side=side, order_type=kind, quantity=D(qty), price=None if price is None else D(price),
              quote_amount=None if quote is None else D(quote))
    assert order_allowance(o) == expected


@pytest.mark.parametrize(
    ("states", "expected_try"),
    [
        pytest.param([S.UNKNOWN, S.SUBMITTING], D(300) * IN_FLIGHT_MARGIN, id="two-in-flight-add-up"),
        pytest.param([S.UNKNOWN, S.OPEN], D(150) * IN_FLIGHT_MARGIN, id="open-orders-are-not-in-flight"),
        pytest.param([S.FILLED], None, id="nothing-in-flight-no-entry"),
    ],
)
def test_in_flight_allowance_sums_unresolved_orders(states: list[OrderState], expected_try: Decimal | None) -> None:
    orders = [order(s, client_order_id=f"c{i}", quote_amount=D(150), price=None) for i, s in enumerate(states)]
    allowance = in_flight_allowance(orders)
    assert allowance.get("TRY") == expected_try
    assert ("TRY" in allowance) is (expected_try is not None)


def test_an_unbounded_order_makes_the_sum_unbounded() -> None:
    bounded = order(S.UNKNOWN, client_order_id="a", quote_amount=D(150), price=None)
    unbounded = order(S.UNKNOWN, client_order_id="b", quote_amount=None, price=None)
    assert in_flight_allowance([bounded, unbounded])["TRY"] is None
    assert in_flight_allowance([unbounded, bounded])["TRY"] is None


@pytest.mark.parametrize(
    ("dormant", "short", "expected"),
    [
        pytest.param({"BTCTRY", "ETHTRY"}, {"BTC"}, {"BTCTRY"}, id="base-short"),
        pytest.param({"BTCTRY", "ETHTRY"}, {"TRY"}, {"BTCTRY", "ETHTRY"}, id="quote-short-touches-all"),
        pytest.param({"BTCTRY"}, {"XRP"}, set(), id="unrelated-asset"),
        pytest.param(set(), {"TRY"}, set(), id="nothing-dormant"),
    ],
)
def test_probe_symbols_table(dormant: set[str], short: set[str], expected: set[str]) -> None:
    assert probe_symbols(dormant, short) == expected
