"""Trading commands: run, once, reconcile, status, halt, resume, replay. Thin: parse, call
``btcbot.app``, print, exit code."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click
from loguru import logger

from btcbot.cli.context import CliContext
from btcbot.cli.errors import CommandExit
from btcbot.cli.errors import placeholder as _placeholder
from btcbot.cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from btcbot.observability.metrics_server import MetricsServer


def _print_cycle(outcome: object) -> None:
    """The per-cycle summary of ``run``/``once``, through the logging layer: a human line on
    stdout with ``console`` logs, one ``cycle.summary`` JSON record with ``json`` logs."""
    from btcbot.app.operations import OnceOutcome
    from btcbot.observability.logging import fmt_amount, report

    assert isinstance(outcome, OnceOutcome)
    r = outcome.result
    if r is None:
        report(f"cycle skipped (safe mode): {outcome.error}", event="cycle.summary", outcome="skipped",
               safe_mode=True, reasons=[outcome.error or ""])
        return
    decisions = ", ".join(r.decisions) or (f"held ({r.hold_reason})" if r.hold_reason else "no intents")
    mode = f" SAFE MODE: {'; '.join(r.reasons)}" if r.safe_mode else ""
    # None: a held coin had no price this cycle; never print a total that counts it as 0.
    equity = f" equity {fmt_amount(r.equity, 2)}" if r.equity is not None else " equity unknown"
    report(f"cycle {r.cycle_id}: {decisions}; sent {r.submitted}; state {r.trading_state}{equity}{mode}",
           event="cycle.summary", cycle_id=r.cycle_id, outcome="safe_mode" if r.safe_mode else "ok",
           decisions=list(r.decisions), submitted=r.submitted, trading_state=str(r.trading_state),
           equity=r.equity, safe_mode=r.safe_mode, reasons=list(r.reasons), hold_reason=r.hold_reason)


@click.command("once")
@click.pass_obj
def once_command(obj: CliContext) -> None:
    """Run exactly one cycle, then exit (for cron). Exit 3 when the cycle ran in safe mode,
    75 when another instance holds the lease."""
    from btcbot.app.operations import run_once
    from btcbot.observability.extras import require_tracing_packages

    settings = obj.load().settings
    require_tracing_packages(settings.observability.otel_exporter_endpoint)
    outcome = run_once(settings)
    _print_cycle(outcome)
    if outcome.safe_mode:
        raise CommandExit(ExitCode.SAFE_MODE)


@click.command("run")
@click.option("--max-cycles", type=click.IntRange(min=1), default=None, help="Stop after N cycles.")
@click.pass_obj
def run_command(obj: CliContext, max_cycles: int | None) -> None:
    """Trade continuously at trading.cycle_interval_s. SIGTERM/SIGINT finish the current cycle,
    checkpoint, release the lease and exit 0."""
    from btcbot.app.operations import run_forever
    from btcbot.observability.extras import require_tracing_packages

    settings = obj.load().settings
    require_tracing_packages(settings.observability.otel_exporter_endpoint)
    server: MetricsServer | None = None
    if settings.observability.metrics_port:
        server = _start_metrics(obj)
    try:
        run_forever(settings, max_cycles=max_cycles, on_cycle=_print_cycle, reload=obj.reload,
                    **_telemetry_kw(obj, server))
    finally:
        if server is not None:
            server.stop()


def _telemetry_kw(obj: CliContext, server: MetricsServer | None) -> dict[str, object]:
    if server is None:
        return {}
    return {"telemetry": obj.telemetry}


def _start_metrics(obj: CliContext) -> MetricsServer:
    from btcbot.adapters.clock import SystemClock
    from btcbot.app.telemetry import Telemetry
    from btcbot.observability.metrics import Metrics
    settings = obj.load().settings
    from btcbot.observability.metrics_server import MetricsServer

    metrics = Metrics.create(enabled=True)
    obj.telemetry = Telemetry(metrics=metrics)
    server = MetricsServer(metrics, settings.observability.metrics_host, settings.observability.metrics_port,
                           settings.observability.healthz_max_age_s, SystemClock())
    port = server.start()
    url = f"http://{settings.observability.metrics_host}:{port}/metrics"
    logger.bind(event="metrics.listening", outcome="ok", url=url).info(f"metrics on {url}")
    return server


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (every figure, all digits).")
@click.pass_obj
def status_command(obj: CliContext, as_json: bool) -> None:
    """Is the bot OK and why is it (not) trading: problems, trading state, last cycle's intents and
    risk decisions, balance check, capital policy, profit and fees this month, breakers, orders.
    Database only and read-only: works while `btcbot run` runs and while breakers are open."""
    from btcbot.app.status import status
    from btcbot.cli.commands.status_view import render

    doc = status(obj.load().settings)
    if as_json:
        click.echo(json.dumps(doc, indent=2, sort_keys=True))
        return
    for line in render(doc):
        click.echo(line)


@click.command("halt")
@click.option("--reason", required=True, help="Why (journalled).")
@click.pass_obj
def halt_command(obj: CliContext, reason: str) -> None:
    """Stop trading: only cancels are sent until `btcbot resume`."""
    from btcbot.adapters.clock import SystemClock
    from btcbot.app.admin import set_state
    from btcbot.domain.enums import TradingState

    old, new = set_state(obj.load().settings, TradingState.HALTED, reason, SystemClock().now())
    click.echo(f"trading state {old} -> {new}")


@click.command("resume")
@click.option("--reason", default="operator resumed", show_default=True, help="Why (journalled).")
@click.pass_obj
def resume_command(obj: CliContext, reason: str) -> None:
    """Leave HALTED or REDUCING after a manual check (risk limits still apply)."""
    from btcbot.adapters.clock import SystemClock
    from btcbot.app.admin import set_state
    from btcbot.domain.enums import TradingState

    old, new = set_state(obj.load().settings, TradingState.ACTIVE, reason, SystemClock().now())
    click.echo(f"trading state {old} -> {new}")


@click.command("reconcile")
@click.option("--apply", "apply_", is_flag=True, help="Execute the repair plan.")
@click.option("--reason", default=None, help="Required with --apply when deposits/withdrawals are recorded.")
@click.pass_obj
def reconcile_command(obj: CliContext, apply_: bool, reason: str | None) -> None:
    """Compare local state with the exchange and print the repair plan; --apply executes it:
    adopt unknown orders and fills, close vanished orders, record deposits/withdrawals as
    explicit external ledger postings (with --reason), and only then clear REDUCING.

    The plan alone is read-only and works while `btcbot run` runs; --apply needs the instance
    lease: exit 75 with the commands that stop the service when the bot holds it."""
    from btcbot.app.admin import reconcile
    from btcbot.domain.errors import LeaseHeld

    try:
        plan = reconcile(obj.load().settings, apply_, reason)
    except LeaseHeld as exc:
        from btcbot.app.reconcile_plan import stop_service_hint

        raise LeaseHeld(stop_service_hint(str(exc))) from None
    if not plan.rows:
        click.echo("local state matches the exchange: nothing to repair")
    else:
        width = max(len(k) for k, _, _ in plan.rows)
        click.echo(f"{'kind':<{width}}  {'subject':<10}  detail")
        for kind, subject, detail in plan.rows:
            click.echo(f"{kind:<{width}}  {subject:<10}  {detail}")
    click.echo(plan.message + (" (REDUCING cleared)" if plan.cleared_reducing else ""))


@click.command("replay")
@click.argument("cycle_id", type=int)
@click.pass_obj
def replay_command(obj: CliContext, cycle_id: int) -> None:
    """Re-run decide + risk on a recorded cycle's inputs and say whether the result matches."""
    from btcbot.app.replay import replay

    result = replay(obj.load().settings, cycle_id)
    for line in result.lines:
        click.echo(line)
    click.echo("MATCH" if result.matches else "MISMATCH")
    if not result.matches:
        raise CommandExit(ExitCode.ERROR)


__all__ = ["_placeholder"]
