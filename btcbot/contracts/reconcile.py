"""The reconciler's port and the values it trades in (design document: ``Reconciler``).

The trading cycle (``btcbot.app.cycle``) talks to reconciliation through :class:`Reconciler`
only: it hands over what the exchange showed (:class:`ExchangeView`) and the database's side
read in its opening transaction (:class:`LocalBooks`), and gets a :class:`SyncResult` whose
:class:`ReconcileReport` lists typed corrections (the table in
``btcbot.services.execution.corrections``, which executes them). The implementation is
``btcbot.services.reconcile_service.ReconcileService``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol, TypeVar

from btcbot.contracts.persistence import UnitOfWork
from btcbot.domain.enums import OrderState, Side
from btcbot.domain.exchange_models import ExchangeOrder, Fill
from btcbot.domain.ids import ClientOrderId, ExchangeOrderId
from btcbot.domain.market import Balance
from btcbot.domain.orders import ManagedOrder

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class AdoptUnknownOrder:
    """Create a local row for an exchange order of ours (``adopt_order``).

    ``exchange_order`` is None when the order is only known from a fill: fetch it first with
    ``get_order(exchange_order_id)``.
    """

    client_order_id: ClientOrderId
    exchange_order_id: ExchangeOrderId
    symbol: str
    side: Side
    exchange_order: ExchangeOrder | None


@dataclass(frozen=True, slots=True)
class CorrectFromExchange:
    """Order ``client_order_id`` is REJECTED/NOT_PLACED locally, but the exchange has it as
    ``exchange_order_id``: reopen it as UNKNOWN with that id
    (``order_events.on_exchange_correction``); its fills follow as ApplyFill and its row as
    UpdateOrderState, in the same report.

    ``exchange_order`` is the row that proved it, None when only a trade did (then the row comes
    from a later lookup).
    """

    client_order_id: ClientOrderId
    exchange_order_id: ExchangeOrderId
    exchange_order: ExchangeOrder | None


@dataclass(frozen=True, slots=True)
class ApplyFill:
    """Apply ``fill`` to order ``client_order_id`` (order, fill row and ledger in one transaction)."""

    client_order_id: ClientOrderId
    fill: Fill


@dataclass(frozen=True, slots=True)
class UpdateOrderState:
    """Apply ``exchange_order`` to the order; ``target`` is the state that will result."""

    client_order_id: ClientOrderId
    target: OrderState
    exchange_order: ExchangeOrder


@dataclass(frozen=True, slots=True)
class MarkNotPlaced:
    client_order_id: ClientOrderId


@dataclass(frozen=True, slots=True)
class CloseVanishedOrder:
    """The order left the open list without a final row in history: ask ``get_order`` and apply it."""

    client_order_id: ClientOrderId
    exchange_order_id: ExchangeOrderId


@dataclass(frozen=True, slots=True)
class PendingLookup:
    client_order_id: ClientOrderId
    reason: str


@dataclass(frozen=True, slots=True)
class DuplicateClientOrderId:
    """``chosen`` is tracked; ``others`` are extra exchange orders with the same client id.

    ``open_others`` (a subset of ``others``) are still open: the cycle should cancel them.
    """

    client_order_id: ClientOrderId
    chosen: ExchangeOrderId
    others: tuple[ExchangeOrderId, ...]
    open_others: tuple[ExchangeOrderId, ...]


@dataclass(frozen=True, slots=True)
class OrderConflict:
    client_order_id: ClientOrderId
    detail: str


@dataclass(frozen=True, slots=True)
class BalanceDrift:
    """The exchange holds less than the ledger: ``diff = exchange - ledger < 0``.

    ``ledger`` includes the fills this same report applies. ``diff_quote`` is ``diff`` valued
    in the quote asset, None when no price is known (then any shortfall counts as drift).
    """

    asset: str
    ledger: Decimal
    exchange: Decimal
    diff: Decimal
    diff_quote: Decimal | None


@dataclass(frozen=True, slots=True)
class ExternalSurplus:
    """The exchange holds more than the ledger (``diff > 0``). Information only, never adopted."""

    asset: str
    ledger: Decimal
    exchange: Decimal
    diff: Decimal
    diff_quote: Decimal | None


Correction = (
    AdoptUnknownOrder
    | CorrectFromExchange
    | ApplyFill
    | UpdateOrderState
    | MarkNotPlaced
    | CloseVanishedOrder
    | PendingLookup
    | DuplicateClientOrderId
    | OrderConflict
    | BalanceDrift
    | ExternalSurplus
)

#: execution (and display) order of the kinds
KIND_ORDER: tuple[type, ...] = (
    AdoptUnknownOrder,
    CorrectFromExchange,
    ApplyFill,
    UpdateOrderState,
    MarkNotPlaced,
    CloseVanishedOrder,
    PendingLookup,
    DuplicateClientOrderId,
    OrderConflict,
    BalanceDrift,
    ExternalSurplus,
)

_KIND_NAMES: dict[type, str] = {
    AdoptUnknownOrder: "adopt_unknown_order",
    CorrectFromExchange: "correct_from_exchange",
    ApplyFill: "apply_fill",
    UpdateOrderState: "update_order_state",
    MarkNotPlaced: "mark_not_placed",
    CloseVanishedOrder: "close_vanished_order",
    PendingLookup: "pending_lookup",
    DuplicateClientOrderId: "duplicate_client_order_id",
    OrderConflict: "order_conflict",
    BalanceDrift: "balance_drift",
    ExternalSurplus: "external_surplus",
}


def kind_name(correction: Correction) -> str:
    """Stable snake_case name of a correction's kind (journal, metrics label, CLI)."""
    return _KIND_NAMES[type(correction)]


def sort_key(correction: Correction) -> tuple[int, str, str, int]:
    """Total, deterministic order: kind, then time (fills), then subject, then id."""
    rank = KIND_ORDER.index(type(correction))
    if isinstance(correction, ApplyFill):
        return (
            rank,
            correction.fill.timestamp.isoformat(),
            correction.client_order_id,
            correction.fill.trade_id,
        )
    if isinstance(correction, BalanceDrift | ExternalSurplus):
        return rank, "", correction.asset, 0
    if isinstance(correction, AdoptUnknownOrder | CloseVanishedOrder | CorrectFromExchange):
        return rank, "", correction.client_order_id, correction.exchange_order_id
    return rank, "", correction.client_order_id, 0


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """Everything reconciliation found, corrections in execution order."""

    corrections: tuple[Correction, ...]
    foreign_orders_ignored: int = 0
    foreign_fills_ignored: int = 0

    @property
    def requires_reducing(self) -> bool:
        """Drift or a conflict: trading must go to REDUCING (never silent adoption)."""
        return any(isinstance(c, BalanceDrift | OrderConflict) for c in self.corrections)

    @property
    def has_conflicts(self) -> bool:
        return any(isinstance(c, OrderConflict) for c in self.corrections)

    @property
    def is_clean(self) -> bool:
        """Nothing to repair and nothing to warn about (surplus and pending lookups are info)."""
        return all(isinstance(c, ExternalSurplus | PendingLookup) for c in self.corrections)

    def of_kind(self, kind: type[_T]) -> tuple[_T, ...]:
        return tuple(c for c in self.corrections if isinstance(c, kind))


@dataclass(frozen=True)
class LocalBooks:
    """The database's side of a pass, read in one transaction."""

    open_orders: tuple[ManagedOrder, ...]  # every non-terminal order
    recent_orders: tuple[ManagedOrder, ...]  # the newest LATE_FILL_SCAN orders, any state
    ledger: Mapping[str, Decimal]  # wallet per asset, the reserve folded into the quote asset
    #: exchange order id -> trade ids already booked, for orders whose trades a pass fetches
    #: anyway (those that finished within the grace period): their fetched trades need no lookup.
    booked_trades: Mapping[int, frozenset[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class ExchangeView:
    """What the exchange showed this cycle: our open orders, the balances (None: the read
    failed) and the last price per symbol."""

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
    books_changed: bool = False  # a correction wrote order/fill/ledger rows: re-read what depends on them

    @property
    def blocks_new_risk(self) -> bool:
        """An unexplained shortfall (or a conflict) is visible now: no risk-increasing order may
        be sent until a lookup or ``reconcile --apply`` explains it (exits stay allowed)."""
        return self.requires_reducing or bool(self.report.of_kind(BalanceDrift))


class Reconciler(Protocol):
    def read_books(
        self,
        uow: UnitOfWork,
        *,
        open_orders: Sequence[ManagedOrder] | None = None,
        wallet: Mapping[str, Decimal] | None = None,
        reserve: Decimal | None = None,
    ) -> LocalBooks:
        """The database's side of a pass, read inside the caller's transaction (what the caller
        read already in it is passed in and not read again)."""
        ...

    def plan(self, view: ExchangeView, books: LocalBooks | None = None) -> tuple[object, ReconcileReport]:
        """What a pass would do, without doing it: (what it gathered, the report)."""
        ...

    def sync(self, cycle_id: int, view: ExchangeView, books: LocalBooks | None = None) -> SyncResult:
        """One pass: plan, then execute every correction in the report's order (its own
        transactions); ``books``: the database's side when the caller read it already."""
        ...


__all__ = [
    "KIND_ORDER", "AdoptUnknownOrder", "ApplyFill", "BalanceDrift", "CloseVanishedOrder", "CorrectFromExchange",
    "Correction", "DuplicateClientOrderId", "ExchangeView", "ExternalSurplus", "LocalBooks", "MarkNotPlaced",
    "OrderConflict", "PendingLookup", "ReconcileReport", "Reconciler", "SyncResult", "UpdateOrderState",
    "kind_name", "sort_key",
]
