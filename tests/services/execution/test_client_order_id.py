"""Client order ids: bounded, deterministic, distinct per intent, parseable only when ours."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from btcbot.domain.enums import OrderType, Side
from btcbot.domain.intents import OrderIntent
from btcbot.services.execution.client_order_id import (
    MAX_CYCLE_ID,
    client_order_id_for,
    intent_hash,
    is_own_client_order_id,
    make_client_order_id,
    parse_client_order_id,
)

ALLOWED = re.compile(r"[A-Za-z0-9-]+")


def _intent(**changes: object) -> OrderIntent:
    base = OrderIntent(
        strategy_id="s1",
        symbol="BTCTRY",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal("0.0100"),
        reference_price=Decimal("2000000"),
        expected_edge_bps=Decimal("35"),
        limit_price=Decimal("1999000"),
        reason="momentum",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_readable_format() -> None:
    cid = make_client_order_id("s1", 123, "BTCTRY", Side.BUY, intent_hash(_intent()))
    assert cid.startswith("bb-s1-c000123-BTCTRY-B-")
    assert len(cid.rsplit("-", 1)[1]) == 10


def test_deterministic() -> None:
    assert client_order_id_for(_intent(), 7) == client_order_id_for(_intent(), 7)
    assert intent_hash(_intent()) == intent_hash(_intent())


def test_decimal_representation_does_not_change_the_hash() -> None:
    a = _intent(quantity=Decimal("0.0100"), reference_price=Decimal("2E+6"))
    b = _intent(quantity=Decimal("0.01"), reference_price=Decimal("2000000.000"))
    assert intent_hash(a) == intent_hash(b)


def test_reason_text_does_not_change_the_hash() -> None:
    assert intent_hash(_intent(reason="a")) == intent_hash(_intent(reason="b"))


@pytest.mark.parametrize(
    "changes",
    [
        {"quantity": Decimal("0.0101")},
        {"limit_price": Decimal("1999001")},
        {"limit_price": None, "order_type": OrderType.MARKET},
        {"side": Side.SELL},
        {"symbol": "ETHTRY"},
        {"strategy_id": "s2"},
        {"expected_edge_bps": Decimal("36")},
        {"reference_price": Decimal("2000001")},
    ],
)
def test_different_intents_get_different_ids(changes: dict[str, object]) -> None:
    other = _intent(**changes)
    assert intent_hash(other) != intent_hash(_intent())
    assert client_order_id_for(other, 7) != client_order_id_for(_intent(), 7)


def test_different_cycles_get_different_ids() -> None:
    assert client_order_id_for(_intent(), 7) != client_order_id_for(_intent(), 8)


def test_truncated_strategy_tags_still_differ_by_hash() -> None:
    # Both reduce to the same 8-char tag; the full strategy id is inside the digest.
    a = make_client_order_id("momentum-alpha", 1, "BTCTRY", Side.BUY, "h")
    b = make_client_order_id("momentum-beta", 1, "BTCTRY", Side.BUY, "h")
    assert a.split("-")[1] == b.split("-")[1] == "momentum"
    assert a != b


@settings(max_examples=150, deadline=None)
@given(
    strategy_id=st.text(min_size=1, max_size=200).filter(
        lambda s: any(c.isascii() and c.isalnum() for c in s)
    ),
    cycle_id=st.integers(min_value=0, max_value=MAX_CYCLE_ID),
    symbol=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", min_size=1, max_size=80).filter(
        lambda s: s.strip("_") != ""
    ),
    side=st.sampled_from(list(Side)),
    ihash=st.text(min_size=1, max_size=100),
)
def test_bounded_charset_and_round_trip(
    strategy_id: str, cycle_id: int, symbol: str, side: Side, ihash: str
) -> None:
    cid = make_client_order_id(strategy_id, cycle_id, symbol, side, ihash)
    assert len(cid) <= 50
    assert ALLOWED.fullmatch(cid)
    parts = parse_client_order_id(cid)
    assert parts is not None
    assert parts.cycle_id == cycle_id
    assert parts.side is side


def test_worst_case_length() -> None:
    cid = make_client_order_id("x" * 300, MAX_CYCLE_ID, "VERYLONGSYMBOLNAMEUSDT", Side.SELL, "f" * 64)
    assert len(cid) <= 50


@pytest.mark.parametrize(
    ("strategy_id", "cycle_id", "symbol", "problem"),
    [
        ("---", 1, "BTCTRY", "strategy"),
        ("s1", -1, "BTCTRY", "cycle"),
        ("s1", MAX_CYCLE_ID + 1, "BTCTRY", "cycle"),
        ("s1", 1, "__", "symbol"),
    ],
)
def test_invalid_inputs(strategy_id: str, cycle_id: int, symbol: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        make_client_order_id(strategy_id, cycle_id, symbol, Side.BUY, "h")


def test_empty_intent_hash_refused() -> None:
    with pytest.raises(ValueError, match="hash"):
        make_client_order_id("s1", 1, "BTCTRY", Side.BUY, "")


@pytest.mark.parametrize(
    "foreign",
    [
        None,
        "",
        "BtcTurk API",
        "test",
        "15566",
        "6f1c3a0e-2b4d-4a8e-9c1f-0d2e3f4a5b6c",
        "bb-s1-c000123-BTCTRY-B-short",
        "bb-s1-c123-BTCTRY-B-abcdefghij",  # cycle not padded
        "bb-s1-c000123-BTCTRY-X-abcdefghij",
        "bb-s1-c000123-BTCTRY-B-abcdefghij\n",
        "xx-s1-c000123-BTCTRY-B-abcdefghij",
    ],
)
def test_foreign_ids_do_not_parse(foreign: str | None) -> None:
    assert parse_client_order_id(foreign) is None
    assert not is_own_client_order_id(foreign)


def test_parse_own_id() -> None:
    cid = client_order_id_for(_intent(side=Side.SELL), 42)
    parts = parse_client_order_id(cid)
    assert parts is not None
    assert (parts.strategy_tag, parts.cycle_id, parts.symbol_tag, parts.side) == (
        "s1",
        42,
        "BTCTRY",
        Side.SELL,
    )
    assert cid.endswith(parts.digest)


def test_non_finite_decimal_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        intent_hash(_intent(quantity=Decimal("NaN")))
