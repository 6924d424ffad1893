"""Property tests: random fill streams (buys, sells, partial fills, duplicate deliveries, aborted
units of work) keep the ledger balanced, count each trade once and match an independent model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from btcbot.domain.enums import Side
from btcbot.domain.errors import InvariantViolation
from btcbot.domain.ledger import Account, genesis_postings, postings_for_fill
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.fake import FakeStore, FakeUnitOfWork
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork

from .conftest import UowFactory, wipe
from .factories import T0, fill

GENESIS = Decimal("1000000")


@dataclass(frozen=True)
class Op:
    trade_id: int
    side: Side
    price: Decimal
    quantity: Decimal
    fee: Decimal
    tax: Decimal
    commit: bool


ops_strategy = st.lists(
    st.builds(
        Op,
        trade_id=st.integers(1, 8),  # small range: duplicate deliveries are common
        side=st.sampled_from([Side.BUY, Side.SELL]),
        price=st.decimals(Decimal("0.01"), Decimal("3000000"), places=2),
        quantity=st.decimals(Decimal("0.00000001"), Decimal("0.5"), places=8),
        fee=st.decimals(Decimal(0), Decimal("50"), places=8),
        tax=st.decimals(Decimal(0), Decimal("10"), places=8),
        commit=st.sampled_from([True, True, True, False]),  # mostly committed, some aborted
    ),
    max_size=12,
)


@pytest.fixture(params=["fake", "sqlite", "postgresql"])
def fresh_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], UowFactory]]:
    """Returns a function that empties the store and gives a UoW factory over it."""
    if request.param == "fake":

        def fake() -> UowFactory:
            store = FakeStore()
            return lambda: FakeUnitOfWork(store)

        yield fake
        return
    url = f"sqlite:///{tmp_path / 'p.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_schema_url")
    upgrade(url)
    engine = create_engine_for(url)

    def sql() -> UowFactory:
        wipe(engine)
        return lambda: SqlUnitOfWork(engine)

    try:
        yield sql
    finally:
        engine.dispose()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=ops_strategy)
def test_random_fill_streams_keep_the_books(fresh_factory: Callable[[], UowFactory], ops: list[Op]) -> None:
    factory = fresh_factory()
    with factory() as uow:
        uow.ledger.post(genesis_postings("TRY", GENESIS, "property test capital"), T0)
        uow.commit()

    # Independent model: plain arithmetic over the applied fills, no postings involved.
    model_try, model_btc, model_fees = GENESIS, Decimal(0), Decimal(0)
    applied: set[int] = set()
    for op in ops:
        f = fill(op.trade_id, op.side, str(op.price), str(op.quantity), str(op.fee), str(op.tax))
        value = op.price * op.quantity
        sign = 1 if op.side is Side.BUY else -1
        new_try = model_try - sign * value - op.fee - op.tax
        new_btc = model_btc + sign * op.quantity
        with factory() as uow:
            if not uow.fills.add_if_new(f, cycle_id=1):
                assert op.trade_id in applied
                continue
            try:
                uow.ledger.post(postings_for_fill(f, "BTC", "TRY"), T0, cycle_id=1)
            except InvariantViolation:
                # Refused (would overdraw): nothing of this unit of work may remain.
                assert new_try < 0 or new_btc < 0
                continue
            assert new_try >= 0 and new_btc >= 0
            if op.commit:
                uow.commit()
                applied.add(op.trade_id)
                model_try, model_btc = new_try, new_btc
                model_fees += op.fee + op.tax
            # else: leave without commit; the model is unchanged

    with factory() as uow:
        assert uow.ledger.check_invariants() == []
        expected = {a: v for a, v in {"TRY": model_try, "BTC": model_btc}.items() if v != 0}
        assert uow.ledger.wallet_balances() == expected
        assert {t for t in range(1, 9) if uow.fills.exists(t)} == applied
        for t in applied:
            entries = uow.ledger.entries(f"trade:{t}")
            assert len({e.batch_id for e in entries}) == 1  # applied exactly once
            for asset in ("TRY", "BTC"):
                assert sum(e.amount for e in entries if e.asset == asset) == 0
        fees = uow.ledger.balance(Account.FEES, "TRY") + uow.ledger.balance(Account.TAXES, "TRY")
        assert fees == model_fees

