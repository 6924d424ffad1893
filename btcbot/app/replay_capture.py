"""The replay record of a cycle (``cycles.decision_inputs``) and its way back: one module for both
directions, so the format cannot drift between writer (the cycle) and reader (``btcbot replay``).

The record is compact JSON: tickers, the newest candle time and the candle count per symbol (the
bars themselves live in the candle store), the portfolio view decide + risk saw, and what was
decided. The format is stable: records written by older versions still replay.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from btcbot.domain.enums import TradingState
from btcbot.domain.intents import Denied, RiskDecision
from btcbot.domain.portfolio import PortfolioView
from btcbot.services.market_feed import MarketState

#: json.dumps(doc, sort_keys=True, separators=(",", ":")) with the encoder built once.
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


def decision_inputs(
    market: MarketState, view: PortfolioView, intents: Sequence[Any], decisions: Sequence[RiskDecision]
) -> str:
    """Compact replay record: tickers, the newest candle time per symbol (bars themselves live in
    the candle store), the portfolio view, and what was decided."""
    doc = {
        "tickers": {s: [str(t.bid), str(t.ask), str(t.last), t.timestamp.isoformat()]
                    for s, t in sorted(market.tickers.items())},
        "candles_until": {s: bars[-1].open_time.isoformat() for s, bars in sorted(market.candles.items()) if bars},
        "candle_count": {s: len(bars) for s, bars in sorted(market.candles.items())},
        "view": view_doc(view),
        "decisions": [decision_doc(x) for x in decisions],
    }
    return _ENCODE(doc)


def view_doc(view: PortfolioView) -> dict[str, Any]:
    return {
        "cash_free": str(view.cash_free), "cash_total": str(view.cash_total), "equity": str(view.equity),
        "high_water": str(view.high_water), "day_start_equity": str(view.day_start_equity),
        "reserve_bucket": str(view.reserve_bucket), "rolling_30d_notional": str(view.rolling_30d_notional),
        "realized_pnl_mtd": str(view.realized_pnl_mtd), "harvested_mtd": str(view.harvested_mtd),
        "trading_state": view.trading_state.value,
        "positions": {k: str(v) for k, v in view.positions.items()},
        "prices": {k: str(v) for k, v in view.prices.items()},
        "ages": dict(view.market_data_age_s.items()),
        "open_buy_qty": {k: str(v) for k, v in view.open_buy_qty.items()},
        "open_sell_qty": {k: str(v) for k, v in view.open_sell_qty.items()},
        "day_start_date": view.day_start_date.isoformat() if view.day_start_date else None,
        "pnl_month": view.pnl_month,
    }


def view_from_doc(doc: dict[str, Any], quote: str) -> PortfolioView:
    """``view_doc`` read back (the quote asset is a setting, not part of the record)."""
    dec = Decimal
    return PortfolioView(
        quote_asset=quote, cash_free=dec(doc["cash_free"]), cash_total=dec(doc["cash_total"]),
        positions={k: dec(v) for k, v in doc["positions"].items()},
        prices={k: dec(v) for k, v in doc["prices"].items()},
        equity=dec(doc["equity"]), high_water=dec(doc["high_water"]), day_start_equity=dec(doc["day_start_equity"]),
        reserve_bucket=dec(doc["reserve_bucket"]), rolling_30d_notional=dec(doc["rolling_30d_notional"]),
        realized_pnl_mtd=dec(doc["realized_pnl_mtd"]), harvested_mtd=dec(doc["harvested_mtd"]),
        trading_state=TradingState(doc["trading_state"]), market_data_age_s=dict(doc["ages"]),
        open_buy_qty={k: dec(v) for k, v in doc["open_buy_qty"].items()},
        open_sell_qty={k: dec(v) for k, v in doc["open_sell_qty"].items()},
        day_start_date=datetime.fromisoformat(doc["day_start_date"]).date() if doc["day_start_date"] else None,
        pnl_month=doc["pnl_month"],
    )


def decision_doc(decision: RiskDecision) -> dict[str, Any]:
    intent = decision.intent
    doc: dict[str, Any] = {
        "kind": type(decision).__name__, "symbol": intent.symbol, "side": intent.side.value,
        "type": intent.order_type.value, "quantity": str(intent.quantity),
    }
    if isinstance(decision, Denied):
        doc["code"] = decision.code.value
    return doc
