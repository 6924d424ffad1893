from __future__ import annotations

from decimal import Decimal

import pytest

from btcbot.adapters.btcturk.wire.outbound import plain_decimal, submit_body
from btcbot.domain.enums import OrderType, Side
from btcbot.domain.exchange_models import OrderRequest
from btcbot.domain.ids import ClientOrderId, Symbol


@pytest.mark.parametrize(
    "value,text",
    [
        (Decimal("0.001"), "0.001"),
        (Decimal("1E-8"), "0.00000001"),
        (Decimal("1E+2"), "100"),
        (Decimal("3612000.00"), "3612000"),
        (Decimal("0.10"), "0.1"),
        (Decimal("0"), "0"),
    ],
)
def test_plain_decimal(value: Decimal, text: str) -> None:
    assert plain_decimal(value) == text


@pytest.mark.parametrize("value", [Decimal("-1"), Decimal("NaN"), Decimal("1E+13"), Decimal("1E-17")])
def test_plain_decimal_refuses_illegal(value: Decimal) -> None:
    with pytest.raises(ValueError):
        plain_decimal(value)


def test_limit_body() -> None:
    req = OrderRequest(Symbol("BTCTRY"), Side.SELL, OrderType.LIMIT, ClientOrderId("cid"), base_quantity=Decimal("0.00100000"), price=Decimal("5E+4"))
    assert submit_body(req) == {
        "quantity": "0.001",
        "price": "50000",
        "stopPrice": "0",
        "newOrderClientId": "cid",
        "orderMethod": "limit",
        "orderType": "sell",
        "pairSymbol": "BTCTRY",
    }


def test_market_buy_sends_quote_amount_like_staff_example() -> None:
    req = OrderRequest(Symbol("BTCUSDT"), Side.BUY, OrderType.MARKET, ClientOrderId("cid"), quote_amount=Decimal("100.00"))
    body = submit_body(req)
    assert body["quantity"] == "100" and body["orderMethod"] == "market" and body["orderType"] == "buy"
    assert "price" not in body and body["stopPrice"] == "0"


def test_market_sell_sends_base_quantity() -> None:
    req = OrderRequest(Symbol("BTCUSDT"), Side.SELL, OrderType.MARKET, ClientOrderId("cid"), base_quantity=Decimal("0.001"))
    assert submit_body(req)["quantity"] == "0.001"
