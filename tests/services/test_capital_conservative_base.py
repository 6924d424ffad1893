"""``capital.conservative_base`` means something (issue 11, item 10).

Before: ``C_base = min(Equity, HighWater)`` with a high-water mark that the portfolio service
keeps at ``max(equity, previous mark)``: always ``Equity``, so the setting changed nothing. Now
the reference is the settled equity, the equity at the start of the risk day: a gain made today
sizes positions only from the next risk day on; a loss shrinks them at once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from btcbot.config.groups.capital import CapitalSettings
from btcbot.config.groups.risk import RiskSettings
from btcbot.config.params import capital_params, risk_params
from btcbot.domain.portfolio import PortfolioView
from btcbot.services.risk.capital_policy import compute_capital_policy

D = Decimal
UNIVERSE = ("AVAXTRY", "BTCTRY", "ETHTRY", "SOLTRY", "XRPTRY")
#: 15:00 in Istanbul on 25 November 2026.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def view(equity: str, day_start: str, day: date = date(2026, 11, 25)) -> PortfolioView:
    e = D(equity)
    # All cash; the high-water mark as the portfolio service keeps it: never below equity.
    return PortfolioView(quote_asset="TRY", cash_free=e, cash_total=e, positions={}, prices={}, equity=e,
                         high_water=max(e, D("100000")), day_start_equity=D(day_start), day_start_date=day,
                         pnl_month="2026-11")


def policy(v: PortfolioView, conservative: bool) -> Decimal:
    capital = CapitalSettings(conservative_base=conservative)
    return compute_capital_policy(v, capital_params(capital), risk_params(RiskSettings()), UNIVERSE, NOW).c_base


def test_a_gain_made_today_is_not_in_the_conservative_base() -> None:
    # Equity ran up from 100 000 at the day start to 110 000 (a new high-water mark).
    run_up = view("110000", "100000")
    assert policy(run_up, conservative=False) == D("110000")
    assert policy(run_up, conservative=True) == D("100000")  # before: 110 000 (min with the HWM)
    # Tradable = (100 000 - 10 000 - 100) * 0.8 = 71 920 instead of (110 000 - 11 000 - 100) * 0.8
    capital = CapitalSettings(conservative_base=True)
    assert compute_capital_policy(run_up, capital_params(capital), risk_params(RiskSettings()), UNIVERSE, NOW).tradable == D("71920")


def test_a_loss_shrinks_the_conservative_base_at_once() -> None:
    assert policy(view("90000", "100000"), conservative=True) == D("90000")


def test_the_next_risk_day_settles_the_gain() -> None:
    # The view still carries yesterday's day start: at ``NOW`` a new risk day has begun, so the
    # settled equity is the current one.
    assert policy(view("110000", "100000", day=date(2026, 11, 24)), conservative=True) == D("110000")
