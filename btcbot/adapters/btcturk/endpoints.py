"""The BTC Turk routes the client uses: method, path, host, breaker group, rate-limit key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from btcbot.adapters.btcturk.rate_limit import GRAPH_KEY
from btcbot.domain.enums import EndpointGroup


@dataclass(frozen=True, slots=True)
class Endpoint:
    """``name`` is what ``request_counts()`` and the observer report."""

    name: str
    method: Literal["GET", "POST", "DELETE"]
    path: str
    group: EndpointGroup
    host: Literal["rest", "graph"] = "rest"
    private: bool = False

    @property
    def write(self) -> bool:
        """POST/DELETE: never retried, unanswered means AmbiguousOutcome."""
        return self.method != "GET"

    @property
    def never_resent(self) -> bool:
        """The order POST: whatever its answer, it is looked up, never sent a second time."""
        return self.method == "POST"

    @property
    def route(self) -> str:
        """``"POST /api/v1/order"``: how the order outcome policy names a route."""
        return f"{self.method} {self.path}"

    @property
    def limit_key(self) -> str:
        return GRAPH_KEY if self.host == "graph" else f"{self.method} {self.path}"


MD, ACC, ORD = EndpointGroup.MARKET_DATA, EndpointGroup.ACCOUNT, EndpointGroup.ORDERS

SERVER_TIME = Endpoint("server_time", "GET", "/api/v2/server/time", MD)
EXCHANGE_INFO = Endpoint("exchange_info", "GET", "/api/v2/server/exchangeinfo", MD)
TICKERS = Endpoint("tickers", "GET", "/api/v2/ticker", MD)
ORDER_BOOK = Endpoint("order_book", "GET", "/api/v2/orderbook", MD)
CANDLES = Endpoint("candles", "GET", "/v1/klines/history", MD, host="graph")
BALANCES = Endpoint("balances", "GET", "/api/v1/users/balances", ACC, private=True)
USER_TRADES = Endpoint("trades", "GET", "/api/v1/users/transactions/trade", ACC, private=True)
ORDER_TRADES = Endpoint("trades_for_order", "GET", "/api/v1/users/transactions/trade", ACC, private=True)
OPEN_ORDERS = Endpoint("open_orders", "GET", "/api/v1/openOrders", ORD, private=True)
ALL_ORDERS = Endpoint("all_orders", "GET", "/api/v1/allOrders", ORD, private=True)
GET_ORDER = Endpoint("get_order", "GET", "/api/v1/order/{id}", ORD, private=True)
SUBMIT_ORDER = Endpoint("submit_order", "POST", "/api/v1/order", ORD, private=True)
CANCEL_ORDER = Endpoint("cancel_order", "DELETE", "/api/v1/order", ORD, private=True)
