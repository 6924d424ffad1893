"""BtcTurkClient: the real ExchangeClient over BTC Turk's REST API (btcturk_api.md 4-5).

Each method is one route: build params, call the transport (breaker, rate limit, signing,
retries, error mapping), parse the wire schema, return domain values. See docs/exchange.md.
"""

from __future__ import annotations

import random
import urllib.request
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

import requests
from loguru import logger

from btcbot.adapters.btcturk import endpoints as ep
from btcbot.adapters.btcturk import wire
from btcbot.adapters.btcturk.rate_limit import RateLimiter
from btcbot.adapters.btcturk.retry import RetryPolicy
from btcbot.adapters.btcturk.time_sync import TimeSync
from btcbot.adapters.btcturk.transport import Observer, Transport
from btcbot.adapters.btcturk.wire.account import UserTradeWire
from btcbot.adapters.btcturk.wire.outbound import submit_body
from btcbot.config.groups.resilience import ResilienceSettings
from btcbot.config.secrets import Credentials
from btcbot.config.settings import Settings
from btcbot.contracts.clock import Clock
from btcbot.domain.breaker import BreakerBoard, BreakerSettings
from btcbot.domain.errors import ConfigError, ExchangeRejected, OrderNotFound
from btcbot.domain.exchange_models import CancelAck, ExchangeOrder, Fill, OrderRequest, SubmitAck
from btcbot.domain.ids import ExchangeOrderId
from btcbot.domain.market import Balance, Candle, OrderBook, SymbolRules, Ticker
from btcbot.domain.symbols import parse_pair

#: Graph-host resolutions are minutes; these are the bar lengths the bot supports.
SUPPORTED_INTERVALS_S = frozenset({60, 300, 900, 1800, 3600, 14400, 86400})


def _seconds(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError("aware datetimes only")
    return int(when.timestamp())


def _millis(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError("aware datetimes only")
    return int(when.timestamp() * 1000)


def breaker_settings(resilience: ResilienceSettings) -> BreakerSettings:
    return BreakerSettings(
        threshold=resilience.breaker_threshold,
        cooldown_s=resilience.breaker_cooldown_s,
        half_open_probes=resilience.breaker_half_open_probes,
    )


def _session() -> requests.Session:
    """A session that reads proxy settings from the environment ONCE: with ``trust_env`` requests
    re-scans os.environ on every request, a measurable share of an idle cycle's CPU."""
    session = requests.Session()
    session.proxies.update(urllib.request.getproxies())
    session.trust_env = False
    return session


class BtcTurkClient:
    """Implements ``btcbot.contracts.exchange.ExchangeClient`` against BTC Turk.

    ``breakers`` lets the caller share/persist breaker state; ``rate_limiter``, ``rng``,
    ``session`` and ``observer`` are injection points for tests and telemetry. Orders for a
    symbol outside ``allowed_symbols`` (when given) are refused before anything is sent.
    """

    def __init__(
        self,
        *,
        base_url: str,
        graph_url: str,
        credentials: Credentials | None,
        clock: Clock,
        resilience: ResilienceSettings,
        timeout_s: float,
        breakers: BreakerBoard | None = None,
        rate_limiter: RateLimiter | None = None,
        rng: random.Random | None = None,
        session: requests.Session | None = None,
        observer: Observer | None = None,
        allowed_symbols: Iterable[str] | None = None,
    ) -> None:
        self._clock = clock
        self._allowed = None if allowed_symbols is None else frozenset(parse_pair(s).symbol for s in allowed_symbols)
        #: Set once the exchange refused openOrders without pairSymbol (see ``open_orders``).
        self._open_orders_per_symbol = False
        self.breakers = breakers or BreakerBoard(breaker_settings(resilience))
        self._transport = Transport(
            base_url=base_url,
            graph_url=graph_url,
            credentials=credentials,
            clock=clock,
            retry=RetryPolicy.from_settings(resilience),
            breakers=self.breakers,
            limiter=rate_limiter or RateLimiter(clock, max_wait_s=resilience.max_retry_after_s),
            # Jitter only spreads retries; it needs no cryptographic strength.
            rng=rng or random.Random(),  # noqa: S311
            session=session or _session(),
            timeout_s=timeout_s,
            observer=observer,
            time_sync=TimeSync(clock, max_round_trip_s=resilience.time_sync_max_round_trip_s),
        )

    def __repr__(self) -> str:
        return f"BtcTurkClient({self._transport!r})"

    # ------------------------------------------------------------------ bookkeeping

    def request_counts(self) -> dict[str, int]:
        """HTTP requests actually sent, per endpoint name (retries and time syncs included)."""
        return dict(self._transport.counts)

    @property
    def time_offset_ms(self) -> int:
        """Measured server-minus-local clock offset."""
        return self._transport.time_sync.offset_ms

    def exchange_now(self) -> datetime | None:
        """BTC Turk's current time: the last server-time measurement plus the monotonic time
        since (synced first when due, outside the market-data breaker). None when no trusted
        measurement exists; market-data freshness is then unknown, never judged on the local
        clock alone (``services/market_feed.py``)."""
        return self._transport.exchange_now()

    # ------------------------------------------------------------------ market data

    def server_time(self) -> datetime:
        e = ep.SERVER_TIME
        return self._transport.call(e, lambda doc: wire.parse_server_time(e.name, doc))

    def exchange_info(self) -> list[SymbolRules]:
        e = ep.EXCHANGE_INFO
        return self._transport.call(e, lambda doc: wire.parse_exchange_info(e.name, doc))

    def tickers(self, symbols: Collection[str] | None = None) -> list[Ticker]:
        e = ep.TICKERS
        wanted = None if symbols is None else frozenset(parse_pair(s).symbol for s in symbols)
        return self._transport.call(e, lambda doc: wire.parse_tickers(e.name, doc, wanted))

    def order_book(self, symbol: str, limit: int = 100) -> OrderBook:
        e = ep.ORDER_BOOK
        pair = parse_pair(symbol).symbol
        params = {"pairSymbol": pair, "limit": max(1, min(int(limit), 1000))}
        return self._transport.call(e, lambda doc: wire.parse_order_book(e.name, doc, pair), params=params)

    def candles(self, symbol: str, interval_s: int, start: datetime, end: datetime) -> list[Candle]:
        if interval_s not in SUPPORTED_INTERVALS_S:
            raise ValueError(f"unsupported candle interval {interval_s}s")
        e = ep.CANDLES
        pair = parse_pair(symbol).symbol
        params = {"symbol": pair, "resolution": interval_s // 60, "from": _seconds(start), "to": _seconds(end)}
        return self._transport.call(
            e, lambda doc: wire.parse_klines(e.name, doc, pair, interval_s, start, end), params=params
        )

    # ------------------------------------------------------------------ account

    def balances(self) -> list[Balance]:
        e = ep.BALANCES
        return self._transport.call(e, lambda doc: wire.parse_balances(e.name, doc))

    def open_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        """Open orders of one pair, or of all pairs. The docs disagree on whether ``pairSymbol``
        is required (btcturk_api.md 5.3): if the exchange rejects the all-pairs form, this client
        asks once per configured symbol from then on (remembered per client instance)."""
        e = ep.OPEN_ORDERS
        if symbol:
            params = {"pairSymbol": parse_pair(symbol).symbol}
            return self._transport.call(e, lambda doc: wire.parse_open_orders(e.name, doc), params=params)
        if not self._open_orders_per_symbol:
            try:
                return self._transport.call(e, lambda doc: wire.parse_open_orders(e.name, doc))
            except ExchangeRejected as exc:
                if self._allowed is None or isinstance(exc, OrderNotFound):
                    raise
                self._open_orders_per_symbol = True
                logger.bind(event="exchange.open_orders_per_symbol").warning(
                    "openOrders without pairSymbol refused ({}); asking per symbol from now on", exc.error_name
                )
        orders: list[ExchangeOrder] = []
        for pair in sorted(self._allowed or ()):
            orders.extend(self.open_orders(pair))
        return orders

    def all_orders(
        self,
        symbol: str,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> list[ExchangeOrder]:
        e = ep.ALL_ORDERS
        params: dict[str, Any] = {"pairSymbol": parse_pair(symbol).symbol, "limit": max(1, min(int(limit), 1000))}
        # allOrders takes SECONDS (ms gives error 1038), unlike the trade history (ms).
        if start is not None:
            params["startTime"] = _seconds(start)
        if end is not None:
            params["endTime"] = _seconds(end)
        return self._transport.call(e, lambda doc: wire.parse_orders(e.name, doc), params=params)

    def get_order(self, exchange_order_id: int) -> ExchangeOrder | None:
        e = ep.GET_ORDER
        try:
            return self._transport.call(
                e, lambda doc: wire.parse_order(e.name, doc), path_args={"id": int(exchange_order_id)}
            )
        except OrderNotFound:
            return None

    def trades_for_order(self, exchange_order_id: int) -> list[Fill]:
        """Fills of one order. A row that names another ``orderId`` is dropped. A row WITHOUT
        ``orderId`` (the 2019 payload, a damaged answer) is never given the id that was asked
        for: it counts only if its ``orderClientId`` and pair equal the order's (read with
        ``get_order``, one extra request, only when such rows come back); otherwise it is
        ignored and logged."""
        e = ep.ORDER_TRADES
        order_id = int(exchange_order_id)
        # orderId must be the only parameter (btcturk_api.md 5.2).
        rows = self._transport.call(
            e, lambda doc: wire.parse_user_trade_rows(e.name, doc), params={"orderId": order_id}
        )
        fills = [f for f in rows.fills if f.order_id == order_id]
        if rows.orphans:
            fills.extend(self._match_orphans(e.name, order_id, rows.orphans))
        return fills

    def _match_orphans(self, endpoint: str, order_id: int, orphans: list[UserTradeWire]) -> list[Fill]:
        named = [r for r in orphans if r.order_client_id]
        order = self.get_order(order_id) if named else None
        matched = [
            r.to_domain(endpoint, order_id)
            for r in named
            if order is not None and order.client_order_id
            and r.order_client_id == order.client_order_id and r.symbol == order.symbol
        ]  # fmt: skip
        if len(matched) < len(orphans):
            logger.bind(event="exchange.trade_without_order_id", endpoint=endpoint).warning(
                "order {}: {} trade row(s) without orderId and without its client id ignored",
                order_id, len(orphans) - len(matched),
            )  # fmt: skip
        return matched

    def trades(self, symbol: str, start: datetime, end: datetime) -> list[Fill]:
        e = ep.USER_TRADES
        pair = parse_pair(symbol).symbol
        params = {"pairSymbol": pair, "startDate": _millis(start), "endDate": _millis(end)}
        fills = self._transport.call(e, lambda doc: wire.parse_user_trades(e.name, doc), params=params)
        # Filter locally too: a server that ignored pairSymbol must not leak other pairs' fills.
        return [f for f in fills if f.symbol == pair]

    # ------------------------------------------------------------------ orders

    def submit_order(self, request: OrderRequest) -> SubmitAck:
        """POST /api/v1/order. ExchangeRejected = definitively not placed; AmbiguousOutcome =
        maybe placed (look the client id up); CircuitOpen/RateLimited/AuthError/ConfigError and
        a failed time sync are raised before anything is sent."""
        pair = parse_pair(request.symbol).symbol
        if self._allowed is not None and pair not in self._allowed:
            raise ConfigError(f"refusing an order for {pair}: not one of the configured symbols")
        body = submit_body(request)
        e = ep.SUBMIT_ORDER
        fallback = self._clock.now()
        return self._transport.call(e, lambda doc: wire.parse_submit_ack(e.name, doc, request, fallback), body=body)

    def cancel_order(self, exchange_order_id: int) -> CancelAck:
        """DELETE /api/v1/order?id=. The ack means "cancel requested" (cancel is asynchronous)."""
        order_id = int(exchange_order_id)
        e = ep.CANCEL_ORDER
        self._transport.call(e, lambda doc: wire.parse_cancel(e.name, doc), params={"id": order_id})
        return CancelAck(exchange_order_id=ExchangeOrderId(order_id))


def build_btcturk_client(
    settings: Settings, credentials: Credentials | None, clock: Clock, **kw: Any
) -> BtcTurkClient:
    """The client as configured: hosts, timeout, resilience and the five allowed symbols."""
    options: dict[str, Any] = {"allowed_symbols": settings.trading.symbols}
    options.update(kw)
    return BtcTurkClient(
        base_url=str(settings.exchange.base_url),
        graph_url=str(settings.exchange.graph_url),
        credentials=credentials,
        clock=clock,
        resilience=settings.resilience,
        timeout_s=settings.exchange.api_timeout,
        **options,
    )
