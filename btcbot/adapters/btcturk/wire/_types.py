"""Tolerant scalar types and the base model for BTC Turk wire payloads.

Real payloads drift (btcturk_api.md sections 0, 3, 11): numbers come as JSON numbers or strings,
balances may use a comma decimal separator, ids exceed 2**53, casing of ``type``/``method``/
``status`` varies, ``code`` is an int, a string or "", keys are camelCase or all lowercase.
Money is never a float: bodies are decoded with ``parse_float=Decimal`` and any stray float is
converted through ``str``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

from btcbot.domain.enums import OrderType, Side, VenueOrderStatus

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Magnitudes outside 1e-30 .. 1e30 are junk for any price or amount on this venue.
_MAX_ADJUSTED = 30
#: Latest accepted timestamp: year ~5138 in ms; rejects garbage before datetime overflows.
_MAX_MS = 10**14


def to_decimal(value: Any) -> Decimal:
    """Number or numeric string (dot or single comma separator) -> finite Decimal."""
    if isinstance(value, bool):
        raise ValueError("boolean is not a number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(str(value))
    elif isinstance(value, str):
        text = value.strip()
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")  # the balances doc sample writes "27223,72..."
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValueError("not a decimal number") from None
    else:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError("number is not finite")
    if result and not -_MAX_ADJUSTED <= result.adjusted() <= _MAX_ADJUSTED:
        raise ValueError("number out of range")
    return result


def to_optional_decimal(value: Any) -> Decimal | None:
    """Like :func:`to_decimal` but null and "" mean absent (exchangeinfo filter values)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return to_decimal(value)


def to_int(value: Any) -> int:
    """Integer or integral numeric string/Decimal -> int (arbitrary size, so ids > 2**53 survive)."""
    if isinstance(value, bool):
        raise ValueError("boolean is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit() and len(text) <= 40:
            return int(text)
        raise ValueError("not an integer")
    if isinstance(value, Decimal | float):
        dec = to_decimal(value)
        if dec == dec.to_integral_value():
            return int(dec)
        raise ValueError("not an integer")
    raise ValueError(f"expected an integer, got {type(value).__name__}")


def to_code(value: Any) -> int | None:
    """The envelope ``code``: int, numeric string, "" or null."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return to_int(value)
    except ValueError:
        return None  # SWAGGER documents camelCase names here; the message carries the meaning


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError("expected a boolean")


def _ms_to_datetime(value: Any) -> datetime:
    ms = to_int(value)
    if not 0 <= ms < _MAX_MS:
        raise ValueError("timestamp out of range")
    return EPOCH + timedelta(milliseconds=ms)


def to_ms_datetime(value: Any) -> datetime:
    """Unix milliseconds -> aware UTC datetime."""
    return _ms_to_datetime(value)


def to_optional_ms_datetime(value: Any) -> datetime | None:
    """Unix ms, where 0 / null mean unknown (openOrders always sends ``time: 0``)."""
    if value is None:
        return None
    dt = _ms_to_datetime(value)
    return None if dt == EPOCH else dt


def to_s_datetime(value: Any) -> datetime:
    """Unix seconds -> aware UTC datetime (graph host)."""
    seconds = to_int(value)
    if not 0 <= seconds < _MAX_MS // 1000:
        raise ValueError("timestamp out of range")
    return EPOCH + timedelta(seconds=seconds)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value.strip().lower()


def to_side(value: Any) -> Side:
    text = _text(value)
    if text in ("buy", "bid"):
        return Side.BUY
    if text in ("sell", "ask"):
        return Side.SELL
    raise ValueError("unknown side")


def to_order_type(value: Any) -> OrderType:
    """limit/stoplimit -> LIMIT, market/stopmarket -> MARKET (we never place stop orders; a
    triggered stop appears as a new limit/market order)."""
    text = _text(value).replace("_", "")
    if text in ("limit", "stoplimit"):
        return OrderType.LIMIT
    if text in ("market", "stopmarket"):
        return OrderType.MARKET
    raise ValueError("unknown order method")


def to_status(value: Any) -> VenueOrderStatus:
    text = _text(value)
    mapping = {
        "untouched": VenueOrderStatus.UNTOUCHED,
        "partial": VenueOrderStatus.PARTIAL,
        "closed": VenueOrderStatus.CLOSED,
        "canceled": VenueOrderStatus.CANCELED,
        "cancelled": VenueOrderStatus.CANCELED,
    }
    if text not in mapping:
        raise ValueError("unknown order status")
    return mapping[text]


def to_symbol(value: Any) -> str:
    """``BTC_TRY`` / ``btctry`` -> ``BTCTRY``."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a pair symbol")
    return value.strip().replace("_", "").upper()


WireDecimal = Annotated[Decimal, BeforeValidator(to_decimal)]
OptDecimal = Annotated[Decimal | None, BeforeValidator(to_optional_decimal)]
WireInt = Annotated[int, BeforeValidator(to_int)]
WireCode = Annotated[int | None, BeforeValidator(to_code)]
WireBool = Annotated[bool, BeforeValidator(to_bool)]
WireMillis = Annotated[datetime, BeforeValidator(to_ms_datetime)]
OptMillis = Annotated[datetime | None, BeforeValidator(to_optional_ms_datetime)]
WireSeconds = Annotated[datetime, BeforeValidator(to_s_datetime)]
WireSide = Annotated[Side, BeforeValidator(to_side)]
WireOrderType = Annotated[OrderType, BeforeValidator(to_order_type)]
WireStatus = Annotated[VenueOrderStatus, BeforeValidator(to_status)]
WireSymbol = Annotated[str, BeforeValidator(to_symbol)]


def _alias(name: str) -> str:
    return name.replace("_", "").lower()


class WireModel(BaseModel):
    """Base of every wire schema: keys matched case-insensitively, unknown keys ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", alias_generator=_alias, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _lowercase_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k.lower() if isinstance(k, str) else k: v for k, v in data.items()}
        return data
