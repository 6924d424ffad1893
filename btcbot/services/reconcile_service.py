"""Runs reconciliation against the exchange and executes its corrections.

Gathering costs requests only where something may have changed: fills are fetched for orders that
left the open list, show progress there, or await a cancel; history (``allOrders``) only for the
symbols of unresolved or vanished orders, and of REJECTED/NOT_PLACED orders during their watch
window (``NEVER_PLACED_WATCH_S``) or, later, when a balance shortfall touches their assets. An
idle cycle costs nothing beyond the open orders and balances the fetch step already has.

Execution of the pure report (``services.execution.reconciliation``). The exchange's word
corrects the local record; it is never only reported:
- AdoptUnknownOrder: an order with our client id and no local row is inserted in the
  exchange's state (journal ``adopted``, warning log), in every cycle and in ``reconcile --apply``;
- CorrectFromExchange: a REJECTED/NOT_PLACED order the exchange has after all is reopened with
  its exchange id (journal ``corrected_by_exchange``, warning log);
- ApplyFill: fill row + ledger postings + order + accounting in ONE transaction (once per trade id);
- UpdateOrderState / MarkNotPlaced: through the transition table, journalled;
- CloseVanishedOrder: ask ``get_order`` and apply what it says;
- DuplicateClientOrderId: the extra open orders are cancelled;
- OrderConflict (contradicting final states, an overfill): REDUCING, the operator looks;
- BalanceDrift (exchange holds less than the ledger, no order in flight on that asset):
  ``SyncResult.blocks_new_risk`` at once (the cycle sends no risk-increasing order), REDUCING +
  alert once it is seen in two consecutive passes (a fill landing between the balance and trade
  requests can fake one pass of drift); ExternalSurplus: information only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from loguru import logger

from btcbot.contracts.clock import Clock
from btcbot.contracts.exchange import Account
from btcbot.domain.enums import OrderState, Side
from btcbot.domain.errors import ExchangeError
from btcbot.domain.exchange_models import ExchangeOrder, Fill
from btcbot.domain.ledger import Account as LedgerAccount
from btcbot.domain.ledger import postings_for_fill
from btcbot.domain.market import Balance
from btcbot.domain.orders import ManagedOrder
from btcbot.domain.symbols import parse_pair
from btcbot.failpoints import MID_FILL_APPLICATION, MID_RECONCILE, Failpoints
from btcbot.persistence.protocols import UnitOfWork
from btcbot.services.accounting import record_fill
from btcbot.services.execution.client_order_id import is_own_client_order_id
from btcbot.services.execution.corrections import (
    AdoptUnknownOrder,
    ApplyFill,
    BalanceDrift,
    CloseVanishedOrder,
    CorrectFromExchange,
    Correction,
    DuplicateClientOrderId,
    ExternalSurplus,
    MarkNotPlaced,
    OrderConflict,
    ReconcileReport,
    UpdateOrderState,
    adopt_order,
    kind_name,
)
from btcbot.services.execution.order_events import (
    on_exchange_correction,
    on_exchange_order,
    on_fill,
    on_not_found_after_grace,
)
from btcbot.services.execution.reconciliation import reconcile
from btcbot.services.order_service import OUTBOX_SUBMIT

META_DRIFT_STREAK = "reconcile.drift_streak"
UNRESOLVED = frozenset({OrderState.PLANNED, OrderState.SUBMITTING, OrderState.UNKNOWN})
NEVER_PLACED = frozenset({OrderState.REJECTED, OrderState.NOT_PLACED})
HISTORY_SLACK = timedelta(minutes=5)
LATE_FILL_STATES = frozenset({OrderState.FILLED, OrderState.CANCELED})
LATE_FILL_SCAN = 50
#: How long after a REJECTED/NOT_PLACED verdict the order is still looked for on the exchange
#: (at least the grace period). Later, only a balance shortfall on its assets triggers a look.
NEVER_PLACED_WATCH_S = 900.0
#: An unresolved BUY may have spent its notional plus fee, tax and price slippage: 2 % covers them.
IN_FLIGHT_MARGIN = Decimal("1.02")


@dataclass(frozen=True)
class ExchangeView:
    open_orders: Sequence[ExchangeOrder]
    balances: Sequence[Balance] | None
    prices: Mapping[str, Decimal]  # symbol -> last price


@dataclass
class SyncResult:
    report: ReconcileReport
    applied_fills: int = 0
    reasons: list[str] = field(default_factory=list)
    drift_reasons: list[str] = field(default_factory=list)
    requires_reducing: bool = False

    @property
    def blocks_new_risk(self) -> bool:
        """An unexplained shortfall (or a conflict) is visible now: no risk-increasing order may
        be sent until a lookup or ``reconcile --apply`` explains it (exits stay allowed)."""
        return self.requires_reducing or bool(self.report.of_kind(BalanceDrift))


@dataclass(frozen=True)
class Gathered:
    local: list[ManagedOrder]
    exchange_open: list[ExchangeOrder]
    exchange_recent: list[ExchangeOrder]
    fills: list[Fill]
    known_trade_ids: frozenset[int]
    known_client_ids: frozenset[str]
    ledger: dict[str, Decimal]
    dormant_symbols: frozenset[str] = frozenset()  # symbols of older REJECTED/NOT_PLACED orders


class ReconcileService:
    def __init__(
        self,
        account: Account,
        uow: Callable[[], UnitOfWork],
        clock: Clock,
        universe: Sequence[str],
        quote: str,
        dust_tolerance_quote: Decimal,
        grace_s: float,
        tz: str,
        failpoints: Failpoints,
        drift_cycles: int = 2,
    ) -> None:
        self._account = account
        self._uow = uow
        self._clock = clock
        self._universe = tuple(universe)
        self._quote = quote
        self._dust = dust_tolerance_quote
        self._grace = grace_s
        self._tz = tz
        self._fp = failpoints
        self._drift_cycles = drift_cycles
        self._streak_cache: int | None = None  # unknown until read once

    # ---- gathering ---------------------------------------------------------------------

    def gather(self, view: ExchangeView, probe: frozenset[str] = frozenset()) -> Gathered:
        """Fetch what this pass needs. ``probe``: symbols whose REJECTED/NOT_PLACED orders older
        than the watch window are looked up too (``plan`` asks when a shortfall may be theirs)."""
        now = self._clock.now()
        with self._uow() as uow:
            local = uow.orders.list_non_terminal()
            recent_local = uow.orders.list_recent(LATE_FILL_SCAN)
            ledger = dict(uow.ledger.wallet_balances())
            reserve = uow.ledger.balance(LedgerAccount.RESERVE, self._quote)
        # Orders that finished a moment ago may still get a trade row that was not visible
        # when they closed (late fills must be applied): keep asking for their trades for one
        # grace period after they became FILLED/CANCELED. Idle cycles far from a trade pay nothing.
        late = [
            o for o in recent_local
            if o.state in LATE_FILL_STATES and o.exchange_order_id is not None
            and (now - o.updated_at).total_seconds() <= self._grace
        ]
        # An order we concluded never reached the venue (REJECTED / NOT_PLACED) may be there after
        # all (a reply we misread, a list that showed it late): look for it during the watch
        # window, and later only when a shortfall may be its doing (``probe``).
        watch_s = max(self._grace, NEVER_PLACED_WATCH_S)
        never_placed = [o for o in recent_local if o.state in NEVER_PLACED and o.exchange_order_id is None]
        watched = [o for o in never_placed if (now - o.updated_at).total_seconds() <= watch_s or o.symbol in probe]
        dormant = frozenset(o.symbol for o in never_placed if o not in watched)
        if reserve:
            ledger[self._quote] = ledger.get(self._quote, Decimal(0)) + reserve
        open_rows = [r for r in view.open_orders if r.symbol in self._universe]
        open_by_id = {r.exchange_order_id: r for r in open_rows}
        need_history: dict[str, datetime] = {}
        fill_ids: set[int] = set()

        def look_up(order: ManagedOrder) -> None:
            start = order.created_at - HISTORY_SLACK
            need_history[order.symbol] = min(need_history.get(order.symbol, start), start)

        for order in local:
            xid = order.exchange_order_id
            if order.state in UNRESOLVED or xid is None:
                look_up(order)
                if xid is not None:
                    fill_ids.add(xid)  # reopened by the exchange's word: its trades may be there
                continue
            row = open_by_id.get(xid)
            if row is None:
                fill_ids.add(xid)
                look_up(order)
            elif row.left_amount is not None and row.amount - row.left_amount > order.filled_quantity or order.state is OrderState.CANCEL_REQUESTED:
                fill_ids.add(xid)
        for order in watched:
            look_up(order)
        for order in late:
            assert order.exchange_order_id is not None
            fill_ids.add(order.exchange_order_id)
        local = [*local, *late, *watched]
        recent: list[ExchangeOrder] = []
        for symbol in sorted(need_history):
            # No end time: the venue's clock may run ahead of ours, and an order stamped "in the
            # future" must still be found.
            recent.extend(self._account.all_orders(symbol, start=need_history[symbol]))
        local_cids = {o.client_order_id for o in local}
        unknown_rows = [
            r for r in [*open_rows, *recent]
            if r.client_order_id and r.client_order_id not in local_cids and is_own_client_order_id(r.client_order_id)
        ]
        known_cids: frozenset[str] = frozenset()
        if unknown_rows:  # an idle cycle has none: no extra transaction
            with self._uow() as uow:
                stored = {
                    r.client_order_id: uow.orders.get(r.client_order_id) for r in unknown_rows if r.client_order_id
                }
            known_cids = frozenset(cid for cid, o in stored.items() if o is not None)
            # An order we concluded never reached the venue is on it after all: reconcile corrects it.
            local = [*local, *(o for o in stored.values() if o is not None and o.state in NEVER_PLACED)]
        # Orders found by client id in the lists may already have fills: fetch them too (also
        # those of orders of ours without a local record: they are adopted in this pass).
        by_cid = {o.client_order_id for o in local if o.state in UNRESOLVED | NEVER_PLACED}
        for row in [*open_rows, *recent]:
            if row.client_order_id in by_cid:
                fill_ids.add(row.exchange_order_id)
        for row in unknown_rows:
            if row.client_order_id not in known_cids:
                fill_ids.add(row.exchange_order_id)
        fills: list[Fill] = []
        for xid in sorted(fill_ids):
            fills.extend(self._account.trades_for_order(xid))
        known: frozenset[int] = frozenset()
        if fills:
            with self._uow() as uow:
                known = frozenset(f.trade_id for f in fills if uow.fills.exists(f.trade_id))
        return Gathered(local, open_rows, recent, fills, known, known_cids, ledger, dormant)

    def plan(self, view: ExchangeView) -> tuple[Gathered, ReconcileReport]:
        g = self.gather(view)
        report = self._report(view, g)
        short = {c.asset for c in report.of_kind(BalanceDrift)}
        probe = frozenset(s for s in g.dormant_symbols if {parse_pair(s).base, parse_pair(s).quote} & short)
        if probe:
            # A shortfall, and orders we believed never placed that could explain it: look them up
            # before calling it drift.
            g = self.gather(view, probe)
            report = self._report(view, g)
        return g, report

    def _report(self, view: ExchangeView, g: Gathered) -> ReconcileReport:
        if view.balances is None:
            balances: Mapping[str, Balance | Decimal] = dict(g.ledger)  # no balances: no drift verdict
        else:
            balances = {b.asset: b for b in view.balances}
        prices = {parse_pair(s).base: p for s, p in view.prices.items() if s in self._universe}
        prices[self._quote] = Decimal(1)
        report = reconcile(
            g.local, g.exchange_open, g.exchange_recent, g.fills, g.known_trade_ids, g.ledger, balances,
            prices, self._dust, self._clock.now(), self._grace, known_client_order_ids=g.known_client_ids,
        )
        if view.balances is None:
            # The ledger was compared with itself plus this pass's fills: any difference is those
            # fills, not drift. Without exchange balances there is no verdict either way.
            kept = tuple(c for c in report.corrections if not isinstance(c, BalanceDrift | ExternalSurplus))
            report = replace(report, corrections=kept)
        allowance = self._in_flight_allowance(g.local)
        if allowance:
            # An order whose outcome is still being looked up (a ghost, or not yet visible) may
            # already have moved these balances on the venue, by at most what it could spend or
            # sell: a shortfall within that is no verdict until the lookup settles it (at the
            # latest when the grace period ends); a larger one is drift all the same.
            settled: list[Correction] = []
            for c in report.corrections:
                if isinstance(c, ExternalSurplus) and c.asset in allowance:
                    continue
                if isinstance(c, BalanceDrift) and c.asset in allowance:
                    limit = allowance[c.asset]
                    if limit is None or -c.diff <= limit:
                        continue
                settled.append(c)
            report = replace(report, corrections=tuple(settled))
        return report

    def _in_flight_allowance(self, local: Sequence[ManagedOrder]) -> dict[str, Decimal | None]:
        """Per asset, the most that unresolved orders may have taken from it (None: no bound)."""
        allowance: dict[str, Decimal | None] = {}

        def add(asset: str, amount: Decimal | None) -> None:
            current = allowance.get(asset, Decimal(0))
            allowance[asset] = None if current is None or amount is None else current + amount

        for order in local:
            if order.state not in UNRESOLVED:
                continue
            pair = parse_pair(order.symbol)
            if order.side is Side.BUY:
                if order.quote_amount is not None:
                    spend: Decimal | None = order.quote_amount
                elif order.price is not None:
                    spend = order.quantity * order.price
                else:
                    spend = None
                add(pair.quote, None if spend is None else spend * IN_FLIGHT_MARGIN)
                add(pair.base, Decimal(0))  # its surplus is no verdict either
            else:
                add(pair.base, order.quantity)
                add(pair.quote, Decimal(0))
        return allowance

    # ---- executing -----------------------------------------------------------------------

    def sync(self, cycle_id: int, view: ExchangeView) -> SyncResult:
        _, report = self.plan(view)
        result = SyncResult(report)
        for correction in report.corrections:
            log = logger.bind(event="reconcile." + kind_name(correction))
            if isinstance(correction, ApplyFill):
                if self.apply_fill(correction.client_order_id, correction.fill, cycle_id):
                    result.applied_fills += 1
                    self._fp.hit(MID_FILL_APPLICATION)
            elif isinstance(correction, UpdateOrderState):
                self._fp.hit(MID_RECONCILE)
                self.apply_exchange_row(correction.client_order_id, correction.exchange_order, cycle_id)
            elif isinstance(correction, MarkNotPlaced):
                self.mark_not_placed(correction.client_order_id, cycle_id)
            elif isinstance(correction, CloseVanishedOrder):
                self.close_vanished(correction, cycle_id)
            elif isinstance(correction, DuplicateClientOrderId):
                for xid in correction.open_others:
                    try:
                        self._account.cancel_order(xid)
                        log.warning(f"cancelled duplicate exchange order {xid} of {correction.client_order_id}")
                    except ExchangeError as exc:
                        log.warning(f"could not cancel duplicate {xid}: {type(exc).__name__}")
            elif isinstance(correction, AdoptUnknownOrder):
                self.adopt(correction, cycle_id)
            elif isinstance(correction, CorrectFromExchange):
                self.correct(correction, cycle_id)
            elif isinstance(correction, OrderConflict):
                result.requires_reducing = True
                result.drift_reasons.append(f"order conflict: {correction.client_order_id}: {correction.detail}")
                log.bind(event="reconcile.mismatch", outcome="conflict").error(correction.detail)
            elif isinstance(correction, ExternalSurplus):
                log.bind(outcome="surplus").debug(f"exchange holds {correction.diff} more {correction.asset}")
        drifts = report.of_kind(BalanceDrift)
        streak = self._drift_streak(bool(drifts))
        if drifts:
            detail = ", ".join(f"{d.asset} ledger {d.ledger} exchange {d.exchange}" for d in drifts)
            logger.bind(event="reconcile.mismatch", outcome="drift").warning(f"balance drift ({streak}): {detail}")
            if streak >= self._drift_cycles:
                result.requires_reducing = True
                result.drift_reasons.append(f"balance drift: {detail}")
        return result

    def _drift_streak(self, drifting: bool) -> int:
        # This process is the only writer while it holds the lease (reconcile --apply resets the
        # streak to 0 from another process, which at worst costs one redundant write here).
        if self._streak_cache == 0 and not drifting:
            return 0  # the usual clean cycle: no transaction at all
        with self._uow() as uow:
            previous = int(uow.meta.get(META_DRIFT_STREAK) or 0)
            streak = previous + 1 if drifting else 0
            if streak != previous:
                uow.meta.set(META_DRIFT_STREAK, str(streak))
                uow.commit()
        self._streak_cache = streak
        return streak

    def apply_fill(self, client_order_id: str, fill: Fill, cycle_id: int) -> bool:
        now = self._clock.now()
        pair = parse_pair(fill.symbol)
        with self._uow() as uow:
            order = uow.orders.get(client_order_id)
            if order is None:
                return False
            if not uow.fills.add_if_new(fill, cycle_id):
                return False
            uow.ledger.post(postings_for_fill(fill, pair.base, pair.quote), at=now, cycle_id=cycle_id)
            updated, event = on_fill(order, fill, now)
            uow.orders.update(updated)
            uow.journal.append(order.client_order_id, cycle_id, order.state, updated.state, str(event),
                               _fill_payload(fill), now)
            record_fill(uow.meta, fill, pair.base, now, self._tz)
            uow.commit()
        logger.bind(event="order.fill", symbol=fill.symbol, client_order_id=client_order_id, outcome="booked").info(
            f"{fill.side} {fill.quantity} @ {fill.price} fee {fill.fee} tax {fill.tax}"
        )
        return True

    def apply_exchange_row(self, client_order_id: str, row: ExchangeOrder, cycle_id: int) -> None:
        now = self._clock.now()
        with self._uow() as uow:
            order = uow.orders.get(client_order_id)
            if order is None:
                return
            updated, event = on_exchange_order(order, row, now)
            if updated != order:
                uow.orders.update(updated)
                uow.journal.append(client_order_id, cycle_id, order.state, updated.state, str(event),
                                   _row_payload(row), now)
            if updated.state not in UNRESOLVED:
                _close_outbox(uow, client_order_id, now)
            uow.commit()

    def mark_not_placed(self, client_order_id: str, cycle_id: int) -> None:
        now = self._clock.now()
        with self._uow() as uow:
            order = uow.orders.get(client_order_id)
            if order is None:
                return
            updated, event = on_not_found_after_grace(order, now, self._grace)
            uow.orders.update(updated)
            uow.journal.append(client_order_id, cycle_id, order.state, updated.state, str(event), None, now)
            _close_outbox(uow, client_order_id, now)
            uow.commit()
        logger.bind(event="order.not_placed", client_order_id=client_order_id).info(
            "order never reached the exchange; its intent is dropped (not resent)"
        )

    def close_vanished(self, correction: CloseVanishedOrder, cycle_id: int) -> None:
        row = self._account.get_order(correction.exchange_order_id)
        if row is None:
            logger.bind(event="reconcile.mismatch", client_order_id=correction.client_order_id).warning(
                "open order vanished and the exchange does not know its id"
            )
            return
        for fill in self._account.trades_for_order(correction.exchange_order_id):
            self.apply_fill(correction.client_order_id, fill, cycle_id)
        self.apply_exchange_row(correction.client_order_id, row, cycle_id)

    def adopt(self, correction: AdoptUnknownOrder, cycle_id: int) -> None:
        """Create the local row for an order of ours (our client id prefix) we have no record of.

        The exchange's word wins: the row is inserted in the state the exchange shows, journalled
        (``adopted``) and logged; its fills follow in the same pass (ApplyFill)."""
        row = correction.exchange_order or self._account.get_order(correction.exchange_order_id)
        if row is None:
            return
        now = self._clock.now()
        order = adopt_order(row, now)
        with self._uow() as uow:
            if uow.orders.get(order.client_order_id) is not None:
                return
            uow.orders.add(order)
            uow.journal.append(order.client_order_id, cycle_id, None, order.state, "adopted",
                               _row_payload(row), now)
            uow.commit()
        logger.bind(event="reconcile.adopted", client_order_id=order.client_order_id, symbol=order.symbol,
                    outcome=order.state.value).warning(
            f"adopted exchange order {row.exchange_order_id} ({row.status}) of ours that had no local record"
        )

    def correct(self, correction: CorrectFromExchange, cycle_id: int) -> None:
        """A REJECTED/NOT_PLACED order the exchange has after all: reopen it with the exchange id
        (journalled ``corrected_by_exchange``, logged); its fills and row follow in this pass."""
        now = self._clock.now()
        with self._uow() as uow:
            order = uow.orders.get(correction.client_order_id)
            if order is None or order.state not in NEVER_PLACED:
                return
            updated, event = on_exchange_correction(order, correction.exchange_order_id, correction.exchange_order,
                                                    now)
            uow.orders.update(updated)
            payload: dict[str, object] = {"id": correction.exchange_order_id, "was": order.state.value,
                                          "reject_reason": order.reject_reason, "reject_code": order.reject_code}
            if correction.exchange_order is not None:
                payload["row"] = _row_payload(correction.exchange_order)
            uow.journal.append(order.client_order_id, cycle_id, order.state, updated.state, str(event), payload, now)
            uow.commit()
        logger.bind(event="reconcile.corrected", client_order_id=order.client_order_id, symbol=order.symbol,
                    outcome="corrected_by_exchange").warning(
            f"order recorded {order.state} is on the exchange as {correction.exchange_order_id}: "
            "taking the exchange's state and booking its fills"
        )


def _close_outbox(uow: UnitOfWork, client_order_id: str, now: datetime) -> None:
    for item in uow.outbox.pending(OUTBOX_SUBMIT):
        if item.key == client_order_id:
            uow.outbox.mark_done(item.id, now)


def _fill_payload(fill: Fill) -> dict[str, object]:
    return {"trade_id": fill.trade_id, "order_id": fill.order_id, "price": str(fill.price),
            "quantity": str(fill.quantity), "fee": str(fill.fee), "tax": str(fill.tax),
            "timestamp": fill.timestamp.isoformat()}


def _row_payload(row: ExchangeOrder) -> dict[str, object]:
    return {"id": row.exchange_order_id, "status": row.status.value, "amount": str(row.amount),
            "left_amount": None if row.left_amount is None else str(row.left_amount),
            "price": str(row.price), "client_order_id": row.client_order_id}
