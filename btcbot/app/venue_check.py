"""``btcbot config check --online``: the settings against the exchange, with read-only calls.

Three checks, one line each (``OK``, ``WARN``, ``FAIL`` or ``SKIP``):

- ``symbols``: every configured symbol is listed by ``exchangeinfo`` and TRADING;
- ``credentials``: a private read (balances) is accepted; only when credentials are configured
  (always in live mode; in paper mode only if they are set: paper never calls a private endpoint);
- ``clock``: local clock minus the exchange's server time, measured on one call (error at most
  half its round trip). The bot corrects its request stamps for the offset, but a local clock
  that is off means NTP is not working: WARN above :data:`CLOCK_WARN_S`, FAIL above
  :data:`CLOCK_FAIL_S` (BTC Turk's stamp window).

Nothing is written anywhere and no order endpoint is called. What the offline ``config check``
cannot know is listed in :data:`NOT_VERIFIED_OFFLINE`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from btcbot.adapters.clock import SystemClock
from btcbot.config.secrets import Credentials, load_credentials
from btcbot.config.settings import Settings
from btcbot.contracts.clock import Clock
from btcbot.domain.errors import AuthError, ExchangeError

#: |local - exchange| above this many seconds is a warning (the bot still corrects for it).
CLOCK_WARN_S = 1.0
#: ... and above this a failure: BTC Turk rejects request stamps more than 5 s off.
CLOCK_FAIL_S = 5.0

#: What the offline check cannot verify (printed by ``config check`` without --online).
NOT_VERIFIED_OFFLINE = (
    "symbols listed and TRADING on the exchange",
    "credentials accepted by the exchange",
    "clock skew against the exchange's server time",
)

OK, WARN, FAIL, SKIP = "OK", "WARN", "FAIL", "SKIP"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"check": self.name, "status": self.status, "detail": self.detail}


def _failure(exc: BaseException) -> str:
    """One line for an exchange failure (the client's messages never contain secrets)."""
    text = next((part.strip() for part in str(exc).splitlines() if part.strip()), "")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def check_symbols(client: Any, symbols: tuple[str, ...]) -> Check:
    try:
        listed = {r.symbol: r for r in client.exchange_info()}
    except ExchangeError as exc:
        return Check("symbols", FAIL, f"exchangeinfo failed ({_failure(exc)})")
    missing = [s for s in symbols if s not in listed]
    halted = [s for s in symbols if s in listed and not listed[s].tradable]
    if missing or halted:
        parts = []
        if missing:
            parts.append(f"not listed by the exchange: {', '.join(missing)}")
        if halted:
            parts.append(f"not TRADING: {', '.join(halted)}")
        return Check("symbols", FAIL, "BTCBOT_TRADING__SYMBOLS " + "; ".join(parts))
    return Check("symbols", OK, f"{', '.join(symbols)} listed and TRADING")


def check_credentials(client: Any, credentials: Credentials | None, dry_run: bool) -> Check:
    if credentials is None:
        return Check("credentials", SKIP, "paper mode and no credentials set: paper never calls a private endpoint")
    try:
        balances = client.balances()
    except AuthError as exc:
        return Check("credentials", FAIL, f"rejected by the exchange ({_failure(exc)}): check "
                                          "BTCBOT_AUTH__API_KEY and the secret, the key's permissions and IP list")
    except ExchangeError as exc:
        return Check("credentials", FAIL, f"could not be checked ({_failure(exc)})")
    mode = "paper mode: not used for trading" if dry_run else "live mode"
    return Check("credentials", OK, f"private read accepted (balances: {len(balances)} assets; {mode})")


def check_clock(client: Any, clock: Clock) -> Check:
    start_mono, start = clock.monotonic(), clock.now()
    try:
        server = client.server_time()
    except ExchangeError as exc:
        return Check("clock", FAIL, f"server time unavailable ({_failure(exc)})")
    round_trip = clock.monotonic() - start_mono
    local_mid = start.timestamp() + round_trip / 2
    skew = local_mid - server.timestamp()  # > 0: the local clock is ahead
    direction = "ahead of" if skew >= 0 else "behind"
    detail = (f"local clock {abs(skew):.3f} s {direction} the exchange (+-{round_trip / 2:.3f} s)")
    if abs(skew) > CLOCK_FAIL_S:
        return Check("clock", FAIL, f"{detail}: more than {CLOCK_FAIL_S:g} s; fix NTP (timedatectl set-ntp true)")
    if abs(skew) > CLOCK_WARN_S:
        return Check("clock", WARN, f"{detail}: more than {CLOCK_WARN_S:g} s; the bot corrects its stamps, "
                                    "but check NTP")
    return Check("clock", OK, detail)


def online_checks(
    settings: Settings,
    *,
    clock: Clock | None = None,
    client_factory: Callable[[Settings, Credentials | None, Clock], Any] | None = None,
) -> list[Check]:
    """Run every check (a failing one does not stop the others)."""
    from btcbot.adapters.btcturk.client import build_btcturk_client

    clock = clock or SystemClock()
    credentials = load_credentials(settings, required=not settings.trading.dry_run)
    client = (client_factory or build_btcturk_client)(settings, credentials, clock)
    return [
        check_symbols(client, tuple(settings.trading.symbols)),
        check_credentials(client, credentials, settings.trading.dry_run),
        check_clock(client, clock),
    ]


__all__ = ["CLOCK_FAIL_S", "CLOCK_WARN_S", "NOT_VERIFIED_OFFLINE", "Check", "online_checks"]
