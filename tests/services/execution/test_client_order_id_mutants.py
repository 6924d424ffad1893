"""Client order ids against the documented recipe, at the bounds of every part.

Written against the survivors of ``scripts/mutation_test.py services/execution/client_order_id``.
An id must be re-derived identically after a restart (and an upgrade): the pre-send lookup finds
an earlier order only by it. So the recipe in the module docstring is rebuilt here independently
(sha256 over the unit-separated fields, base32, lowercase, 10 characters) and two ids are pinned
as literals.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from decimal import Decimal

import pytest

from btcbot.domain.enums import OrderType, Side
from btcbot.domain.intents import OrderIntent
from btcbot.services.execution.client_order_id import (
    MAX_CYCLE_ID,
    ClientOrderIdParts,
    client_order_id_for,
    intent_hash,
    make_client_order_id,
    parse_client_order_id,
)


def _intent(**changes: object) -> OrderIntent:
    base = OrderIntent(
        strategy_id="s1", symbol="btctry", side=Side.BUY, order_type=OrderType.LIMIT,
        quantity=Decimal("0.0100"), reference_price=Decimal("2000000"), expected_edge_bps=Decimal("35"),
        limit_price=Decimal("1999000"), reason="momentum",
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def _digest(*material: str) -> str:
    raw = hashlib.sha256("\x1f".join(material).encode()).digest()
    return base64.b32encode(raw).decode().lower()[:10]


def test_intent_hash_follows_the_documented_fields_in_order() -> None:
    # strategy id, SYMBOL, side, type, quantity, reference, limit, edge, est. fee, est. slippage
    fields = ["s1", "BTCTRY", "BUY", "LIMIT", "0.01", "2000000", "1999000", "35", "0", "0"]
    expected = hashlib.sha256("\x1f".join(fields).encode()).hexdigest()
    assert intent_hash(_intent()) == expected
    assert expected == "4a3e104fe14baf517fbc1a05897bf78fa5b468775aaba9493a77a02e4d1b342c"  # pinned


def test_intent_hash_without_a_limit_price_writes_a_dash() -> None:
    market = _intent(order_type=OrderType.MARKET, limit_price=None, est_fee_bps=Decimal("12.50"))
    fields = ["s1", "BTCTRY", "BUY", "MARKET", "0.01", "2000000", "-", "35", "12.5", "0"]
    assert intent_hash(market) == hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


@pytest.mark.parametrize("zero", ["-0", "0E-8", "0.000", "-0.0"])
def test_every_zero_hashes_like_zero(zero: str) -> None:
    assert intent_hash(_intent(est_slippage_bps=Decimal(zero))) == intent_hash(_intent())


def test_exponent_forms_hash_alike() -> None:
    assert intent_hash(_intent(expected_edge_bps=Decimal("3.5E+1"))) == intent_hash(_intent())


def test_id_follows_the_documented_recipe() -> None:
    cid = make_client_order_id("Strategy_One.v2", 0, "btc_try", Side.SELL, "abc")
    # tag: letters/digits only, lowercase, 8 chars; cycle 0 padded to 6 digits; symbol uppercase
    digest = _digest("Strategy_One.v2", "0", "BTC_TRY", "SELL", "abc")
    assert cid == f"bb-strategy-c000000-BTCTRY-S-{digest}"
    assert cid == "bb-strategy-c000000-BTCTRY-S-oxi7dg5kt4"  # pinned


def test_largest_cycle_and_longest_symbol_tag() -> None:
    cid = make_client_order_id("s1", MAX_CYCLE_ID, "ABCDEFGHIJK", Side.BUY, "abc")
    assert (
        cid
        == f"bb-s1-c999999999999-ABCDEFGHIJ-B-{_digest('s1', str(MAX_CYCLE_ID), 'ABCDEFGHIJK', 'BUY', 'abc')}"
    )
    assert parse_client_order_id(cid) == ClientOrderIdParts(
        strategy_tag="s1", cycle_id=MAX_CYCLE_ID, symbol_tag="ABCDEFGHIJ", side=Side.BUY, digest=cid[-10:]
    )


def test_one_past_the_largest_cycle_is_refused() -> None:
    with pytest.raises(ValueError, match="cycle id 1000000000000 outside 0..999999999999"):
        make_client_order_id("s1", MAX_CYCLE_ID + 1, "BTCTRY", Side.BUY, "abc")


def test_eight_and_nine_character_strategy_ids() -> None:
    assert make_client_order_id("abcdefgh", 1, "BTCTRY", Side.BUY, "h").startswith("bb-abcdefgh-c000001-")
    assert make_client_order_id("abcdefghi", 1, "BTCTRY", Side.BUY, "h").startswith("bb-abcdefgh-c000001-")


def test_client_order_id_for_uses_the_intents_fields_and_hash() -> None:
    intent = _intent(side=Side.SELL)
    expected = make_client_order_id("s1", 9, "btctry", Side.SELL, intent_hash(intent))
    assert client_order_id_for(intent, 9) == expected
    assert expected.startswith("bb-s1-c000009-BTCTRY-S-")


def test_parse_reads_every_part() -> None:
    parts = parse_client_order_id("bb-ab12-c1234567-ETHTRY-S-abcdefgh27")
    assert parts == ClientOrderIdParts("ab12", 1234567, "ETHTRY", Side.SELL, "abcdefgh27")
