"""Fill accounting: cost basis, realized PnL month-to-date and the rolling 30-day notional.

Kept as small JSON documents in the ``meta`` table and updated in the SAME unit of work as the
fill and its ledger postings, so a crash can never count a fill in the ledger but not here.
Per-cycle cost is constant: nothing scans fill history.

Cost basis is average cost including buy fees and taxes; a sell realizes
``qty * price - fee - tax - qty * avg_cost``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from btcbot.domain.enums import Side
from btcbot.domain.exchange_models import Fill
from btcbot.persistence.protocols import MetaRepository
from btcbot.services.risk.calendar import month_key, risk_day

ZERO = Decimal(0)
ROLLING_DAYS = 30
META_BASIS = "accounting.cost_basis"
META_PNL = "accounting.realized_pnl"
META_NOTIONAL = "accounting.notional_by_day"


@dataclass(frozen=True, slots=True)
class Position:
    qty: Decimal = ZERO
    cost: Decimal = ZERO

    @property
    def avg_cost(self) -> Decimal:
        return self.cost / self.qty if self.qty > 0 else ZERO


def apply_to_basis(position: Position, fill: Fill) -> tuple[Position, Decimal]:
    """Pure: the position after ``fill`` and the PnL it realized (0 for buys)."""
    charges = fill.fee + fill.tax
    if fill.side is Side.BUY:
        return Position(position.qty + fill.quantity, position.cost + fill.quote_value + charges), ZERO
    sold = min(fill.quantity, position.qty)
    cost_out = position.avg_cost * sold
    realized = fill.quote_value - charges - cost_out
    remaining = position.qty - sold
    return Position(remaining, position.cost - cost_out if remaining > 0 else ZERO), realized


def _load(meta: MetaRepository, key: str) -> dict[str, object]:
    raw = meta.get(key)
    return json.loads(raw) if raw else {}


def _dump(meta: MetaRepository, key: str, doc: dict[str, object]) -> None:
    meta.set(key, json.dumps(doc, sort_keys=True, separators=(",", ":")))


def record_fill(meta: MetaRepository, fill: Fill, base: str, now: datetime, tz: str) -> Decimal:
    """Update cost basis, realized PnL MTD and notional-by-day for one NEW fill; return realized."""
    basis = _load(meta, META_BASIS)
    entry = basis.get(base)
    position = Position(Decimal(str(entry[0])), Decimal(str(entry[1]))) if isinstance(entry, list) else Position()
    position, realized = apply_to_basis(position, fill)
    basis[base] = [str(position.qty), str(position.cost)]
    _dump(meta, META_BASIS, basis)

    month = month_key(now, tz)
    pnl = _load(meta, META_PNL)
    current = Decimal(str(pnl.get("realized", "0"))) if pnl.get("month") == month else ZERO
    _dump(meta, META_PNL, {"month": month, "realized": str(current + realized)})

    day = risk_day(fill.timestamp, tz).isoformat()
    buckets = _load(meta, META_NOTIONAL)
    buckets[day] = str(Decimal(str(buckets.get(day, "0"))) + fill.quote_value)
    cutoff = (risk_day(now, tz) - timedelta(days=ROLLING_DAYS)).isoformat()
    _dump(meta, META_NOTIONAL, {d: v for d, v in buckets.items() if d > cutoff})
    return realized


def realized_pnl_mtd(meta: MetaRepository, now: datetime, tz: str) -> Decimal:
    pnl = _load(meta, META_PNL)
    return Decimal(str(pnl["realized"])) if pnl.get("month") == month_key(now, tz) else ZERO


def rolling_notional(meta: MetaRepository, now: datetime, tz: str) -> Decimal:
    cutoff = (risk_day(now, tz) - timedelta(days=ROLLING_DAYS)).isoformat()
    buckets = _load(meta, META_NOTIONAL)
    return sum((Decimal(str(v)) for d, v in sorted(buckets.items()) if d > cutoff), ZERO)
