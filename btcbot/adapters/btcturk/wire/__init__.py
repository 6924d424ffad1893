"""BTC Turk wire schemas (pydantic, separate from the domain) and their parsers.

Every ``parse_*`` takes the endpoint name and the decoded JSON document and returns domain
values or raises MalformedPayload(endpoint, field, problem); nothing else escapes.
"""

from btcbot.adapters.btcturk.wire._decode import Envelope, decode_json, envelope, unwrap
from btcbot.adapters.btcturk.wire.account import (
    TradeRows,
    parse_balances,
    parse_cancel,
    parse_open_orders,
    parse_order,
    parse_orders,
    parse_submit_ack,
    parse_user_trade_rows,
    parse_user_trades,
)
from btcbot.adapters.btcturk.wire.market import (
    parse_exchange_info,
    parse_klines,
    parse_order_book,
    parse_server_time,
    parse_tickers,
)

__all__ = [
    "Envelope",
    "TradeRows",
    "decode_json",
    "envelope",
    "parse_balances",
    "parse_cancel",
    "parse_exchange_info",
    "parse_klines",
    "parse_open_orders",
    "parse_order",
    "parse_order_book",
    "parse_orders",
    "parse_server_time",
    "parse_submit_ack",
    "parse_tickers",
    "parse_user_trade_rows",
    "parse_user_trades",
    "unwrap",
]
