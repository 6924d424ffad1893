"""Runs reconciliation against the exchange and executes its corrections: the I/O shell.

Every decision is a pure function in ``services.execution``: what to fetch and which orders take
part (``fetch_plan``), the corrections (``reconciliation``), when a balance verdict is withheld
(``drift_verdicts``). This service reads the database, asks the exchange what the plan says, and
applies the report. Gathering costs requests only where something may have changed; an idle
cycle costs nothing beyond the open orders and balances the fetch step already has, and no
database transaction when the caller passes the books it read (``LocalBooks``).

Execution of the pure report (``services.execution.reconciliation``). The exchange's word
corrects the local record; it is never only reported:
- AdoptUnknownOrder: an order with our client id and no local row is inserted in the
  exchange's state (journal ``adopted``, warning log), in every cycle and in ``reconcile --apply``;
- CorrectFromExchange: a REJECTED/NOT_PLACED order the exchange has after all is reopened with
  its exchange id (journal ``corrected_by_exchange``, warning log);
- ApplyFill: booked by ``services.fill_booking`` (fill row + ledger postings + order + accounting
  in ONE transaction, once per trade id);
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
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from loguru import logger

if TYPE_CHECKING:
    from loguru import Logger

from btcbot.contracts.clock import Clock
from btcbot.contracts.exchange import Account
from btcbot.contracts.persistence import UnitOfWork
from btcbot.contracts.reconcile import ExchangeView, SyncResult
from btcbot.domain.errors import ExchangeError
from btcbot.domain.exchange_models import ExchangeOrder, Fill
from btcbot.domain.ids import ClientOrderId
from btcbot.domain.ledger import Account as LedgerAccount
from btcbot.domain.market import Balance
from btcbot.domain.orders import ManagedOrder
from btcbot.domain.symbols import parse_pair
from btcbot.failpoints import MID_FILL_APPLICATION, MID_RECONCILE, Failpoints
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
from btcbot.services.execution.drift_verdicts import (
    IN_FLIGHT_MARGIN,
    in_flight_allowance,
    probe_symbols,
    withhold_verdicts,
)
from btcbot.services.execution.fetch_plan import (
    HISTORY_SLACK,
    LATE_FILL_SCAN,
    LATE_FILL_STATES,
    NEVER_PLACED,
    NEVER_PLACED_WATCH_S,
    UNRESOLVED,
    LocalBooks,
    booked_among,
    late_fill_orders,
    ledger_with_reserve,
    plan_lookups,
    reopen_candidates,
    trades_of_listed,
    unknown_own_rows,
)
from btcbot.services.execution.order_events import (
    on_exchange_correction,
    on_exchange_order,
    on_not_found_after_grace,
)
from btcbot.services.execution.reconciliation import reconcile
from btcbot.services.fill_booking import FillBooking, row_payload
from btcbot.services.order_service import OUTBOX_SUBMIT

META_DRIFT_STREAK = "reconcile.drift_streak"
#: Kept importable from here (the decisions live in ``execution.fetch_plan``/``drift_verdicts``).
__all__ = [
    "HISTORY_SLACK", "IN_FLIGHT_MARGIN", "LATE_FILL_SCAN", "LATE_FILL_STATES", "NEVER_PLACED",
    "NEVER_PLACED_WATCH_S", "UNRESOLVED", "ExchangeView", "Gathered", "LocalBooks", "ReconcileService",
    "SyncResult",
]
#: Corrections whose execution writes order, fill or ledger rows (the cycle's books change).
_WRITING = (ApplyFill, UpdateOrderState, MarkNotPlaced, CloseVanishedOrder, AdoptUnknownOrder, CorrectFromExchange)


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
        self._fills = FillBooking(uow, clock, tz)

    # ---- gathering (I/O only; the decisions are ``execution.fetch_plan``) ------------------

    def read_books(
        self,
        uow: UnitOfWork,
        *,
        open_orders: Sequence[ManagedOrder] | None = None,
        wallet: Mapping[str, Decimal] | None = None,
        reserve: Decimal | None = None,
    ) -> LocalBooks:
        """The database's side of a pass, read inside the caller's transaction. What the caller
        already read in that same transaction (non-terminal orders, wallet, reserve) may be
        passed in instead of being read twice."""
        if wallet is None:
            wallet = uow.ledger.wallet_balances()
        if reserve is None:
            reserve = uow.ledger.balance(LedgerAccount.RESERVE, self._quote)
        if open_orders is None:
            open_orders = uow.orders.list_non_terminal()
        recent = tuple(uow.orders.list_recent(LATE_FILL_SCAN))
        late = late_fill_orders(recent, self._clock.now(), self._grace)
        booked: dict[int, frozenset[int]]
        booked = {o.exchange_order_id: frozenset(f.trade_id for f in uow.fills.for_order(o.exchange_order_id))
                  for o in late if o.exchange_order_id is not None}
        return LocalBooks(
            open_orders=tuple(open_orders), recent_orders=recent,
            ledger=ledger_with_reserve(wallet, reserve, self._quote), booked_trades=booked,
        )

    def _books(self) -> LocalBooks:
        with self._uow() as uow:
            return self.read_books(uow)

    def gather(
        self, view: ExchangeView, probe: frozenset[str] = frozenset(), books: LocalBooks | None = None
    ) -> Gathered:
        """Fetch what this pass needs. ``probe``: symbols whose REJECTED/NOT_PLACED orders older
        than the watch window are looked up too (``plan`` asks when a shortfall may be theirs).
        ``books``: the database's side when the caller read it already (else one transaction)."""
        books = books if books is not None else self._books()
        plan = plan_lookups(books, view.open_orders, self._universe, self._clock.now(), self._grace, probe)
        recent: list[ExchangeOrder] = []
        for symbol in sorted(plan.history_since):
            # No end time: the venue's clock may run ahead of ours, and an order stamped "in the
            # future" must still be found.
            recent.extend(self._account.all_orders(symbol, start=plan.history_since[symbol]))
        listed = [*plan.open_rows, *recent]
        unknown = unknown_own_rows(listed, plan.local)
        known_cids, reopened = reopen_candidates(self._stored_orders(unknown))
        local = [*plan.local, *reopened]
        trade_ids = plan.trade_order_ids | trades_of_listed(local, listed, unknown, known_cids)
        fills: list[Fill] = []
        for xid in sorted(trade_ids):
            fills.extend(self._account.trades_for_order(xid))
        return Gathered(local, list(plan.open_rows), recent, fills, self._booked_trade_ids(fills, books),
                        known_cids, dict(books.ledger), plan.dormant_symbols)

    def _stored_orders(self, rows: Sequence[ExchangeOrder]) -> dict[str, ManagedOrder | None]:
        """The database's rows for these client ids (an idle cycle has none: no transaction)."""
        if not rows:
            return {}
        with self._uow() as uow:
            return {r.client_order_id: uow.orders.get(r.client_order_id) for r in rows if r.client_order_id}

    def _booked_trade_ids(self, fills: Sequence[Fill], books: LocalBooks) -> frozenset[int]:
        """Trade ids among ``fills`` already booked: from the books where they know (the trades
        of orders that finished lately), else one lookup (none in an idle cycle)."""
        known, unchecked = booked_among(fills, books.booked_trades)
        if not unchecked:
            return known
        with self._uow() as uow:
            return known | frozenset(f.trade_id for f in unchecked if uow.fills.exists(f.trade_id))

    def plan(self, view: ExchangeView, books: LocalBooks | None = None) -> tuple[Gathered, ReconcileReport]:
        books = books if books is not None else self._books()
        g = self.gather(view, books=books)
        report = self._report(view, g)
        probe = probe_symbols(g.dormant_symbols, {c.asset for c in report.of_kind(BalanceDrift)})
        if probe:
            # A shortfall, and orders we believed never placed that could explain it: look them up
            # before calling it drift (nothing was written since ``books`` were read).
            g = self.gather(view, probe, books)
            report = self._report(view, g)
        return g, report

    def _report(self, view: ExchangeView, g: Gathered) -> ReconcileReport:
        # No balances: the ledger is compared with itself (and the verdict withheld below).
        balances: Mapping[str, Balance | Decimal] = (
            dict(g.ledger) if view.balances is None else {b.asset: b for b in view.balances}
        )
        prices = {parse_pair(s).base: p for s, p in view.prices.items() if s in self._universe}
        prices[self._quote] = Decimal(1)
        report = reconcile(
            g.local, g.exchange_open, g.exchange_recent, g.fills, g.known_trade_ids, g.ledger, balances,
            prices, self._dust, self._clock.now(), self._grace, known_client_order_ids=g.known_client_ids,
        )
        kept = withhold_verdicts(report.corrections, in_flight_allowance(g.local), view.balances is not None)
        return replace(report, corrections=kept)

    # ---- executing -----------------------------------------------------------------------

    def sync(self, cycle_id: int, view: ExchangeView, books: LocalBooks | None = None) -> SyncResult:
        """One pass: plan, then execute every correction in the report's order. ``books``: the
        database's side when the caller read it already (the cycle's opening transaction)."""
        _, report = self.plan(view, books)
        result = SyncResult(report)
        for correction in report.corrections:
            self._execute(correction, cycle_id, result)
            result.books_changed = result.books_changed or isinstance(correction, _WRITING)
        self._judge_drift(report, result)
        return result

    def _execute(self, correction: Correction, cycle_id: int, result: SyncResult) -> None:
        log = logger.bind(event="reconcile." + kind_name(correction))
        match correction:
            case ApplyFill():
                if self.apply_fill(correction.client_order_id, correction.fill, cycle_id):
                    result.applied_fills += 1
                    self._fp.hit(MID_FILL_APPLICATION)
            case UpdateOrderState():
                self._fp.hit(MID_RECONCILE)
                self.apply_exchange_row(correction.client_order_id, correction.exchange_order, cycle_id)
            case MarkNotPlaced():
                self.mark_not_placed(correction.client_order_id, cycle_id)
            case CloseVanishedOrder():
                self.close_vanished(correction, cycle_id)
            case DuplicateClientOrderId():
                self._cancel_duplicates(correction, log)
            case AdoptUnknownOrder():
                self.adopt(correction, cycle_id)
            case CorrectFromExchange():
                self.correct(correction, cycle_id)
            case OrderConflict():
                result.requires_reducing = True
                result.drift_reasons.append(f"order conflict: {correction.client_order_id}: {correction.detail}")
                log.bind(event="reconcile.mismatch", outcome="conflict").error(correction.detail)
            case ExternalSurplus():
                log.bind(outcome="surplus").debug(f"exchange holds {correction.diff} more {correction.asset}")

    def _cancel_duplicates(self, correction: DuplicateClientOrderId, log: Logger) -> None:
        for xid in correction.open_others:
            try:
                self._account.cancel_order(xid)
                log.warning(f"cancelled duplicate exchange order {xid} of {correction.client_order_id}")
            except ExchangeError as exc:
                log.warning(f"could not cancel duplicate {xid}: {type(exc).__name__}")

    def _judge_drift(self, report: ReconcileReport, result: SyncResult) -> None:
        """A shortfall blocks new risk at once (``blocks_new_risk``); REDUCING once it is seen in
        ``drift_cycles`` consecutive passes (a fill landing between the balance and trade requests
        can fake one pass of drift)."""
        drifts = report.of_kind(BalanceDrift)
        streak = self._drift_streak(bool(drifts))
        if not drifts:
            return
        detail = ", ".join(f"{d.asset} ledger {d.ledger} exchange {d.exchange}" for d in drifts)
        logger.bind(event="reconcile.mismatch", outcome="drift").warning(f"balance drift ({streak}): {detail}")
        if streak >= self._drift_cycles:
            result.requires_reducing = True
            result.drift_reasons.append(f"balance drift: {detail}")

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

    def apply_fill(self, client_order_id: ClientOrderId, fill: Fill, cycle_id: int) -> bool:
        """Book one trade (``services.fill_booking``): False when already booked or no order row."""
        return self._fills.book(client_order_id, fill, cycle_id)

    def apply_exchange_row(self, client_order_id: ClientOrderId, row: ExchangeOrder, cycle_id: int) -> None:
        now = self._clock.now()
        with self._uow() as uow:
            order = uow.orders.get(client_order_id)
            if order is None:
                return
            updated, event = on_exchange_order(order, row, now)
            if updated != order:
                uow.orders.update(updated)
                uow.journal.append(client_order_id, cycle_id, order.state, updated.state, str(event),
                                   row_payload(row), now)
            if updated.state not in UNRESOLVED:
                _close_outbox(uow, client_order_id, now)
            uow.commit()

    def mark_not_placed(self, client_order_id: ClientOrderId, cycle_id: int) -> None:
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
                               row_payload(row), now)
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
                payload["row"] = row_payload(correction.exchange_order)
            uow.journal.append(order.client_order_id, cycle_id, order.state, updated.state, str(event), payload, now)
            uow.commit()
        logger.bind(event="reconcile.corrected", client_order_id=order.client_order_id, symbol=order.symbol,
                    outcome="corrected_by_exchange").warning(
            f"order recorded {order.state} is on the exchange as {correction.exchange_order_id}: "
            "taking the exchange's state and booking its fills"
        )


def _close_outbox(uow: UnitOfWork, client_order_id: ClientOrderId, now: datetime) -> None:
    for item in uow.outbox.pending(OUTBOX_SUBMIT):
        if item.key == client_order_id:
            uow.outbox.mark_done(item.id, now)
