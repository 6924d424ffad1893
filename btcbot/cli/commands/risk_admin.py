"""``btcbot risk rearm`` and ``btcbot risk show``. Thin: parse, call ``btcbot.app.risk_admin``, print."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_EVEN, Decimal

import click

from btcbot.cli.context import CliContext


def _pct(fraction: str | Decimal | None) -> str:
    if fraction is None:
        return "-"
    return f"{(Decimal(fraction) * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN)} %"


@click.group("risk")
def risk_group() -> None:
    """Risk engine operator commands: show the drawdown state, re-arm after the last tier."""


@risk_group.command("rearm")
@click.option("--reason", required=True, help="Why (journaled and alerted).")
@click.pass_obj
def rearm_command(obj: CliContext, reason: str) -> None:
    """Set the high-water mark to the current equity, so drawdown de-risking starts afresh.

    For a bot stuck at the last drawdown tier (m_dd 0: no new buys) after the owner accepted the
    loss. Journaled, alerted (risk_rearm) and shown by `btcbot risk show`. Takes the instance
    lease: stop `btcbot run` first (exit 75 while another instance holds it). Coins held are
    valued at the current ticker price (exit 1 when none can be fetched)."""
    from btcbot.app.risk_admin import rearm

    record = rearm(obj.load().settings, reason)
    click.echo(f"high-water mark {record.old_high_water} -> {record.new_high_water} "
               f"(drawdown was {_pct(record.drawdown_before)}, now 0 %); reason: {record.reason}")
    click.echo("the trading state is re-derived by the next cycle")


@risk_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def show_command(obj: CliContext, as_json: bool) -> None:
    """Equity, high-water mark, drawdown, m_dd and the last re-arm (database only)."""
    from btcbot.app.risk_admin import risk_status

    doc = risk_status(obj.load().settings)
    if as_json:
        click.echo(json.dumps(doc, indent=2, sort_keys=True))
        return
    if doc["equity"] is None:
        click.echo("equity          unknown (no cycle has run yet)")
    else:
        click.echo(f"equity          {doc['equity']}  (high-water {doc['high_water_mark']}, at {doc['at']})")
        click.echo(f"drawdown        {_pct(doc['drawdown'])}  (m_dd {doc['m_dd']})")
    last = doc["last_rearm"]
    click.echo("last re-arm     " + ("never" if last is None else
                                     f"{last['at']}: high-water {last['old_high_water']} -> "
                                     f"{last['new_high_water']} ({last['reason']})"))
