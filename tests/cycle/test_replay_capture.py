"""The replay record (``app.replay_capture``): what the cycle writes, replay reads back unchanged."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date
from decimal import Decimal

from btcbot.app.replay_capture import decision_doc, view_doc, view_from_doc
from btcbot.domain.enums import OrderType, Side, TradingState
from btcbot.domain.intents import Approved, DecisionCode, Denied, OrderIntent
from btcbot.domain.portfolio import PortfolioView

D = Decimal


def _view() -> PortfolioView:
    return PortfolioView(
        quote_asset="TRY", cash_free=D("1000.5"), cash_total=D("1200.25"), positions={"BTCTRY": D("0.0123")},
        prices={"BTCTRY": D("2500000")}, equity=D("31950.25"), high_water=D("32000"), day_start_equity=D("31000"),
        reserve_bucket=D("12.5"), rolling_30d_notional=D("4000"), realized_pnl_mtd=D("-3.75"), harvested_mtd=D("1"),
        trading_state=TradingState.REDUCING, market_data_age_s={"BTCTRY": 1.5},
        open_buy_qty={"ETHTRY": D("0.2")}, open_sell_qty={"BTCTRY": D("0.001")},
        day_start_date=date(2026, 3, 2), pnl_month="2026-03",
    )


def test_every_view_field_survives_the_round_trip_through_json() -> None:
    view = _view()
    back = view_from_doc(json.loads(json.dumps(view_doc(view))), "TRY")
    assert back == view
    # Every field is carried (a new PortfolioView field must be added to the record too), except
    # the quote asset (a setting) and accrued_fees (already inside equity; decide and risk never
    # read it).
    recorded = (set(view_doc(view)) - {"ages"}) | {"market_data_age_s"}
    assert {f.name for f in fields(PortfolioView)} - {"quote_asset", "accrued_fees"} <= recorded


def test_decisions_record_kind_intent_and_denial_code() -> None:
    intent = OrderIntent(strategy_id="s1", symbol="BTCTRY", side=Side.BUY, order_type=OrderType.MARKET,
                         quantity=D("0.01"), reference_price=D("2500000"), expected_edge_bps=D("50"))
    denied = decision_doc(Denied(intent, DecisionCode.RISK_ASSET_EXPOSURE_LIMIT, "over the cap"))
    assert denied == {"kind": "Denied", "symbol": "BTCTRY", "side": "BUY", "type": "MARKET",
                      "quantity": "0.01", "code": DecisionCode.RISK_ASSET_EXPOSURE_LIMIT.value}
    approved = decision_doc(Approved(intent=intent, original=intent, risk_increasing=True))
    assert approved["kind"] == "Approved" and "code" not in approved
