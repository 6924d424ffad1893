"""Trading pairs. BTC Turk names a pair ``BTCTRY`` (pairSymbol) or ``BTC_TRY`` (normalized)."""

from __future__ import annotations

from dataclasses import dataclass

#: Quote assets BTC Turk lists markets in; longest first so USDT wins over a hypothetical "DT".
KNOWN_QUOTES: tuple[str, ...] = ("USDT", "USDC", "TRY", "EUR", "BTC")


@dataclass(frozen=True, slots=True)
class Pair:
    base: str
    quote: str

    @property
    def symbol(self) -> str:
        """``BTCTRY``: the form every request and our database use."""
        return f"{self.base}{self.quote}"

    @property
    def normalized(self) -> str:
        return f"{self.base}_{self.quote}"

    def __str__(self) -> str:
        return self.symbol


def parse_pair(text: str) -> Pair:
    """Parse ``BTCTRY``, ``btc_try`` or ``BTC_TRY``. Raises ValueError naming the input."""
    raw = text.strip().upper()
    if not raw or not raw.replace("_", "").isalnum():
        raise ValueError(f"invalid pair symbol {text!r}")
    if "_" in raw:
        base, _, quote = raw.partition("_")
        if base and quote and "_" not in quote:
            return Pair(base, quote)
        raise ValueError(f"invalid pair symbol {text!r}")
    for quote in KNOWN_QUOTES:
        if raw.endswith(quote) and len(raw) > len(quote):
            return Pair(raw[: -len(quote)], quote)
    raise ValueError(f"pair symbol {text!r} does not end in a known quote asset {list(KNOWN_QUOTES)}")
