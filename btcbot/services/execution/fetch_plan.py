"""What a reconcile pass must fetch, and which local orders it looks at: pure decisions.

A pass costs requests only where something may have changed. ``ReconcileService.gather`` does
the I/O in three steps and asks this module what to do at each:

1. ``plan_lookups`` (database books + the open orders the cycle already has): which local orders
   take part, for which symbols the order history (``allOrders``) is needed and since when, and
   whose trades are fetched. Per non-terminal order the rule is ``order_lookups`` (a table):

   ======================================  =======  ======
   the order                               history  trades
   ======================================  =======  ======
   unresolved (PLANNED/SUBMITTING/UNKNOWN)  yes      if it has an exchange id
   no exchange id (any other state)         yes      no
   left the open list                       yes      yes
   open, the list shows more filled         no       yes
   CANCEL_REQUESTED, still open             no       yes
   open, nothing new                        no       no
   ======================================  =======  ======

   Orders that finished (FILLED/CANCELED) less than ``grace_s`` ago keep their trades fetched
   (a late trade row must still be booked): ``late_fill_orders``. Orders we concluded never
   reached the venue (REJECTED/NOT_PLACED) are looked for during ``NEVER_PLACED_WATCH_S`` after
   that verdict, and later only when a balance shortfall may be their doing (``probe``):
   ``watched_never_placed``.
2. ``unknown_own_rows`` (after the history came back): listed rows with our client-id prefix and
   no local row in this pass; the service asks the database whether it knows them.
3. ``trades_of_listed``: orders found in the lists by client id may already have trades (and
   orders of ours without any local record are adopted in this pass): their trades too.

An idle cycle (open orders unchanged, nothing unresolved, nothing finished lately) fetches
nothing beyond what the cycle already has.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from btcbot.contracts.reconcile import LocalBooks as LocalBooks  # the port's value; kept importable here
from btcbot.domain.enums import OrderState
from btcbot.domain.exchange_models import ExchangeOrder, Fill
from btcbot.domain.ids import ExchangeOrderId
from btcbot.domain.orders import ManagedOrder
from btcbot.services.execution.client_order_id import is_own_client_order_id

S = OrderState
UNRESOLVED = frozenset({S.PLANNED, S.SUBMITTING, S.UNKNOWN})
NEVER_PLACED = frozenset({S.REJECTED, S.NOT_PLACED})
LATE_FILL_STATES = frozenset({S.FILLED, S.CANCELED})
#: How far before an order's creation its symbol's history is asked for (clock skew, list lag).
HISTORY_SLACK = timedelta(minutes=5)
#: How many of the newest local orders (any state) a pass considers for late fills and watches.
LATE_FILL_SCAN = 50
#: How long after a REJECTED/NOT_PLACED verdict the order is still looked for on the exchange
#: (at least the grace period). Later, only a balance shortfall on its assets triggers a look.
NEVER_PLACED_WATCH_S = 900.0


@dataclass(frozen=True)
class OrderLookups:
    history: bool  # its symbol's order history is needed (since its creation - HISTORY_SLACK)
    trades: bool  # its trades are fetched


@dataclass(frozen=True)
class Lookups:
    local: tuple[ManagedOrder, ...]  # the orders this pass reconciles
    open_rows: tuple[ExchangeOrder, ...]  # the exchange's open orders of the universe
    history_since: Mapping[str, datetime]  # symbol -> start of its order history to fetch
    trade_order_ids: frozenset[ExchangeOrderId]  # exchange order ids whose trades are fetched
    dormant_symbols: frozenset[str]  # symbols of older REJECTED/NOT_PLACED orders not looked for


def ledger_with_reserve(wallet: Mapping[str, Decimal], reserve: Decimal, quote: str) -> dict[str, Decimal]:
    """The ledger side of the balance check: the reserve bucket is quote money on the venue."""
    ledger = dict(wallet)
    if reserve:
        ledger[quote] = ledger.get(quote, Decimal(0)) + reserve
    return ledger


def _age_s(order: ManagedOrder, now: datetime) -> float:
    return (now - order.updated_at).total_seconds()


def late_fill_orders(recent: Iterable[ManagedOrder], now: datetime, grace_s: float) -> list[ManagedOrder]:
    """FILLED/CANCELED orders with an exchange id that finished at most ``grace_s`` ago."""
    return [
        o for o in recent
        if o.state in LATE_FILL_STATES and o.exchange_order_id is not None and _age_s(o, now) <= grace_s
    ]


def watched_never_placed(
    recent: Iterable[ManagedOrder], now: datetime, grace_s: float, probe: Collection[str] = frozenset()
) -> tuple[list[ManagedOrder], frozenset[str]]:
    """REJECTED/NOT_PLACED orders without an exchange id: those looked for in this pass (within
    the watch window, or of a ``probe`` symbol) and the symbols of the others (dormant)."""
    watch_s = max(grace_s, NEVER_PLACED_WATCH_S)
    never_placed = [o for o in recent if o.state in NEVER_PLACED and o.exchange_order_id is None]
    watched = [o for o in never_placed if _age_s(o, now) <= watch_s or o.symbol in probe]
    dormant = frozenset(o.symbol for o in never_placed if o not in watched)
    return watched, dormant


def order_lookups(order: ManagedOrder, open_row: ExchangeOrder | None) -> OrderLookups:
    """What a non-terminal local order needs fetched (the table in the module docstring).
    ``open_row``: the exchange's open-order row with its exchange id, None when not listed."""
    xid = order.exchange_order_id
    if order.state in UNRESOLVED or xid is None:
        # Reopened by the exchange's word (it has an id): its trades may be there already.
        return OrderLookups(history=True, trades=xid is not None)
    if open_row is None:
        return OrderLookups(history=True, trades=True)  # left the open list: filled or cancelled
    return OrderLookups(history=False, trades=_shows_progress(order, open_row) or order.state is S.CANCEL_REQUESTED)


def _shows_progress(order: ManagedOrder, row: ExchangeOrder) -> bool:
    return row.left_amount is not None and row.amount - row.left_amount > order.filled_quantity


def _earliest(since: dict[str, datetime], order: ManagedOrder) -> None:
    start = order.created_at - HISTORY_SLACK
    since[order.symbol] = min(since.get(order.symbol, start), start)


def plan_lookups(
    books: LocalBooks,
    open_orders: Iterable[ExchangeOrder],
    universe: Collection[str],
    now: datetime,
    grace_s: float,
    probe: Collection[str] = frozenset(),
) -> Lookups:
    """Step 1: the orders of this pass and what to fetch for them before the history is known."""
    late = late_fill_orders(books.recent_orders, now, grace_s)
    watched, dormant = watched_never_placed(books.recent_orders, now, grace_s, probe)
    open_rows = tuple(r for r in open_orders if r.symbol in universe)
    open_by_id = {r.exchange_order_id: r for r in open_rows}
    since: dict[str, datetime] = {}
    trade_ids: set[ExchangeOrderId] = set()
    for order in books.open_orders:
        xid = order.exchange_order_id
        need = order_lookups(order, open_by_id.get(xid) if xid is not None else None)
        if need.history:
            _earliest(since, order)
        if need.trades and xid is not None:
            trade_ids.add(xid)
    for order in watched:
        _earliest(since, order)
    trade_ids.update(o.exchange_order_id for o in late if o.exchange_order_id is not None)
    return Lookups(
        local=(*books.open_orders, *late, *watched), open_rows=open_rows, history_since=since,
        trade_order_ids=frozenset(trade_ids), dormant_symbols=dormant,
    )


def unknown_own_rows(rows: Iterable[ExchangeOrder], local: Iterable[ManagedOrder]) -> list[ExchangeOrder]:
    """Step 2: listed rows carrying a client id of ours that no order of this pass has."""
    local_cids = {o.client_order_id for o in local}
    return [
        r for r in rows
        if r.client_order_id and r.client_order_id not in local_cids and is_own_client_order_id(r.client_order_id)
    ]


def reopen_candidates(stored: Mapping[str, ManagedOrder | None]) -> tuple[frozenset[str], list[ManagedOrder]]:
    """What the database said about the unknown rows' client ids: the ids it knows, and the orders
    among them recorded as never placed (they are on the exchange after all: reconcile corrects
    them, so they join the pass)."""
    known = frozenset(cid for cid, order in stored.items() if order is not None)
    reopened = [o for o in stored.values() if o is not None and o.state in NEVER_PLACED]
    return known, reopened


def trades_of_listed(
    local: Iterable[ManagedOrder],
    rows: Iterable[ExchangeOrder],
    unknown_rows: Iterable[ExchangeOrder],
    known_client_ids: Collection[str],
) -> frozenset[ExchangeOrderId]:
    """Step 3: exchange ids whose trades are fetched because the lists show them: rows of our
    unresolved or never-placed orders (matched by client id), and rows of ours that have no local
    record at all (adopted in this pass)."""
    by_cid = {o.client_order_id for o in local if o.state in UNRESOLVED | NEVER_PLACED}
    listed = {r.exchange_order_id for r in rows if r.client_order_id in by_cid}
    adopted = {r.exchange_order_id for r in unknown_rows if r.client_order_id not in known_client_ids}
    return frozenset(listed | adopted)


def booked_among(fills: Iterable[Fill], booked: Mapping[int, frozenset[int]]) -> tuple[frozenset[int], list[Fill]]:
    """Which fetched trades the books already say are booked, and the fetched trades of orders
    the books say nothing about (the service looks those up)."""
    known: set[int] = set()
    unchecked: list[Fill] = []
    for fill in fills:
        if fill.order_id not in booked:
            unchecked.append(fill)
        elif fill.trade_id in booked[fill.order_id]:
            known.add(fill.trade_id)
    return frozenset(known), unchecked
