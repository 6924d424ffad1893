"""PaperExchange: the ExchangeClient for ``trading.dry_run=true``.

Market data (server time, exchange info, tickers, order books, candles) comes from any
``MarketData`` (the exchange contract) - in production the wiring passes the BTC Turk client built
WITHOUT credentials, so it physically cannot call a private endpoint; this module does not know it. The account (balances, orders, fills) is simulated here over the
live order book (``paper.matching``) and persisted through a :class:`PaperStateStore` after every
change, so cron runs (one process per cycle) continue the same paper account.

Resting limit orders are matched whenever the account is read (``balances``, ``open_orders``,
``get_order``, trades ...): at most once per ``sync_interval_s``, one order-book request per
symbol that has a resting order. Errors are the same taxonomy as the live adapter's: a refusal is
ExchangeRejected with BTC Turk's name and code; an unknown order id is OrderNotFound on cancel
and None on ``get_order``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from decimal import Decimal

from btcbot.adapters.paper.matching import Matcher, pair_spec
from btcbot.adapters.paper.state import PaperState, PaperStateStore
from btcbot.contracts.clock import Clock
from btcbot.contracts.exchange import MarketData
from btcbot.domain.enums import OrderType, Side, VenueOrderStatus
from btcbot.domain.errors import ConfigError, ExchangeRejected, OrderNotFound
from btcbot.domain.exchange_models import CancelAck, ExchangeOrder, Fill, OrderRequest, SubmitAck
from btcbot.domain.ids import ClientOrderId, ExchangeOrderId, Symbol
from btcbot.domain.market import Balance, Candle, OrderBook, SymbolRules, Ticker
from btcbot.domain.symbols import parse_pair
from btcbot.sim.engine.instruments import PairSpec
from btcbot.sim.engine.orders import (
    BUY,
    CANCELED,
    LIMIT,
    MARKET,
    NO_ORDER_MATCHES_YOUR_REQUEST,
    ORDER_COULD_NOT_BE_CANCELED,
    PAIR_NOT_FOUND,
    SELL,
    UNTOUCHED,
    SimOrder,
    SimReject,
    SimTrade,
)
from btcbot.sim.engine.settlement import FeeSchedule, release_lock
from btcbot.sim.engine.validation import validate_order

BPS = Decimal(10_000)
DEFAULT_SYNC_INTERVAL_S = 1.0
#: Finished orders and their fills are kept this long in the paper state (open orders forever).
DEFAULT_KEEP_DAYS = 90
_STATUS = {
    "Untouched": VenueOrderStatus.UNTOUCHED,
    "Partial": VenueOrderStatus.PARTIAL,
    "Closed": VenueOrderStatus.CLOSED,
    "Canceled": VenueOrderStatus.CANCELED,
}


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class PaperExchange:
    """ExchangeClient: real public market data, simulated private account."""

    def __init__(
        self,
        market: MarketData,
        store: PaperStateStore,
        clock: Clock,
        fees: FeeSchedule,
        quote: str,
        starting_balance: Decimal,
        book_depth: int = 50,
        sync_interval_s: float = DEFAULT_SYNC_INTERVAL_S,
        keep_days: int = DEFAULT_KEEP_DAYS,
        allowed_symbols: Iterable[str] | None = None,
    ) -> None:
        """``allowed_symbols`` (when given): an order for any other pair is refused with ConfigError
        before anything happens, as the live client does (the adapter-level universe guard)."""
        self._allowed = None if allowed_symbols is None else frozenset(parse_pair(s).symbol for s in allowed_symbols)
        self._market = market
        self._store = store
        self._clock = clock
        self._fees = fees
        self._quote = quote
        self._start = starting_balance
        self._depth = book_depth
        self._sync_interval = sync_interval_s
        self._keep_ms = keep_days * 86_400_000
        self._state: PaperState | None = None
        self._specs: dict[str, PairSpec] | None = None
        self._last_sync: float | None = None
        self._calls: Counter[str] = Counter()

    # ---- market data: delegated --------------------------------------------------------

    def server_time(self) -> datetime:
        return self._market.server_time()

    def exchange_info(self) -> list[SymbolRules]:
        return self._market.exchange_info()

    def tickers(self, symbols: Collection[str] | None = None) -> list[Ticker]:
        return self._market.tickers(symbols)

    def order_book(self, symbol: str, limit: int = 100) -> OrderBook:
        return self._market.order_book(symbol, limit)

    def candles(self, symbol: str, interval_s: int, start: datetime, end: datetime) -> list[Candle]:
        return self._market.candles(symbol, interval_s, start, end)

    def request_counts(self) -> dict[str, int]:
        """Real HTTP requests per endpoint (all public: market data); see :meth:`paper_calls`."""
        counts = getattr(self._market, "request_counts", None)
        return dict(counts()) if callable(counts) else {}

    def paper_calls(self) -> dict[str, int]:
        """Simulated account calls per method since construction (no request leaves the process)."""
        return dict(self._calls)

    # ---- state -------------------------------------------------------------------------

    @property
    def state(self) -> PaperState:
        if self._state is None:
            saved = self._store.load()
            self._state = PaperState.from_json(saved) if saved else PaperState.fresh(self._quote, self._start)
        return self._state

    def _save(self) -> None:
        state = self.state
        state.prune(_ms(self._clock.now()) - self._keep_ms)
        self._store.save(state.to_json())

    def _spec(self, symbol: str) -> PairSpec:
        if self._specs is None:
            self._specs = {r.symbol: pair_spec(r) for r in self._market.exchange_info()}
        try:
            pair = parse_pair(symbol).symbol
        except ValueError:
            raise ExchangeRejected(PAIR_NOT_FOUND[0], code=PAIR_NOT_FOUND[1], endpoint="paper") from None
        spec = self._specs.get(pair)
        if spec is None:
            raise ExchangeRejected(PAIR_NOT_FOUND[0], code=PAIR_NOT_FOUND[1], endpoint="paper")
        return spec

    def _matcher(self) -> Matcher:
        state = self.state
        return Matcher(state.accounts, self._fees, state.trades, state.next_trade_id)

    def _sync(self, force: bool = False) -> None:
        """Fill resting limit orders the live book now crosses (one book per symbol)."""
        now_mono = self._clock.monotonic()
        if not force and self._last_sync is not None and now_mono - self._last_sync < self._sync_interval:
            return
        self._last_sync = now_mono
        state = self.state
        resting = [o for o in state.orders.values() if o.is_open]
        if not resting:
            return
        matcher = self._matcher()
        now_ms = _ms(self._clock.now())
        for symbol in sorted({o.symbol for o in resting}):
            book = self._market.order_book(symbol, self._depth)
            spec = self._spec(symbol)
            for order in sorted((o for o in resting if o.symbol == symbol), key=lambda o: o.id):
                matcher.rest(spec, order, book, now_ms)
        if matcher.next_trade_id != state.next_trade_id:
            state.next_trade_id = matcher.next_trade_id
            self._save()

    def _count(self, name: str) -> None:
        self._calls[name] += 1

    # ---- account -----------------------------------------------------------------------

    def balances(self) -> list[Balance]:
        self._count("balances")
        self._sync()
        accounts = self.state.accounts
        assets = sorted(set(accounts.assets()) | {self._quote})
        return [Balance(a, accounts.free(a), accounts.locked(a), accounts.free(a) + accounts.locked(a)) for a in assets]

    def open_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        self._count("open_orders")
        self._sync()
        wanted = parse_pair(symbol).symbol if symbol else None
        rows = [o for o in self.state.orders.values() if o.is_open and (wanted is None or o.symbol == wanted)]
        return [self._order(o) for o in sorted(rows, key=lambda o: -o.id)]

    def all_orders(
        self, symbol: str, start: datetime | None = None, end: datetime | None = None, limit: int = 100
    ) -> list[ExchangeOrder]:
        self._count("all_orders")
        self._sync()
        wanted = parse_pair(symbol).symbol
        lo = _ms(start) if start else None
        hi = _ms(end) if end else None
        rows = [
            o for o in self.state.orders.values()
            if o.symbol == wanted and (lo is None or o.created_ms >= lo) and (hi is None or o.created_ms <= hi)
        ]
        return [self._order(o) for o in sorted(rows, key=lambda o: -o.id)[: max(1, limit)]]

    def get_order(self, exchange_order_id: int) -> ExchangeOrder | None:
        self._count("get_order")
        self._sync()
        order = self.state.orders.get(exchange_order_id)
        return self._order(order) if order else None

    def trades_for_order(self, exchange_order_id: int) -> list[Fill]:
        self._count("trades_for_order")
        self._sync()
        return [self._fill(t) for t in reversed(self.state.trades) if t.order_id == exchange_order_id]

    def trades(self, symbol: str, start: datetime, end: datetime) -> list[Fill]:
        self._count("trades")
        self._sync()
        wanted = parse_pair(symbol).symbol
        lo, hi = _ms(start), _ms(end)
        return [
            self._fill(t) for t in reversed(self.state.trades) if t.symbol == wanted and lo <= t.timestamp_ms <= hi
        ]

    def submit_order(self, request: OrderRequest) -> SubmitAck:
        if self._allowed is not None and parse_pair(request.symbol).symbol not in self._allowed:
            raise ConfigError(f"refusing an order for {request.symbol}: not one of the configured symbols")
        self._count("submit_order")
        self._sync()
        spec = self._spec(request.symbol)
        state = self.state
        side = BUY if request.side is Side.BUY else SELL
        method = LIMIT if request.order_type is OrderType.LIMIT else MARKET
        quantity = request.wire_quantity
        book = self._market.order_book(spec.symbol, self._depth)
        best_bid = book.bids[0].price if book.bids else None
        now_ms = _ms(self._clock.now())
        try:
            need = validate_order(
                spec,
                side=side,
                method=method,
                quantity=quantity,
                price=request.price,
                client_id=request.client_order_id,
                best_bid=best_bid,
                price_band=self._price_band(spec, book),
                reserve_rate=self._fees.reserve_rate,
                accounts=state.accounts,
            )
        except SimReject as exc:
            raise ExchangeRejected(exc.message, code=exc.code, endpoint="paper.submit_order") from None
        is_limit = method == LIMIT
        order = SimOrder(
            id=state.next_order_id,
            client_id=request.client_order_id,
            symbol=Symbol(spec.symbol),
            side=side,
            method=method,
            price=request.price if is_limit and request.price is not None else Decimal(0),
            quantity=quantity,
            amount=quantity if (is_limit or side == SELL) else Decimal(0),
            left=quantity if (is_limit or side == SELL) else Decimal(0),
            status=UNTOUCHED,
            created_ms=now_ms,
            updated_ms=now_ms,
            visible_ms=now_ms,
            lock_asset=need.asset,
            lock_remaining=Decimal(0),
        )
        state.next_order_id += 1
        state.orders[order.id] = order
        matcher = self._matcher()
        if is_limit:
            state.accounts.lock(need.asset, need.amount)
            order.lock_remaining = need.amount
            matcher.take(spec, order, book, now_ms)
        else:
            matcher.execute_market(spec, order, book, now_ms)
        state.next_trade_id = matcher.next_trade_id
        self._save()
        return SubmitAck(
            exchange_order_id=ExchangeOrderId(order.id),
            client_order_id=request.client_order_id,
            symbol=Symbol(spec.symbol),
            side=request.side,
            order_type=request.order_type,
            price=request.price,
            quantity=quantity,
            created_at=_dt(now_ms),
        )

    def cancel_order(self, exchange_order_id: int) -> CancelAck:
        self._count("cancel_order")
        self._sync()
        order = self.state.orders.get(exchange_order_id)
        if order is None:
            name, code = NO_ORDER_MATCHES_YOUR_REQUEST
            raise OrderNotFound(name, code=code, endpoint="paper.cancel_order")
        if order.method == MARKET or not order.is_open:
            name, code = ORDER_COULD_NOT_BE_CANCELED
            raise ExchangeRejected(name, code=code, endpoint="paper.cancel_order")
        order.status = CANCELED
        order.updated_ms = _ms(self._clock.now())
        release_lock(self.state.accounts, order)
        self._save()
        return CancelAck(ExchangeOrderId(exchange_order_id))

    # ---- mapping -----------------------------------------------------------------------

    @staticmethod
    def _price_band(spec: PairSpec, book: OrderBook) -> tuple[Decimal, Decimal]:
        """BTC Turk's limit band is about /10 .. x10 of the price; without a book, anything goes."""
        ref = book.bids[0].price if book.bids else (book.asks[0].price if book.asks else None)
        if ref is None:
            return spec.tick_size, Decimal("1E+18")
        return max(spec.tick_size, ref / 10), ref * 10

    def _order(self, order: SimOrder) -> ExchangeOrder:
        return ExchangeOrder(
            exchange_order_id=ExchangeOrderId(order.id),
            client_order_id=ClientOrderId(order.client_id),
            symbol=Symbol(order.symbol),
            side=Side.BUY if order.side == BUY else Side.SELL,
            order_type=OrderType.LIMIT if order.method == LIMIT else OrderType.MARKET,
            price=order.price,
            amount=order.amount,
            quantity=order.quantity,
            left_amount=order.left,
            status=_STATUS[order.status],
            created_at=_dt(order.created_ms),
            updated_at=_dt(order.updated_ms),
        )

    def _fill(self, trade: SimTrade) -> Fill:
        return Fill(
            trade_id=trade.id,
            order_id=ExchangeOrderId(trade.order_id),
            client_order_id=ClientOrderId(trade.client_id),
            symbol=Symbol(trade.symbol),
            side=Side.BUY if trade.side == BUY else Side.SELL,
            price=trade.price,
            quantity=trade.amount,
            fee=trade.fee,
            tax=trade.tax,
            fee_asset=self._specs_quote(trade.symbol),
            timestamp=_dt(trade.timestamp_ms),
        )

    def _specs_quote(self, symbol: str) -> str:
        return self._spec(symbol).quote


def paper_fee_schedule(maker_fee_bps: Decimal, taker_fee_bps: Decimal, fee_tax_ratio: Decimal) -> FeeSchedule:
    """Maker/taker fee (bps) and the tax on the fee, as the matching engine's schedule."""
    return FeeSchedule(maker_fee_bps / BPS, taker_fee_bps / BPS, fee_tax_ratio)


__all__ = ["PaperExchange", "paper_fee_schedule"]
