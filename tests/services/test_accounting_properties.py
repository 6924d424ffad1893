"""Property: at one constant price nothing is ever profit (issue 11, item 9).

Whatever mix of buys, inflows at the mark (genesis adoption, deposits), withdrawals and sells
(also sells far beyond the recorded position), trading at the price everything was valued at
realizes exactly the fees and taxes paid as a loss, never a gain. Before this change a sell
beyond the recorded position booked its proceeds as profit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from btcbot.backtest.book import MemoryMeta
from btcbot.domain.enums import Side
from btcbot.domain.exchange_models import Fill
from btcbot.domain.ids import ExchangeOrderId, Symbol
from btcbot.services.accounting import cost_basis, realized_by_month, record_external_flow, record_fill

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TOLERANCE = Decimal("1e-15")  # pro-rata splits round at 28 significant digits

qty = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("5"), places=4)
step = st.tuples(st.sampled_from(["buy", "sell", "deposit", "withdraw"]), qty,
                 st.decimals(min_value=Decimal(0), max_value=Decimal("3"), places=2))


@settings(max_examples=200, deadline=None)
@given(price=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2),
       steps=st.lists(step, min_size=1, max_size=25))
def test_trading_at_the_valuation_price_realizes_only_the_charges(
    price: Decimal, steps: list[tuple[str, Decimal, Decimal]]
) -> None:
    meta = MemoryMeta()
    charges_on_covered_sells = Decimal(0)
    for trade_id, (kind, q, fee) in enumerate(steps, start=1):
        if kind == "deposit":
            record_external_flow(meta, "BTC", q, q * price, "TRY")
        elif kind == "withdraw":
            record_external_flow(meta, "BTC", -q, None, "TRY")
        else:
            side = Side.BUY if kind == "buy" else Side.SELL
            held = cost_basis(meta, "BTC").qty
            record_fill(meta, Fill(trade_id, ExchangeOrderId(trade_id), None, Symbol("BTCTRY"), side, price, q, fee, Decimal(0), "TRY", NOW),
                        "BTC", NOW, "Europe/Istanbul")
            if side is Side.SELL and held > 0:
                charges_on_covered_sells += fee * min(q, held) / q
        assert cost_basis(meta, "BTC").qty >= 0
    realized = sum(realized_by_month(meta).values(), Decimal(0))
    assert realized <= TOLERANCE  # never a gain at the price everything was valued at
    # Loss = buy fees carried out with the coins sold + the covered part of the sell fees; at most all fees.
    assert -realized <= sum((f for _, _, f in steps), Decimal(0)) + TOLERANCE
    assert -realized + TOLERANCE >= charges_on_covered_sells - TOLERANCE
