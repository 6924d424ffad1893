"""SimExchange: the pure matching engine behind the simulator (no I/O, no clock of its own).

Time is pushed in with ``advance_to(ms)``; between two calls nothing happens. In one advance the
engine replays, in time order, every price tick (fixed ``tick_seconds`` grid from the start time)
and every due cancel. Limit orders rest and fill as the path crosses them, at most the tick's
traded volume per tick (thin markets give partial fills); market orders and crossing limit orders
walk the synthetic book. The HTTP facade and a paper-trading exchange can both drive this class.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from decimal import Decimal

from btcbot.sim.engine.accounts import Accounts
from btcbot.sim.engine.book import Book
from btcbot.sim.engine.config import EngineConfig
from btcbot.sim.engine.instruments import PairSpec, normalize_symbol, resolve_pairs
from btcbot.sim.engine.money import round_down_scale
from btcbot.sim.engine.orders import (
    BUY,
    CANCELED,
    CLOSED,
    LIMIT,
    MARKET,
    NO_ORDER_MATCHES_YOUR_REQUEST,
    ORDER_COULD_NOT_BE_CANCELED,
    ORDER_NOT_FOUND,
    PAIR_NOT_FOUND,
    PARTIAL,
    SELL,
    UNTOUCHED,
    PublicTrade,
    SimOrder,
    SimTrade,
    reject,
)
from btcbot.sim.engine.pairs import PairState
from btcbot.sim.engine.pricepath import PriceSource, RandomWalkSource, ReplaySource
from btcbot.sim.engine.settlement import FeeSchedule, release_lock, settle_fill
from btcbot.sim.engine.validation import validate_order

#: Ids start above 2**53 so clients that parse JSON ids as float64 break loudly in tests.
ORDER_ID_START = 2**53 + 1_000
TRADE_ID_START = 2**53 + 500_000_000
PUBLIC_TRADE_ID_START = 636_692_470_417_865_271


class SimExchange:
    """Deterministic simulated venue for one account."""

    def __init__(self, config: EngineConfig, start_ms: int) -> None:
        self.config = config
        self.fees = FeeSchedule(config.maker_fee_rate, config.taker_fee_rate, config.tax_rate)
        self.accounts = Accounts({k.upper(): v for k, v in config.balances.items()})
        self._tick_ms = max(1, round(config.tick_seconds * 1000))
        self._cancel_delay_ms = round(config.cancel_delay_s * 1000)
        self._now_ms = start_ms
        self._next_tick_ms = start_ms + self._tick_ms
        self._ids = random.Random(f"{config.seed}:client-ids")  # noqa: S311 - deterministic ids
        self._next_order_id = ORDER_ID_START
        self._next_trade_id = TRADE_ID_START
        self._next_tid = PUBLIC_TRADE_ID_START
        self.orders: dict[int, SimOrder] = {}
        self.trades: list[SimTrade] = []
        self._pending_cancels: set[int] = set()
        #: Open orders by id: ticks scan these, not the whole history.
        self._open: dict[int, SimOrder] = {}
        self.pairs: dict[str, PairState] = {}
        for spec in resolve_pairs(config.symbols):
            source = self._source_for(spec)
            state = PairState(spec, source, source.initial_price(start_ms))
            state.candles.load(
                source.history(start_ms // 1000 - (start_ms // 1000) % 60, config.history_minutes)
            )
            # The start minute has a bar from the start on (the start price, volume 0): with 10 s
            # ticks a simulator started in a minute's last 10 s would otherwise leave that minute
            # without a bar between the history and the first tick.
            state.candles.record(start_ms // 1000, state.price, Decimal(0))
            self.pairs[spec.symbol] = state

    def _source_for(self, spec: PairSpec) -> PriceSource:
        bars = self.config.replay.get(spec.symbol)
        if bars:
            return ReplaySource(spec, bars)
        return RandomWalkSource(spec, self.config.seed, self.config.tick_seconds)

    # ----------------------------------------------------------------- time
    @property
    def now_ms(self) -> int:
        return self._now_ms

    def advance_to(self, now_ms: int) -> None:
        """Replay ticks and due cancels up to ``now_ms`` (a time in the past is a no-op)."""
        while True:
            due_cancel = min((self.orders[i].cancel_at_ms or 0 for i in self._pending_cancels), default=None)
            if due_cancel is not None and due_cancel < self._next_tick_ms and due_cancel <= now_ms:
                self._now_ms = max(self._now_ms, due_cancel)
                self._finalize_cancels(due_cancel)
            elif self._next_tick_ms <= now_ms:
                self._now_ms = self._next_tick_ms
                self._tick()
                self._next_tick_ms += self._tick_ms
            else:
                break
        self._now_ms = max(self._now_ms, now_ms)

    def _finalize_cancels(self, at_ms: int) -> None:
        for order_id in sorted(self._pending_cancels):
            order = self.orders[order_id]
            if order.cancel_at_ms is not None and order.cancel_at_ms <= at_ms:
                self._pending_cancels.discard(order_id)
                if order.is_open:
                    order.status = CANCELED
                    order.updated_ms = at_ms
                    release_lock(self.accounts, order)
                    self._open.pop(order.id, None)

    def _tick(self) -> None:
        for state in self.pairs.values():
            previous = state.price
            price, volume = state.source.next_tick(self._now_ms, previous)
            state.move_to(price)
            self._print(state, BUY if state.price >= previous else SELL, state.price, volume)
            self._match_resting(state, volume)

    def _print(self, state: PairState, side: str, price: Decimal, amount: Decimal) -> None:
        if amount <= 0:
            return
        state.candles.record(self._now_ms // 1000, price, amount)
        state.tape.append(PublicTrade(self._next_tid, state.spec.symbol, side, price, amount, self._now_ms))
        self._next_tid += 1

    def _match_resting(self, state: PairState, liquidity: Decimal) -> None:
        """Fill resting orders the new price crossed, best price then oldest first, up to liquidity."""
        price = state.price
        crossed = [
            o
            for o in self._open.values()
            if o.symbol == state.spec.symbol
            and ((o.side == BUY and price <= o.price) or (o.side == SELL and price >= o.price))
        ]
        crossed.sort(key=lambda o: (-o.price if o.side == BUY else o.price, o.id))
        for order in crossed:
            if liquidity <= 0:
                break
            amount = min(order.left, liquidity)
            self._fill(state, order, amount, order.price, maker=True)
            liquidity -= amount

    # ----------------------------------------------------------------- orders
    def pair(self, symbol: str) -> PairState:
        """State of a listed pair (``BTCTRY`` or ``BTC_TRY``); unknown -> PAIR_NOT_FOUND."""
        state = self.pairs.get(normalize_symbol(symbol))
        if state is None:
            raise reject(PAIR_NOT_FOUND)
        return state

    def book(self, symbol: str) -> Book:
        return self.pair(symbol).book(self.config.book_depth, self.config.seed)

    def place_order(
        self,
        *,
        symbol: str,
        side: str,
        method: str,
        quantity: Decimal,
        price: Decimal | None = None,
        client_id: str | None = None,
        visible_delay_ms: int = 0,
    ) -> SimOrder:
        """Validate, accept and (for market/crossing orders) execute a new order."""
        state = self.pair(symbol)
        spec = state.spec
        side, method = side.lower(), method.lower()
        book = self.book(spec.symbol)
        cid = client_id if client_id else str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
        need = validate_order(
            spec,
            side=side,
            method=method,
            quantity=quantity,
            price=price,
            client_id=cid,
            best_bid=book.best_bid,
            price_band=state.limit_price_band(),
            reserve_rate=self.fees.reserve_rate,
            accounts=self.accounts,
        )
        is_limit = method == LIMIT
        order = SimOrder(
            id=self._next_order_id,
            client_id=cid,
            symbol=spec.symbol,
            side=side,
            method=method,
            price=price if is_limit and price is not None else Decimal(0),
            quantity=quantity,
            amount=quantity if (is_limit or side == SELL) else Decimal(0),
            left=quantity if (is_limit or side == SELL) else Decimal(0),
            status=UNTOUCHED,
            created_ms=self._now_ms,
            updated_ms=self._now_ms,
            visible_ms=self._now_ms + max(0, visible_delay_ms),
            lock_asset=need.asset,
            lock_remaining=Decimal(0),
        )
        self._next_order_id += 1
        self.orders[order.id] = order
        if is_limit:
            self.accounts.lock(need.asset, need.amount)
            order.lock_remaining = need.amount
            self._take_liquidity(state, order, book, limit=order.price)
            if order.is_open:
                self._open[order.id] = order
        else:
            self._execute_market(state, order, book)
        return order

    def _take_liquidity(self, state: PairState, order: SimOrder, book: Book, limit: Decimal) -> None:
        """Fill a crossing limit order against the book at level prices up to its limit (taker)."""
        levels = book.asks if order.side == BUY else book.bids
        for level in levels:
            if order.left <= 0 or (level.price > limit if order.side == BUY else level.price < limit):
                break
            amount = min(order.left, level.amount)
            state.depletion.take("ask" if order.side == BUY else "bid", level.price, amount)
            self._fill(state, order, amount, level.price, maker=False)

    def _execute_market(self, state: PairState, order: SimOrder, book: Book) -> None:
        """Walk the book within the protection band; market orders always end Closed."""
        band = self.config.market_band
        spec = state.spec
        if order.side == BUY:
            best = book.best_ask
            remaining_quote = order.quantity
            for level in book.asks:
                if best is None or level.price > best * (1 + band):
                    break
                amount = min(
                    level.amount, round_down_scale(remaining_quote / level.price, spec.numerator_scale)
                )
                if amount <= 0:
                    break
                state.depletion.take("ask", level.price, amount)
                order.amount += amount
                order.left += amount
                self._fill(state, order, amount, level.price, maker=False)
                remaining_quote -= amount * level.price
        else:
            best = book.best_bid
            for level in book.bids:
                if order.left <= 0 or best is None or level.price < best * (1 - band):
                    break
                amount = min(order.left, level.amount)
                state.depletion.take("bid", level.price, amount)
                self._fill(state, order, amount, level.price, maker=False)
        order.status = CLOSED
        order.updated_ms = self._now_ms

    def _fill(self, state: PairState, order: SimOrder, amount: Decimal, price: Decimal, maker: bool) -> None:
        fee, tax = settle_fill(self.accounts, state.spec, self.fees, order, amount, price, maker)
        if order.method == MARKET and order.filled == 0:
            order.price = price  # the reference shows an execution price on market rows
        order.left -= amount
        order.quote_spent += amount * price
        order.updated_ms = self._now_ms
        self.trades.append(
            SimTrade(
                self._next_trade_id,
                order.id,
                order.client_id,
                order.symbol,
                order.side,
                price,
                amount,
                fee,
                tax,
                self._now_ms,
                maker,
            )
        )
        self._next_trade_id += 1
        self._print(state, order.side, price, amount)
        if order.method == LIMIT:
            order.status = CLOSED if order.left == 0 else PARTIAL
            if order.status == CLOSED:
                release_lock(self.accounts, order)
                self._pending_cancels.discard(order.id)
                self._open.pop(order.id, None)

    def cancel_order(self, order_id: int) -> SimOrder:
        """Accept a cancel request; the order becomes Canceled after ``cancel_delay_s`` (async)."""
        order = self.orders.get(order_id)
        if order is None:
            raise reject(NO_ORDER_MATCHES_YOUR_REQUEST)
        if order.method == MARKET or not order.is_open:
            raise reject(ORDER_COULD_NOT_BE_CANCELED)
        if order.cancel_at_ms is None:
            order.cancel_at_ms = self._now_ms + self._cancel_delay_ms
            self._pending_cancels.add(order.id)
            if self._cancel_delay_ms == 0:
                self._finalize_cancels(self._now_ms)
        return order

    # ----------------------------------------------------------------- queries
    def get_order(self, order_id: int) -> SimOrder:
        order = self.orders.get(order_id)
        if order is None:
            raise reject(ORDER_NOT_FOUND)
        return order

    def _visible(self) -> Iterable[SimOrder]:
        return (o for o in self.orders.values() if o.visible_ms <= self._now_ms)

    def open_orders(self, symbol: str | None = None) -> list[SimOrder]:
        """Open, visible orders (optionally of one pair), newest first."""
        wanted = self.pair(symbol).spec.symbol if symbol else None
        found = [
            o
            for o in self._open.values()
            if o.visible_ms <= self._now_ms and (wanted is None or o.symbol == wanted)
        ]
        return sorted(found, key=lambda o: -o.id)

    def all_orders(
        self, symbol: str, *, min_id: int = 0, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[SimOrder]:
        """Visible orders of a pair, newest first, filtered by id floor and creation time."""
        wanted = self.pair(symbol).spec.symbol
        found = [
            o
            for o in self._visible()
            if o.symbol == wanted
            and o.id >= min_id
            and (start_ms is None or o.created_ms >= start_ms)
            and (end_ms is None or o.created_ms <= end_ms)
        ]
        return sorted(found, key=lambda o: -o.id)

    def user_trades(
        self,
        *,
        order_id: int | None = None,
        symbol: str | None = None,
        sides: tuple[str, ...] = (),
        assets: tuple[str, ...] = (),
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[SimTrade]:
        """The account's fills, newest first; ``order_id`` alone overrides every other filter."""
        if order_id is not None:
            return [t for t in reversed(self.trades) if t.order_id == order_id]
        wanted = self.pair(symbol).spec.symbol if symbol else None
        lo = start_ms if start_ms is not None else self._now_ms - 30 * 86_400_000
        hi = end_ms if end_ms is not None else self._now_ms
        upper_assets = {a.upper() for a in assets}
        out = []
        for t in reversed(self.trades):
            spec = self.pairs[t.symbol].spec
            if wanted is not None and t.symbol != wanted:
                continue
            if sides and t.side not in sides:
                continue
            if upper_assets and not ({spec.base, spec.quote} & upper_assets):
                continue
            if lo <= t.timestamp_ms <= hi:
                out.append(t)
        return out

    # ----------------------------------------------------------------- admin
    def set_balance(self, asset: str, amount: Decimal) -> None:
        """Set the free balance of ``asset`` (locked funds of open orders stay as they are)."""
        self.accounts.set_free(asset, amount)

    def set_price(self, symbol: str, price: Decimal) -> None:
        """Jump a pair's price now (a new tick): resting orders it crosses fill like on a tick."""
        state = self.pair(symbol)
        if price <= 0:
            raise ValueError("price must be > 0")
        previous = state.price
        state.move_to(price)
        volume = round_down_scale(state.spec.level_notional / state.price, state.spec.numerator_scale)
        self._print(state, BUY if state.price >= previous else SELL, state.price, volume)
        self._match_resting(state, volume)
