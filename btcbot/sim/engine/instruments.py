"""Pair and asset definitions the simulator lists in exchangeinfo.

Values mirror the reference (§4.2): TRY pairs have ``minExchangeValue`` 99.91, BTCUSDT 9.91; scales are
plausible recent ones. Three pairs outside the bot's universe (USDTTRY, BTCUSDT, ETHBTC) are always
listed so that clients must filter exchangeinfo rather than trust it blindly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class PairSpec:
    """Static trading rules and path parameters of one pair."""

    symbol: str
    base: str
    quote: str
    pair_id: int
    numerator_scale: int
    denominator_scale: int
    tick_size: Decimal
    min_exchange_value: Decimal
    initial_price: Decimal
    #: Quote notional per synthetic book level (thin on purpose: big orders walk several levels).
    level_notional: Decimal
    #: Daily volatility of the random walk (fraction, e.g. 0.03 = 3 %/day).
    daily_volatility: Decimal = Decimal("0.03")
    display_order: int = 1000

    @property
    def normalized(self) -> str:
        """Underscore form used by ``*Normalized`` fields: BTC_TRY."""
        return f"{self.base}_{self.quote}"


@dataclass(frozen=True, slots=True)
class AssetSpec:
    """One currency: wire precision and display name."""

    symbol: str
    name: str
    precision: int
    currency_id: int


ASSETS: dict[str, AssetSpec] = {
    a.symbol: a
    for a in (
        AssetSpec("TRY", "Türk Lirası", 2, 1),
        AssetSpec("BTC", "Bitcoin", 8, 2),
        AssetSpec("ETH", "Ethereum", 8, 3),
        AssetSpec("XRP", "Ripple", 8, 4),
        AssetSpec("USDT", "Tether", 2, 5),
        AssetSpec("AVAX", "Avalanche", 8, 6),
        AssetSpec("SOL", "Solana", 8, 7),
    )
}

_D = Decimal
_TRY_MIN = _D("99.91")

KNOWN_PAIRS: dict[str, PairSpec] = {
    p.symbol: p
    for p in (
        PairSpec(
            "BTCTRY", "BTC", "TRY", 1, 8, 0, _D("10"), _TRY_MIN, _D("3900000"), _D("40000"), display_order=1
        ),
        PairSpec(
            "ETHTRY", "ETH", "TRY", 2, 8, 0, _D("1"), _TRY_MIN, _D("130000"), _D("30000"), display_order=2
        ),
        PairSpec(
            "XRPTRY", "XRP", "TRY", 3, 2, 2, _D("0.01"), _TRY_MIN, _D("90.00"), _D("20000"), display_order=3
        ),
        PairSpec(
            "AVAXTRY",
            "AVAX",
            "TRY",
            4,
            2,
            2,
            _D("0.01"),
            _TRY_MIN,
            _D("550.00"),
            _D("20000"),
            display_order=4,
        ),
        PairSpec(
            "SOLTRY", "SOL", "TRY", 5, 4, 1, _D("0.1"), _TRY_MIN, _D("8000.0"), _D("20000"), display_order=5
        ),
        PairSpec(
            "USDTTRY", "USDT", "TRY", 6, 2, 2, _D("0.01"), _TRY_MIN, _D("43.00"), _D("50000"), _D("0.004"), 6
        ),
        PairSpec(
            "BTCUSDT", "BTC", "USDT", 7, 8, 0, _D("1"), _D("9.91"), _D("90000"), _D("1000"), display_order=7
        ),
        PairSpec(
            "ETHBTC",
            "ETH",
            "BTC",
            8,
            4,
            6,
            _D("0.000001"),
            _D("0.0001"),
            _D("0.033000"),
            _D("0.01"),
            display_order=8,
        ),
    )
}

#: Pairs that are always listed in addition to the configured ones.
EXTRA_PAIRS: tuple[str, ...] = ("USDTTRY", "BTCUSDT", "ETHBTC")


def normalize_symbol(raw: str) -> str:
    """Accept ``BTCTRY``, ``BTC_TRY`` or ``btc_try`` (the reference accepts both forms)."""
    return raw.replace("_", "").replace("-", "").strip().upper()


def resolve_pairs(symbols: Iterable[str]) -> tuple[PairSpec, ...]:
    """Configured symbols plus the always-listed extras, in display order; unknown symbols fail."""
    wanted: list[str] = []
    for raw in (*symbols, *EXTRA_PAIRS):
        sym = normalize_symbol(raw)
        if sym not in KNOWN_PAIRS:
            raise ValueError(f"simulator does not know pair {raw!r}; known: {sorted(KNOWN_PAIRS)}")
        if sym not in wanted:
            wanted.append(sym)
    return tuple(sorted((KNOWN_PAIRS[s] for s in wanted), key=lambda p: p.display_order))
