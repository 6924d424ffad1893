"""Deterministic client order ids (BTC Turk ``newOrderClientId``, at most 50 characters).

Format (only ``[A-Za-z0-9-]``)::

    bb-<strategy tag>-c<cycle id>-<symbol>-<B|S>-<hash10>
    bb-s1-c000123-BTCTRY-B-k3xq7ma2pd

- ``bb``: our prefix; an exchange order whose client id does not parse is *foreign* and is
  never touched (no cancel, no adoption).
- strategy tag: the strategy id reduced to lowercase ASCII letters/digits, at most 8 chars.
- cycle id: decimal, zero padded to 6 digits, at most 12 digits.
- symbol: uppercase letters/digits, at most 10 chars (readability only; matching uses the
  exchange row's own symbol).
- ``hash10``: 10 chars of lowercase base32 (50 bits) of sha256 over the FULL strategy id,
  cycle id, symbol, side and the intent hash, so truncating the readable parts never makes two
  different intents collide by construction.

The same intent in the same cycle always gets the same id: a crash between deciding and
committing re-derives the identical id, and the pre-send lookup finds the earlier order.
Worst case length: 3 + 8 + 2 + 12 + 1 + 10 + 3 + 10 = 49.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal

from btcbot.domain.enums import Side
from btcbot.domain.exchange_models import MAX_CLIENT_ORDER_ID_LEN
from btcbot.domain.ids import ClientOrderId
from btcbot.domain.intents import OrderIntent

CLIENT_ID_PREFIX = "bb"
MAX_STRATEGY_TAG_LEN = 8
MAX_SYMBOL_TAG_LEN = 10
MAX_CYCLE_ID = 999_999_999_999
HASH_LEN = 10

_SIDE_LETTER = {Side.BUY: "B", Side.SELL: "S"}
_LETTER_SIDE = {letter: side for side, letter in _SIDE_LETTER.items()}
_NON_ALNUM = re.compile(r"[^A-Za-z0-9]")
_PATTERN = re.compile(
    rf"{CLIENT_ID_PREFIX}-([a-z0-9]{{1,{MAX_STRATEGY_TAG_LEN}}})-c([0-9]{{6,12}})"
    rf"-([A-Z0-9]{{1,{MAX_SYMBOL_TAG_LEN}}})-([BS])-([a-z2-7]{{{HASH_LEN}}})"
)


@dataclass(frozen=True, slots=True)
class ClientOrderIdParts:
    """What a parsed client id of ours says. ``strategy_tag``/``symbol_tag`` may be truncated."""

    strategy_tag: str
    cycle_id: int
    symbol_tag: str
    side: Side
    digest: str


def _normalize_decimal(value: Decimal | None) -> str:
    """Canonical text for a Decimal: ``1.50`` and ``1.5`` hash alike; ``-0`` equals ``0``."""
    if value is None:
        return "-"
    if not value.is_finite():
        raise ValueError(f"intent field is not a finite decimal: {value!r}")
    if value == 0:
        return "0"
    # format(..., "f") avoids exponents, so 1E+1 and 10 both give "10".
    text = format(value.normalize(), "f")
    return text


def intent_hash(intent: OrderIntent) -> str:
    """A stable hex sha256 of the intent's economic fields (Decimals normalized).

    ``reason`` (free text for humans) is deliberately excluded: rewording a log message must not
    change an order's identity.
    """
    fields = (
        intent.strategy_id,
        intent.symbol.upper(),
        intent.side.value,
        intent.order_type.value,
        _normalize_decimal(intent.quantity),
        _normalize_decimal(intent.reference_price),
        _normalize_decimal(intent.limit_price),
        _normalize_decimal(intent.expected_edge_bps),
        _normalize_decimal(intent.est_fee_bps),
        _normalize_decimal(intent.est_slippage_bps),
    )
    # "\x1f" (unit separator) cannot appear in any field, so joining is unambiguous.
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


def _tag(text: str, max_len: int) -> str:
    return _NON_ALNUM.sub("", text)[:max_len]


def make_client_order_id(strategy_id: str, cycle_id: int, symbol: str, side: Side, intent_hash: str) -> ClientOrderId:
    """The deterministic client order id for one intent of one cycle (see module docstring).

    Raises ValueError for an empty strategy tag or symbol, a negative or too large cycle id, or an
    empty intent hash.
    """
    strategy_tag = _tag(strategy_id, MAX_STRATEGY_TAG_LEN).lower()
    symbol_tag = _tag(symbol, MAX_SYMBOL_TAG_LEN).upper()
    if not strategy_tag:
        raise ValueError(f"strategy id {strategy_id!r} has no ASCII letters or digits")
    if not symbol_tag:
        raise ValueError(f"symbol {symbol!r} has no ASCII letters or digits")
    if not 0 <= cycle_id <= MAX_CYCLE_ID:
        raise ValueError(f"cycle id {cycle_id} outside 0..{MAX_CYCLE_ID}")
    if not intent_hash:
        raise ValueError("intent hash must not be empty")
    material = "\x1f".join((strategy_id, str(cycle_id), symbol.upper(), side.value, intent_hash))
    digest = base64.b32encode(hashlib.sha256(material.encode()).digest()).decode().lower()[:HASH_LEN]
    text = f"{CLIENT_ID_PREFIX}-{strategy_tag}-c{cycle_id:06d}-{symbol_tag}-{_SIDE_LETTER[side]}-{digest}"
    assert len(text) <= MAX_CLIENT_ORDER_ID_LEN, text  # guaranteed by the bounds above
    return ClientOrderId(text)


def client_order_id_for(intent: OrderIntent, cycle_id: int) -> ClientOrderId:
    """Convenience: ``make_client_order_id`` with the intent's own fields and hash."""
    return make_client_order_id(intent.strategy_id, cycle_id, intent.symbol, intent.side, intent_hash(intent))


def parse_client_order_id(text: str | None) -> ClientOrderIdParts | None:
    """The parts of one of OUR client ids, or None for anything else (a foreign order)."""
    if not text:
        return None
    match = _PATTERN.fullmatch(text)
    if match is None:
        return None
    strategy_tag, cycle, symbol_tag, side_letter, digest = match.groups()
    return ClientOrderIdParts(
        strategy_tag=strategy_tag,
        cycle_id=int(cycle),
        symbol_tag=symbol_tag,
        side=_LETTER_SIDE[side_letter],
        digest=digest,
    )


def is_own_client_order_id(text: str | None) -> bool:
    """True when ``text`` is a client id this bot generated (prefix and shape match)."""
    return parse_client_order_id(text) is not None
