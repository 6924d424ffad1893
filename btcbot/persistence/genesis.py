"""Genesis: record the starting capital once, as explicit external postings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from btcbot.contracts.persistence import UnitOfWork
from btcbot.domain.ledger import ZERO, Posting, genesis_postings

GENESIS_KEY = "genesis_done"


def record_genesis(
    uow: UnitOfWork,
    free_quote: Decimal,
    quote: str,
    allocation: Decimal | None,
    holdings: Mapping[str, Decimal] | None,
    adopt_holdings: bool,
    at: datetime,
) -> list[Posting]:
    """Post starting capital inside ``uow`` (the caller commits); idempotent via ``meta``.

    The quote wallet starts at ``min(free_quote, allocation)`` (all of it without an allocation);
    coin ``holdings`` are adopted only when ``adopt_holdings`` (otherwise the bot ignores coins it
    did not buy). Returns the postings made; empty when genesis was already recorded.
    """
    if uow.meta.get(GENESIS_KEY) is not None:
        return []
    if allocation is not None and allocation < ZERO:
        raise ValueError("allocation must not be negative")
    batch: list[Posting] = []
    quote_amount = free_quote if allocation is None else min(free_quote, allocation)
    if quote_amount > ZERO:
        reason = "genesis: free quote balance" + ("" if allocation is None else f" capped by allocation {allocation}")
        batch += genesis_postings(quote, quote_amount, reason)
    if adopt_holdings and holdings:
        for asset in sorted(holdings):
            amount = holdings[asset]
            if asset != quote and amount > ZERO:
                batch += genesis_postings(asset, amount, "genesis: adopted existing holding")
    if batch:
        uow.ledger.post(batch, at)
    uow.meta.set(GENESIS_KEY, at.isoformat())
    return batch
