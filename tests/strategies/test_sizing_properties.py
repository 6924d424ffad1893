"""Properties of plan_orders over random books and targets (hypothesis, modest example count)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from btcbot.domain.enums import Side
from btcbot.strategies.sizing import SizingParams, TargetWeight, plan_orders

from ._builders import portfolio

SYMBOLS = ("AAATRY", "BBBTRY", "CCCTRY", "DDDTRY", "EEETRY")
prices_st = st.decimals(min_value="0.01", max_value="100000", places=2)
qty_st = st.decimals(min_value="0", max_value="1000", places=4)
weight_st = st.decimals(min_value="0", max_value="0.2", places=4)


@settings(max_examples=150, deadline=None)
@given(
    cash=st.decimals(min_value="0", max_value="1000000", places=2),
    book=st.lists(st.tuples(qty_st, prices_st), min_size=5, max_size=5),
    weights=st.lists(weight_st, min_size=5, max_size=5),
    band=st.decimals(min_value="0", max_value="0.1", places=3),
    buffer=st.decimals(min_value="0", max_value="200", places=0),
)
def test_plan_orders_invariants(
    cash: Decimal,
    book: list[tuple[Decimal, Decimal]],
    weights: list[Decimal],
    band: Decimal,
    buffer: Decimal,
) -> None:
    view = portfolio(cash, {s: (q, p) for s, (q, p) in zip(SYMBOLS, book, strict=True)})
    prices = {s: p for s, (_, p) in zip(SYMBOLS, book, strict=True)}
    targets = [TargetWeight(s, w, Decimal(40), "p") for s, w in zip(SYMBOLS, weights, strict=True)]
    sizing = SizingParams(drift_band=band, cash_buffer_bps=buffer)
    intents = plan_orders("s1", targets, view, prices, sizing)

    # deterministic and independent of the order the targets come in
    assert plan_orders("s1", list(reversed(targets)), view, prices, sizing) == intents
    sells = [i for i in intents if i.side is Side.SELL]
    buys = [i for i in intents if i.side is Side.BUY]
    assert intents == sells + buys
    assert [i.symbol for i in sells] == sorted(i.symbol for i in sells)
    assert [i.symbol for i in buys] == sorted(i.symbol for i in buys)
    assert len({i.symbol for i in intents}) == len(intents)
    for intent in intents:
        assert intent.quantity > 0 and intent.quantity == intent.quantity.quantize(Decimal("1E-8"))
        assert intent.reference_price == prices[intent.symbol]
    for sell in sells:
        assert sell.quantity <= view.sellable_qty(sell.symbol)
    # buys never cost more than free cash plus what the sells bring in
    spend = sum((b.quantity * b.reference_price for b in buys), Decimal(0))
    income = sum((s.quantity * s.reference_price for s in sells), Decimal(0))
    assert spend <= cash + income
    # every trade moves a weight toward its target by more than the band
    for intent in intents:
        target = next(t.weight for t in targets if t.symbol == intent.symbol)
        current = view.position(intent.symbol) * prices[intent.symbol] / view.equity
        assert abs(target - current) > band
        assert (intent.side is Side.BUY) == (target > current)
