"""Reconciliation as a pure function: local orders, exchange truth, fills, balances -> report.

The cycle fetches (open orders, recent all-orders of our pairs, recent fills of our orders,
balances, prices), loads the local non-terminal orders (plus any terminal ones it has at hand)
and the trade ids among the fetched fills that are already recorded, calls ``reconcile`` and
executes the corrections in the report's order (see ``corrections``).

Rules:
- Ours vs foreign: an exchange order or fill is ours when its exchange id belongs to a local
  order or its client id parses as ours (``client_order_id``). Foreign ones are never touched,
  only counted.
- Fills: every fill of ours whose trade id is not in ``known_trade_ids`` (and not seen earlier in
  the same input) becomes one ApplyFill. A fill carrying our client id but belonging to an
  exchange order other than the one we track (a duplicate) is an OrderConflict, not a fill of
  our order.
- Orders: local fills are simulated first, then the exchange row is applied
  (``on_exchange_order``); a resulting change is an UpdateOrderState. Unresolved orders go
  through ``lookup.resolve_unknown``. An open local order missing from the open orders and without
  a final row in the recent orders becomes CloseVanishedOrder once ``grace_s`` has passed since
  its last update (lists are eventually consistent). Anything the transition rules refuse is an
  OrderConflict.
- Unknown orders of ours (prefix parses, no local row, client id not in
  ``known_client_order_ids``) are adopted, one per client id (duplicates are flagged).
- The exchange outranks our conclusions: a REJECTED or NOT_PLACED order whose client id (same
  symbol and side) is on the exchange, or that has a trade there, is corrected to the
  exchange's state (CorrectFromExchange; the lowest exchange id, others flagged as duplicates),
  and its fills are applied like any other. An unresolved order that already has an exchange id
  is never declared NOT_PLACED: after the grace period it is fetched by id (CloseVanishedOrder).
- Balances: ``balance_check`` with the pending fills applied to the ledger side.

Preconditions: ``exchange_open`` is complete for every symbol that has a local order;
``exchange_recent`` covers those symbols since before the oldest unresolved order was created.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from btcbot.domain.enums import OrderState
from btcbot.domain.errors import IllegalTransition
from btcbot.domain.exchange_models import ExchangeOrder, Fill
from btcbot.domain.ids import ClientOrderId, ExchangeOrderId
from btcbot.domain.market import Balance
from btcbot.domain.orders import ManagedOrder
from btcbot.services.execution.balance_check import compare_balances, expected_balances
from btcbot.services.execution.client_order_id import is_own_client_order_id
from btcbot.services.execution.corrections import (
    AdoptUnknownOrder,
    ApplyFill,
    CloseVanishedOrder,
    CorrectFromExchange,
    Correction,
    DuplicateClientOrderId,
    MarkNotPlaced,
    OrderConflict,
    PendingLookup,
    ReconcileReport,
    UpdateOrderState,
    adopt_order,
    sort_key,
)
from btcbot.services.execution.lookup import (
    Found,
    NotPlaced,
    matching_rows,
    merge_exchange_rows,
    resolve_unknown,
)
from btcbot.services.execution.order_events import (
    NEVER_PLACED,
    grace_elapsed,
    on_exchange_correction,
    on_exchange_order,
    on_fill,
)

S = OrderState
_UNRESOLVED = frozenset({S.PLANNED, S.SUBMITTING, S.UNKNOWN})
_LIVE = frozenset({S.OPEN, S.PARTIALLY_FILLED, S.CANCEL_REQUESTED})


class _Builder:
    """Accumulates corrections; one instance per ``reconcile`` call (never shared)."""

    def __init__(self) -> None:
        self.corrections: list[Correction] = []
        self.pending_fills: list[Fill] = []

    def add(self, correction: Correction) -> None:
        self.corrections.append(correction)
        if isinstance(correction, ApplyFill):
            self.pending_fills.append(correction.fill)


def _duplicates(
    order: ManagedOrder, rows: Sequence[ExchangeOrder], chosen: ExchangeOrderId
) -> DuplicateClientOrderId | None:
    others = [row for row in matching_rows(order, rows) if row.exchange_order_id != chosen]
    if not others:
        return None
    return DuplicateClientOrderId(
        client_order_id=order.client_order_id,
        chosen=chosen,
        others=tuple(row.exchange_order_id for row in others),
        open_others=tuple(row.exchange_order_id for row in others if row.status.is_open),
    )


def _state_update(sim: ManagedOrder, row: ExchangeOrder, now: datetime, out: _Builder) -> None:
    try:
        updated, _ = on_exchange_order(sim, row, now)
    except IllegalTransition as exc:
        out.add(OrderConflict(sim.client_order_id, str(exc)))
        return
    if updated.state is not sim.state or updated.exchange_order_id != sim.exchange_order_id:
        out.add(UpdateOrderState(sim.client_order_id, updated.state, row))


def _reconcile_unresolved(
    sim: ManagedOrder, all_rows: Sequence[ExchangeOrder], now: datetime, grace_s: float, out: _Builder
) -> None:
    resolution = resolve_unknown(sim, [], all_rows, now, grace_s)
    if isinstance(resolution, Found):
        _state_update(sim, resolution.exchange_order, now, out)
        dup = _duplicates(sim, all_rows, resolution.exchange_order.exchange_order_id)
        if dup is not None:
            out.add(dup)
    elif isinstance(resolution, NotPlaced):
        if sim.exchange_order_id is not None:
            # The exchange gave it an id (a trade or an earlier row): it was placed. Ask by id.
            out.add(CloseVanishedOrder(sim.client_order_id, sim.exchange_order_id))
        else:
            out.add(MarkNotPlaced(sim.client_order_id))
    else:
        out.add(PendingLookup(sim.client_order_id, resolution.reason))


def _reconcile_order(
    sim: ManagedOrder,
    rows: Mapping[int, ExchangeOrder],
    open_ids: frozenset[int],
    now: datetime,
    grace_s: float,
    out: _Builder,
) -> None:
    all_rows = list(rows.values())
    if sim.state in _UNRESOLVED:
        _reconcile_unresolved(sim, all_rows, now, grace_s, out)
        return
    xid = sim.exchange_order_id
    if sim.state in NEVER_PLACED:
        return  # not on the exchange (had it been, ``_correct_never_placed`` reopened it)
    if xid is None:
        if sim.state in _LIVE:
            out.add(OrderConflict(sim.client_order_id, f"{sim.state} order without an exchange order id"))
        return
    dup = _duplicates(sim, all_rows, xid)
    if dup is not None:
        out.add(dup)
    row = rows.get(xid)
    final_row = row is not None and not row.status.is_open
    if sim.state in _LIVE and xid not in open_ids and not final_row:
        if grace_elapsed(sim, now, grace_s):
            out.add(CloseVanishedOrder(sim.client_order_id, xid))
        return
    if row is not None:
        _state_update(sim, row, now, out)


def _adopt_unknown_rows(
    rows: Mapping[int, ExchangeOrder],
    by_xid: Mapping[int, ManagedOrder],
    known_cids: frozenset[str],
    sims: dict[ClientOrderId, ManagedOrder],
    now: datetime,
    out: _Builder,
) -> dict[ClientOrderId, int]:
    """Adopt exchange orders of ours with no local row: one per client id (lowest exchange id),
    the rest flagged as duplicates. Adopted rows join ``sims``. Returns client id -> exchange id."""
    unknown_rows: dict[ClientOrderId, list[ExchangeOrder]] = defaultdict(list)
    for xid in sorted(rows):
        cid = rows[xid].client_order_id
        if xid in by_xid or cid is None or cid in known_cids or not is_own_client_order_id(cid):
            continue
        unknown_rows[cid].append(rows[xid])
    adopted: dict[ClientOrderId, int] = {}
    for cid, found in sorted(unknown_rows.items()):
        first, others = found[0], found[1:]
        adopted[cid] = first.exchange_order_id
        out.add(AdoptUnknownOrder(cid, first.exchange_order_id, first.symbol, first.side, first))
        # Simulate the adopted row too, so its fills and final state come in this same report.
        try:
            sims[cid] = adopt_order(first, now)
        except IllegalTransition as exc:
            out.add(OrderConflict(cid, str(exc)))
        if others:
            out.add(
                DuplicateClientOrderId(
                    cid,
                    first.exchange_order_id,
                    tuple(r.exchange_order_id for r in others),
                    tuple(r.exchange_order_id for r in others if r.status.is_open),
                )
            )
    return adopted


def _correct(sim: ManagedOrder, xid: ExchangeOrderId, row: ExchangeOrder | None, now: datetime, out: _Builder) -> ManagedOrder | None:
    try:
        corrected, _ = on_exchange_correction(sim, xid, row, now)
    except IllegalTransition as exc:
        out.add(OrderConflict(sim.client_order_id, str(exc)))
        return None
    out.add(CorrectFromExchange(sim.client_order_id, xid, row))
    return corrected


def _correct_never_placed(
    sims: dict[ClientOrderId, ManagedOrder], rows: Mapping[int, ExchangeOrder], now: datetime, out: _Builder
) -> dict[int, ManagedOrder]:
    """REJECTED/NOT_PLACED orders the exchange lists after all: reopen them in ``sims`` with the
    lowest matching exchange id (the others are flagged later as duplicates). Returns exchange
    id -> corrected order, so that their trades find their owner even without a client id."""
    owners: dict[int, ManagedOrder] = {}
    for cid, sim in sorted(sims.items()):
        if sim.state not in NEVER_PLACED:
            continue
        found = matching_rows(sim, rows.values())
        if not found:
            continue
        corrected = _correct(sim, found[0].exchange_order_id, found[0], now, out)
        if corrected is not None:
            sims[cid] = corrected
            owners[found[0].exchange_order_id] = corrected
    return owners


def _owner_client_id(
    fill: Fill, by_xid: Mapping[int, ManagedOrder], known_cids: frozenset[str]
) -> ClientOrderId | None:
    """The client id a trade belongs to, None when it is not ours (foreign)."""
    owner = by_xid.get(fill.order_id)
    if owner is not None:
        return owner.client_order_id
    cid = fill.client_order_id
    if cid is None or (cid not in known_cids and not is_own_client_order_id(cid)):
        return None
    return cid


def _simulate_fill(cid: ClientOrderId, fill: Fill, sims: dict[ClientOrderId, ManagedOrder], now: datetime, out: _Builder) -> bool:
    """Apply ``fill`` to the simulated order ``cid`` (reopening a never-placed one first). False
    when the transition table refuses it (an OrderConflict is reported)."""
    if sims[cid].state in NEVER_PLACED:
        # A trade of an order we believed never placed: it was placed after all.
        corrected = _correct(sims[cid], fill.order_id, None, now, out)
        if corrected is None:
            return False
        sims[cid] = corrected
    try:
        sims[cid], _ = on_fill(sims[cid], fill, now)
    except IllegalTransition as exc:
        out.add(OrderConflict(cid, f"trade {fill.trade_id} of exchange order {fill.order_id}: {exc}"))
        return False
    return True


def _adopt_from_fill(cid: ClientOrderId, fill: Fill, adopted: dict[ClientOrderId, int], out: _Builder) -> bool:
    """A trade of ours with no row and not in the order lists: the cycle fetches its order with
    ``get_order`` first (AdoptUnknownOrder). False for a trade of a duplicate exchange order."""
    first_xid = adopted.get(cid)
    if first_xid is None:
        adopted[cid] = fill.order_id
        out.add(AdoptUnknownOrder(cid, fill.order_id, fill.symbol, fill.side, None))
    elif first_xid != fill.order_id:
        out.add(OrderConflict(cid, f"trade {fill.trade_id} of duplicate exchange order {fill.order_id}"))
        return False
    return True


def _collect_fills(
    fills: Sequence[Fill],
    known_trade_ids: frozenset[int],
    by_xid: Mapping[int, ManagedOrder],
    known_cids: frozenset[str],
    sims: dict[ClientOrderId, ManagedOrder],
    adopted: dict[ClientOrderId, int],
    now: datetime,
    out: _Builder,
) -> tuple[set[ClientOrderId], int]:
    """ApplyFill for each new trade of ours (time order), simulated on ``sims``.

    Returns the client ids whose fills conflicted (their reconciliation stops there) and the
    number of foreign fills ignored.
    """
    broken: set[ClientOrderId] = set()
    foreign_fills = 0
    seen: set[int] = set(known_trade_ids)
    for fill in sorted(fills, key=lambda f: (f.timestamp, f.trade_id)):
        if fill.trade_id in seen:
            continue
        seen.add(fill.trade_id)
        cid = _owner_client_id(fill, by_xid, known_cids)
        if cid is None:
            foreign_fills += 1
            continue
        if cid in broken:
            continue
        if cid in sims:
            if not _simulate_fill(cid, fill, sims, now, out):
                broken.add(cid)
                continue
        elif cid not in known_cids and not _adopt_from_fill(cid, fill, adopted, out):
            continue
        out.add(ApplyFill(cid, fill))
    return broken, foreign_fills


def _foreign_order_count(rows: Mapping[int, ExchangeOrder], by_xid: Mapping[int, ManagedOrder]) -> int:
    return sum(
        1
        for row in rows.values()
        if row.exchange_order_id not in by_xid and not is_own_client_order_id(row.client_order_id)
    )


def _fill_owners(
    local: Mapping[ClientOrderId, ManagedOrder],
    by_xid: Mapping[int, ManagedOrder],
    corrected: Mapping[int, ManagedOrder],
    rows: Mapping[int, ExchangeOrder],
) -> dict[int, ManagedOrder]:
    """Exchange id -> the local order its trades belong to. An unresolved order has no exchange
    id yet, but the lookup finds it by client id (the lowest matching exchange id): its fills are
    ours even when the trade rows carry no client id. The same holds for a REJECTED/NOT_PLACED
    order the exchange lists after all (``corrected``)."""
    owners = dict(by_xid)
    for xid, order in corrected.items():
        owners.setdefault(xid, order)
    for sim in local.values():
        if sim.state in _UNRESOLVED and sim.exchange_order_id is None:
            found = matching_rows(sim, rows.values())
            if found:
                owners.setdefault(found[0].exchange_order_id, sim)
    return owners


def reconcile(
    local_orders: Sequence[ManagedOrder],
    exchange_open: Sequence[ExchangeOrder],
    exchange_recent: Sequence[ExchangeOrder],
    fills: Sequence[Fill],
    known_trade_ids: frozenset[int],
    ledger_balances: Mapping[str, Decimal],
    exchange_balances: Mapping[str, Balance | Decimal],
    prices: Mapping[str, Decimal],
    dust_tolerance_quote: Decimal,
    now: datetime,
    grace_s: float,
    *,
    known_client_order_ids: frozenset[str] = frozenset(),
) -> ReconcileReport:
    """Compare local state with exchange truth; return the corrections (see module docstring).

    ``known_trade_ids``: the trade ids among ``fills`` that are already recorded.
    ``ledger_balances``: per asset, wallet + reserve as the ledger has them.
    ``prices``: quote value of one unit per asset (the quote asset itself = 1).
    ``known_client_order_ids``: client ids the database has rows for beyond ``local_orders``
    (terminal orders not loaded); such orders are never adopted again, and their late fills
    are applied to them.
    """
    out = _Builder()
    rows = merge_exchange_rows(exchange_open, exchange_recent)
    open_ids = frozenset(row.exchange_order_id for row in exchange_open)
    local = {o.client_order_id: o for o in sorted(local_orders, key=lambda o: o.client_order_id)}
    by_xid: dict[int, ManagedOrder] = {o.exchange_order_id: o for o in local.values() if o.exchange_order_id is not None}
    known_cids = frozenset(local) | known_client_order_ids
    foreign_orders = _foreign_order_count(rows, by_xid)

    sims = dict(local)
    adopted = _adopt_unknown_rows(rows, by_xid, known_cids, sims, now, out)
    fill_owners = _fill_owners(local, by_xid, _correct_never_placed(sims, rows, now, out), rows)
    broken, foreign_fills = _collect_fills(
        fills, known_trade_ids, fill_owners, known_cids, sims, adopted, now, out
    )
    for cid, sim in sims.items():
        if cid not in broken:
            _reconcile_order(sim, rows, open_ids, now, grace_s, out)

    ledger = expected_balances(ledger_balances, out.pending_fills)
    for entry in compare_balances(ledger, exchange_balances, prices, dust_tolerance_quote):
        out.add(entry)

    return ReconcileReport(
        corrections=tuple(sorted(out.corrections, key=sort_key)),
        foreign_orders_ignored=foreign_orders,
        foreign_fills_ignored=foreign_fills,
    )
