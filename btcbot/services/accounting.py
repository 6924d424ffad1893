"""Fill accounting: cost basis, realized PnL per month and the rolling 30-day notional.

Kept as small JSON documents in the ``meta`` table and updated in the SAME unit of work as the
fill and its ledger postings, so a crash can never count a fill in the ledger but not here.
Per-cycle cost is constant: nothing scans fill history.

Cost basis is average cost including buy fees and taxes; a sell realizes
``qty * price - fee - tax - qty * avg_cost``. Rules for coins the bot did not buy itself
(docs/risk.md, "Cost basis and realized profit"):

* coins adopted at genesis (``capital.adopt_existing_holdings``) and coins recorded as a deposit
  by ``reconcile --apply`` enter the basis at the mark price (ticker ``last``) of that moment, no
  fee: selling them later realizes only the move since then (:func:`record_inflow`);
* a withdrawal recorded by ``reconcile --apply`` takes its coins out at the average cost, realizing
  nothing;
* a sell larger than the recorded position (coins of unknown cost: adopted or deposited without
  a price, or history from before this rule) realizes PnL only on the recorded part; the excess is
  booked at its own sale price, i.e. zero profit and zero loss (its share of the fee and tax
  included), and a notice is queued for an alert (:func:`take_unknown_basis`).

Realized PnL is counted in the month (``risk.day_boundary_tz``) of the fill's own timestamp, not of
the moment it is processed: a fill made at 23:59 on the 31st and booked after midnight belongs to
the old month (harvesting and tax figures).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal

from btcbot.contracts.persistence import MetaRepository
from btcbot.domain.enums import Side
from btcbot.domain.exchange_models import Fill
from btcbot.domain.ledger import Account, Posting
from btcbot.domain.market import Ticker
from btcbot.domain.symbols import parse_pair
from btcbot.services.risk.calendar import month_key, risk_day

ZERO = Decimal(0)
ROLLING_DAYS = 30
#: Months of realized PnL kept (the current one included); older months are dropped.
MONTHS_KEPT = 36
#: Unknown-basis notices kept until an alert takes them (oldest dropped beyond this).
MAX_NOTICES = 50
META_BASIS = "accounting.cost_basis"
META_PNL = "accounting.realized_pnl"
META_NOTIONAL = "accounting.notional_by_day"
META_UNKNOWN_BASIS = "accounting.unknown_basis"

# The one rounding place of this module: pro-rata splits of cost and charges. 28 significant
# digits, half-even; exact whenever the whole position or the whole fill is involved.
_DIV = Context(prec=28, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class Position:
    qty: Decimal = ZERO
    cost: Decimal = ZERO

    @property
    def avg_cost(self) -> Decimal:
        return _DIV.divide(self.cost, self.qty) if self.qty > 0 else ZERO

    def cost_of(self, qty: Decimal) -> Decimal:
        """Average cost of ``qty`` (at most the position): exact when it is the whole position."""
        if qty >= self.qty:
            return self.cost
        return _DIV.divide(_DIV.multiply(self.cost, qty), self.qty)

    def take(self, qty: Decimal) -> Position:
        """The position after ``qty`` (at most the position) left at average cost."""
        remaining = self.qty - qty
        return Position(remaining, self.cost - self.cost_of(qty)) if remaining > 0 else Position()


@dataclass(frozen=True, slots=True)
class BasisChange:
    """What one fill did to the basis: the new position, the PnL it realized and the sold quantity
    not covered by the recorded position (booked at zero profit)."""

    position: Position
    realized: Decimal
    uncovered: Decimal = ZERO


def settle_fill(position: Position, fill: Fill) -> BasisChange:
    """Pure: the basis after ``fill`` (see the module docstring for the rules)."""
    charges = fill.fee + fill.tax
    if fill.side is Side.BUY:
        return BasisChange(Position(position.qty + fill.quantity, position.cost + fill.quote_value + charges), ZERO)
    covered = min(fill.quantity, position.qty)
    uncovered = fill.quantity - covered
    if covered == ZERO:
        return BasisChange(position, ZERO, uncovered)
    covered_charges = (
        charges if uncovered == ZERO else _DIV.divide(_DIV.multiply(charges, covered), fill.quantity)
    )
    realized = fill.price * covered - covered_charges - position.cost_of(covered)
    return BasisChange(position.take(covered), realized, uncovered)


def apply_to_basis(position: Position, fill: Fill) -> tuple[Position, Decimal]:
    """Pure: the position after ``fill`` and the PnL it realized (0 for buys)."""
    change = settle_fill(position, fill)
    return change.position, change.realized


# ---- storage -------------------------------------------------------------------------------


# A meta store may keep these documents parsed (the backtester's in-memory book does: a JSON
# round trip per fill would cost more than the fill): it then offers ``load_document(key)``
# (the stored document, which the caller may change and store back) and
# ``store_document(key, doc)``. The documents, and so every figure, are the same either way.
def _load(meta: MetaRepository, key: str) -> dict[str, object]:
    load_document = getattr(meta, "load_document", None)
    if load_document is not None:
        doc = load_document(key)
    else:
        raw = meta.get(key)
        doc = json.loads(raw) if raw else {}
    return doc if isinstance(doc, dict) else {}


def _dump(meta: MetaRepository, key: str, doc: Mapping[str, object] | list[object]) -> None:
    store_document = getattr(meta, "store_document", None)
    if store_document is not None:
        store_document(key, doc)
        return
    meta.set(key, json.dumps(doc, sort_keys=True, separators=(",", ":")))


def _position(basis: Mapping[str, object], asset: str) -> Position:
    entry = basis.get(asset)
    if isinstance(entry, list) and len(entry) == 2:
        return Position(Decimal(str(entry[0])), Decimal(str(entry[1])))
    return Position()


def _store_position(meta: MetaRepository, basis: dict[str, object], asset: str, position: Position) -> None:
    basis[asset] = [str(position.qty), str(position.cost)]
    _dump(meta, META_BASIS, basis)


def cost_basis(meta: MetaRepository, asset: str) -> Position:
    """The recorded position and total cost of ``asset`` (zero when none)."""
    return _position(_load(meta, META_BASIS), asset)


def _months(meta: MetaRepository) -> dict[str, Decimal]:
    doc = _load(meta, META_PNL)
    months = doc.get("months")
    if isinstance(months, dict):
        return {str(m): Decimal(str(v)) for m, v in months.items()}
    if "month" in doc:  # the single-month layout written before per-month figures
        return {str(doc["month"]): Decimal(str(doc.get("realized", "0")))}
    return {}


def realized_by_month(meta: MetaRepository) -> dict[str, Decimal]:
    """Realized PnL per ``YYYY-MM`` (risk-zone months of the fills' timestamps), oldest first."""
    return dict(sorted(_months(meta).items()))


def _add_realized(meta: MetaRepository, month: str, amount: Decimal) -> None:
    months = _months(meta)
    months[month] = months.get(month, ZERO) + amount
    kept = dict(sorted(months.items())[-MONTHS_KEPT:])
    _dump(meta, META_PNL, {"months": {m: str(v) for m, v in kept.items()}})


def record_fill(meta: MetaRepository, fill: Fill, base: str, now: datetime, tz: str) -> Decimal:
    """Update cost basis, realized PnL of the fill's month and notional-by-day for one NEW fill;
    return the PnL it realized. ``now`` only prunes the notional buckets."""
    basis = _load(meta, META_BASIS)
    change = settle_fill(_position(basis, base), fill)
    _store_position(meta, basis, base, change.position)
    if fill.side is Side.SELL:
        _add_realized(meta, month_key(fill.timestamp, tz), change.realized)
    if change.uncovered > ZERO:
        _queue_notice(meta, UnknownBasis(fill.trade_id, fill.symbol, change.uncovered, fill.price, fill.timestamp))

    day = risk_day(fill.timestamp, tz).isoformat()
    buckets = _load(meta, META_NOTIONAL)
    buckets[day] = str(Decimal(str(buckets.get(day, "0"))) + fill.quote_value)
    cutoff = (risk_day(now, tz) - timedelta(days=ROLLING_DAYS)).isoformat()
    _dump(meta, META_NOTIONAL, {d: v for d, v in buckets.items() if d > cutoff})
    return change.realized


def record_inflow(meta: MetaRepository, asset: str, qty: Decimal, mark: Decimal | None) -> None:
    """Coins that came from outside (genesis adoption, a deposit): ``qty`` enters the basis at
    ``qty * mark``. Without a mark nothing is recorded: the coins have no known cost, and a later
    sell of them realizes zero profit (see :func:`settle_fill`)."""
    if qty <= ZERO or mark is None or mark <= ZERO:
        return
    basis = _load(meta, META_BASIS)
    position = _position(basis, asset)
    _store_position(meta, basis, asset, Position(position.qty + qty, position.cost + qty * mark))


def record_outflow(meta: MetaRepository, asset: str, qty: Decimal) -> None:
    """Coins that left to the outside (a withdrawal): up to ``qty`` leaves the basis at average
    cost, realizing nothing."""
    if qty <= ZERO:
        return
    basis = _load(meta, META_BASIS)
    position = _position(basis, asset)
    if position.qty > ZERO:
        _store_position(meta, basis, asset, position.take(min(qty, position.qty)))


def record_external_flow(meta: MetaRepository, asset: str, qty: Decimal, value_quote: Decimal | None,
                         quote: str) -> None:
    """The basis side of a deposit (``qty > 0``) or withdrawal (``qty < 0``) that ``reconcile
    --apply`` posts; ``value_quote`` is ``qty`` valued at the mark (None when no price is known).
    The quote asset itself has no basis."""
    if asset == quote or qty == ZERO:
        return
    if qty < ZERO:
        record_outflow(meta, asset, -qty)
        return
    mark = None if value_quote is None else _DIV.divide(value_quote, qty)
    record_inflow(meta, asset, qty, mark)


def marks_by_asset(tickers: Iterable[Ticker], quote: str) -> dict[str, Decimal]:
    """Base asset -> mark price (ticker ``last``) for the tickers quoted in ``quote``."""
    marks: dict[str, Decimal] = {}
    for ticker in tickers:
        try:
            pair = parse_pair(ticker.symbol)
        except ValueError:
            continue
        if pair.quote == quote and ticker.last > ZERO:
            marks[pair.base] = ticker.last
    return marks


def record_genesis_basis(meta: MetaRepository, postings: Iterable[Posting], quote: str,
                         marks: Mapping[str, Decimal]) -> list[str]:
    """Genesis: every adopted coin (a ``wallet`` posting of ``record_genesis`` other than the
    quote) enters the basis at its mark; returns the assets adopted without a mark (no known
    cost: selling them realizes zero profit)."""
    unpriced = []
    for p in postings:
        if p.account is not Account.WALLET or p.asset == quote or p.amount <= ZERO:
            continue
        mark = marks.get(p.asset)
        if mark is None:
            unpriced.append(p.asset)
        record_inflow(meta, p.asset, p.amount, mark)
    return sorted(unpriced)


# ---- unknown-basis notices -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnknownBasis:
    """A sell of ``qty`` more than the recorded position (booked at zero profit)."""

    trade_id: int
    symbol: str
    qty: Decimal
    price: Decimal
    at: datetime

    def to_json(self) -> dict[str, str | int]:
        return {"trade_id": self.trade_id, "symbol": self.symbol, "qty": str(self.qty),
                "price": str(self.price), "at": self.at.isoformat()}


def _queue_notice(meta: MetaRepository, notice: UnknownBasis) -> None:
    raw = meta.get(META_UNKNOWN_BASIS)
    pending = json.loads(raw) if raw else []
    pending = [*pending, notice.to_json()][-MAX_NOTICES:]
    _dump(meta, META_UNKNOWN_BASIS, pending)


def take_unknown_basis(meta: MetaRepository) -> list[UnknownBasis]:
    """The queued unknown-basis notices, oldest first; clears the queue (call inside the unit of
    work that raises their alerts, so a rollback keeps them)."""
    raw = meta.get(META_UNKNOWN_BASIS)
    if not raw:
        return []
    items = json.loads(raw)
    if items:
        meta.set(META_UNKNOWN_BASIS, "[]")
    return [
        UnknownBasis(int(i["trade_id"]), str(i["symbol"]), Decimal(str(i["qty"])), Decimal(str(i["price"])),
                     datetime.fromisoformat(str(i["at"])))
        for i in items
    ]


# ---- reads ---------------------------------------------------------------------------------


def realized_pnl_mtd(meta: MetaRepository, now: datetime, tz: str) -> Decimal:
    """Realized PnL of the month of ``now`` (fills counted in the month of their own time)."""
    return _months(meta).get(month_key(now, tz), ZERO)


def rolling_notional(meta: MetaRepository, now: datetime, tz: str) -> Decimal:
    cutoff = (risk_day(now, tz) - timedelta(days=ROLLING_DAYS)).isoformat()
    buckets = _load(meta, META_NOTIONAL)
    return sum((Decimal(str(v)) for d, v in sorted(buckets.items()) if d > cutoff), ZERO)
