"""build_app(): the one place that turns settings into the object graph.

Nothing is constructed at import time. Tests pass fakes (clock, exchange, failpoints, telemetry)
through the same door the CLI uses.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from loguru import logger
from sqlalchemy.engine import Engine

from btcbot.adapters.clock import SystemClock
from btcbot.app.cycle import CycleDeps, TradingCycle, settings_fingerprint
from btcbot.app.runner import OutagePolicy
from btcbot.app.telemetry import BooksSource, Telemetry
from btcbot.config.params import capital_params, risk_params
from btcbot.config.secrets import Credentials, load_credentials
from btcbot.config.settings import Settings
from btcbot.contracts.clock import Clock
from btcbot.contracts.exchange import ExchangeClient, MarketData
from btcbot.contracts.persistence import UnitOfWork
from btcbot.domain.breaker import BreakerBoard, BreakerSettings
from btcbot.domain.errors import ConfigError, ExchangeError, LeaseHeld
from btcbot.domain.market import SymbolRules
from btcbot.domain.venue import min_order_notional
from btcbot.failpoints import Failpoints
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.lease import LeaseToken, acquire, current_holder, release, renew
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from btcbot.services.candle_store import CandleStore, MemoryCandleStore
from btcbot.services.market_feed import MarketFeed
from btcbot.services.order_service import OrderService
from btcbot.services.portfolio_service import PortfolioService
from btcbot.services.reconcile_service import ReconcileService
from btcbot.services.risk.capital_policy import fee_rate
from btcbot.services.risk.engine import RiskEngine
from btcbot.services.state_service import StateService, load_breaker_board

META_RULES = "exchange.rules"


class ExchangeUnavailable(ExchangeError):
    """The exchange could not be reached at start-up and no venue rules are cached yet.

    Operator: nothing; the next run tries again (exit 3, safe mode). Check connectivity if it lasts.
    """


#: Set by ``run.sh`` for run/once/status/reconcile: a missing or empty database (first use) is
#: created and migrated to head before the command runs. Never an outdated one: that needs
#: ``btcbot db upgrade`` (operations.md, Upgrading).
CREATE_DB_VARIABLE = "BTCBOT_CREATE_DB"


class DatabaseNotReady(ConfigError):
    """The database does not exist, is empty, or is not at the schema revision this code needs.

    Operator: run ``btcbot db upgrade`` (creates or migrates it), or fix BTCBOT_DATABASE__URL if
    it points at the wrong place. Nothing was written. Exit code 2.
    """


def _describe(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"database {parsed.database}"
    return f"database {parsed.render_as_string(hide_password=True)}"


def open_database(settings: Settings, create_if_empty: bool | None = None) -> Engine:
    """Engine for the configured database, only when its schema is at the shipped head.

    One cheap check (no alembic import, one query of ``alembic_version``) and nothing created:
    a missing SQLite file, an empty or an outdated schema is DatabaseNotReady (exit 2), a SQLite
    path whose directory is missing is a ConfigError. ``create_if_empty`` (default: the
    ``BTCBOT_CREATE_DB=1`` variable that run.sh sets) creates and migrates a missing or empty
    database first (first use only).
    """
    from btcbot.persistence.engine import sqlite_file
    from btcbot.persistence.migrations import schema_status, status_for_engine, upgrade

    url = settings.database.url
    if sqlite_file(url) is None:  # PostgreSQL: the check runs through the engine the bot keeps
        engine = create_engine_for(url, settings.database.busy_timeout_ms)
        try:
            status = status_for_engine(engine)
        except BaseException:
            engine.dispose()
            raise
        if status.ready:
            return engine
        engine.dispose()
    else:
        status = schema_status(url)
    if not status.ready:
        if create_if_empty is None:
            create_if_empty = os.environ.get(CREATE_DB_VARIABLE) == "1"
        if status.empty and create_if_empty:
            upgrade(url)
            logger.bind(event="database.created", outcome="ok").warning(
                f"{_describe(url)} was empty: created and migrated to {status.head} (first use)"
            )
        elif status.empty:
            raise DatabaseNotReady(f"{_describe(url)} does not exist or is empty (not migrated): "
                                   "run `btcbot db upgrade` to create it")
        else:
            raise DatabaseNotReady(f"{_describe(url)} is at revision {status.revision or 'none'}, "
                                   f"code needs {status.head}: run `btcbot db upgrade`")
    return create_engine_for(url, settings.database.busy_timeout_ms)


def breaker_settings(settings: Settings) -> BreakerSettings:
    r = settings.resilience
    return BreakerSettings(r.breaker_threshold, r.breaker_cooldown_s, r.breaker_half_open_probes)


def _pid_alive(pid: int) -> bool:
    """True unless the process certainly does not exist (a pid reused by another process counts as
    alive: the safe direction is to wait for the expiry)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class LeaseKeeper:
    engine: Engine
    clock: Clock
    ttl_s: float
    token: LeaseToken | None = None

    def acquire(self) -> LeaseToken:
        """Take the lease; a holder that is provably dead (same host, pid gone) is taken over at once
        instead of after expiry, so supervisord/systemd restarts after a kill -9 are not locked out.
        Any other live-looking holder -> LeaseHeld (exit 75)."""
        host, pid, now = socket.gethostname(), os.getpid(), self.clock.now()
        try:
            self.token = acquire(self.engine, host, pid, self.ttl_s, now)
        except LeaseHeld:
            holder = current_holder(self.engine)
            if holder is None or holder.owner_host != host or _pid_alive(holder.owner_pid):
                raise
            logger.bind(event="lease.takeover", outcome="dead_holder").warning(
                f"lease holder pid {holder.owner_pid} on this host is gone; taking the lease over"
            )
            # The acquisition check runs against the holder's expiry; the renewal right after
            # puts the real expiry back. Both run under the lease row lock.
            token = acquire(self.engine, host, pid, self.ttl_s, max(now, holder.expires_at + timedelta(milliseconds=1)))
            self.token = renew(self.engine, token, self.ttl_s, now)
        return self.token

    def due_expiry(self) -> datetime | None:
        """The new expiry when a renewal is due: half of the lease's time is used (not every
        cycle: each renewal is a synced write), else None. The caller writes it in a fenced commit
        (``App.opening_uow``) and reports it with ``extended``. Writes stay fenced by the token
        whatever the expiry."""
        if self.token is None:
            return None
        now = self.clock.now()
        if (self.token.expires_at - now).total_seconds() < self.ttl_s / 2:
            return now + timedelta(seconds=self.ttl_s)
        return None

    def extended(self, expires: datetime) -> None:
        if self.token is not None:
            self.token = replace(self.token, expires_at=expires)

    def release(self) -> None:
        if self.token is not None:
            release(self.engine, self.token, self.clock.now())
            self.token = None


def _rules_to_json(rules: dict[str, SymbolRules]) -> str:
    def enc(r: SymbolRules) -> dict[str, Any]:
        return {f.name: (str(v) if isinstance(v, Decimal) else v)
                for f in fields(SymbolRules) for v in (getattr(r, f.name),)}

    return json.dumps({s: enc(r) for s, r in sorted(rules.items())}, sort_keys=True)


def _rules_from_json(text: str) -> dict[str, SymbolRules]:
    decimals = {"min_exchange_value", "tick_size", "min_price", "max_price", "min_amount", "max_amount",
                "min_limit_price", "max_limit_price"}
    out: dict[str, SymbolRules] = {}
    for symbol, doc in json.loads(text).items():
        kwargs: dict[str, Any] = {k: (Decimal(v) if k in decimals and v is not None else v) for k, v in doc.items()}
        out[symbol] = SymbolRules(**kwargs)
    return out


def load_rules(exchange: ExchangeClient, uow: Callable[[], UnitOfWork], universe: tuple[str, ...]) -> dict[str, SymbolRules]:
    """Venue rules of the universe from exchangeinfo (cached in the DB for degraded starts).

    A universe symbol the exchange does not list, or lists as not TRADING, is a configuration
    error: the bot never trades outside a live, known market.
    """
    try:
        listed = {r.symbol: r for r in exchange.exchange_info()}
    except ExchangeError as exc:
        with uow() as session:
            cached = session.meta.get(META_RULES)
        if cached is None:
            raise ExchangeUnavailable(f"exchangeinfo unavailable ({type(exc).__name__}) and no cached rules") from None
        logger.bind(event="exchange.rules_cached", outcome="degraded").warning("using cached venue rules")
        return _rules_from_json(cached)
    missing = [s for s in universe if s not in listed]
    if missing:
        raise ConfigError(f"BTCBOT_TRADING__SYMBOLS: not listed by the exchange: {', '.join(missing)}")
    halted = [s for s in universe if not listed[s].tradable]
    if halted:
        raise ConfigError(f"BTCBOT_TRADING__SYMBOLS: not TRADING on the exchange: {', '.join(halted)}")
    rules = {s: listed[s] for s in universe}
    with uow() as session:
        session.meta.set(META_RULES, _rules_to_json(rules))
        session.commit()
    return rules


@dataclass
class App:
    settings: Settings
    clock: Clock
    engine: Engine
    exchange: ExchangeClient
    lease: LeaseKeeper
    uow: Callable[[], UnitOfWork]
    breakers: BreakerBoard
    telemetry: Telemetry
    failpoints: Failpoints
    credentials: Credentials | None = None
    candle_store: CandleStore = field(default_factory=MemoryCandleStore)
    strategy: Any = None
    _cycle: TradingCycle | None = None
    _next_prune: datetime | None = None
    _outage_since: datetime | None = None

    def fenced_uow(self) -> UnitOfWork:
        token = self.lease.token.token if self.lease.token is not None else None
        return SqlUnitOfWork(self.engine, fencing_token=token)

    def opening_uow(self) -> UnitOfWork:
        """A cycle's first unit of work: fenced, and renewing the lease in its commit when due
        (one transaction instead of a separate renewal)."""
        token = self.lease.token.token if self.lease.token is not None else None
        due = self.lease.due_expiry() if token is not None else None
        return SqlUnitOfWork(self.engine, fencing_token=token, extend_lease_to=due, on_lease_extended=self.lease.extended)

    def cycle(self) -> TradingCycle:
        """The trading cycle (needs the exchange's venue rules: fetched once, then cached)."""
        if self._cycle is None:
            self._cycle = build_cycle(self)
        return self._cycle

    def close(self) -> None:
        """Release the lease and the engine. A database that is unreachable right now (the outage
        limit ended ``run``) cannot take the release: the lease then simply expires."""
        from btcbot.persistence.engine import is_connection_error

        try:
            self.lease.release()
        except Exception as exc:
            if not is_connection_error(exc):
                raise
            logger.bind(event="lease.release_failed", outcome="expires").warning(
                f"lease not released (database unreachable: {type(exc).__name__}); it expires by itself"
            )
        finally:
            self.engine.dispose()

    # ---- housekeeping and database outages (btcbot run / once) -------------------------------

    def housekeeping(self) -> None:
        """After a cycle: prune history older than ``database.retention_days`` when due (at most
        daily; the schedule lives in ``meta``, so cron runs share it). A failure here never fails
        the cycle, except a database outage, which the run loop handles."""
        from btcbot.persistence.engine import is_connection_error
        from btcbot.persistence.retention import prune_if_due

        now = self.clock.now()
        if self._next_prune is not None and now < self._next_prune:
            return
        try:
            run = prune_if_due(self.engine, now, self.settings.database.retention_days)
        except Exception as exc:
            if is_connection_error(exc):
                raise
            self._next_prune = now + timedelta(hours=1)
            logger.bind(event="retention.failed", outcome=type(exc).__name__).opt(exception=exc).warning(
                f"pruning failed, retried in an hour: {type(exc).__name__}"
            )
            return
        self._next_prune = run.next_due
        if run.counts is not None:
            logger.bind(event="retention.pruned", outcome="ok").info(
                f"pruned history older than {self.settings.database.retention_days} days: "
                + ", ".join(f"{table} {count}" for table, count in run.counts.items())
            )

    def outage_policy(self) -> OutagePolicy:
        """How ``btcbot run`` rides out a database outage (``btcbot.app.runner``)."""
        from btcbot.persistence.engine import is_connection_error, probe

        db = self.settings.database
        return OutagePolicy(
            is_outage=is_connection_error, probe=lambda: probe(self.engine),
            alert_after_s=db.outage_alert_s, limit_s=db.outage_limit_s,
            on_alert=self._outage_alert, on_recovered=self._outage_over,
        )

    def _outage_alert(self, elapsed_s: float, error: BaseException) -> None:
        """Sent straight to the webhook: the alert outbox lives in the unreachable database."""
        from btcbot.observability.alerts import catalog

        now = self.clock.now()
        self._outage_since = now - timedelta(seconds=elapsed_s)
        alert = catalog.database_outage(elapsed_s, type(error).__name__, self._outage_since, now)
        try:
            build_alert_sender(self.settings).send(alert, alert.dedup_key)
        except Exception as exc:  # best effort: the error line is already in the log
            logger.bind(event="alert.delivery_failed", outcome="database_outage").warning(
                f"database outage alert not delivered: {type(exc).__name__}"
            )

    def _outage_over(self, elapsed_s: float) -> None:
        """The database answers again: rebuild the cycle from what is stored (nothing of the cut
        cycle's in-memory state is trusted) and, if the outage was alerted, say it is over."""
        from btcbot.observability.alerts import catalog

        self._cycle = None
        since, self._outage_since = self._outage_since, None
        hub = self.telemetry.alerts
        if since is None or hub is None:
            return
        try:
            hub.raise_now(catalog.database_recovered(elapsed_s, since, self.clock.now()))
            hub.flush()
        except Exception as exc:
            logger.bind(event="alert.delivery_failed", outcome="database_recovered").warning(
                f"recovery alert not queued: {type(exc).__name__}"
            )


def _fee_rates(settings: Settings) -> tuple[Decimal, Decimal, Decimal]:
    cap = settings.capital
    taker = cap.taker_fee_bps / Decimal(10000)
    return taker, cap.fee_tax_ratio, fee_rate(cap.taker_fee_bps, cap.fee_tax_ratio)


def build_cycle(app: App) -> TradingCycle:
    from btcbot.strategies.registry import load_strategy

    s = app.settings
    universe = tuple(s.trading.symbols)
    quote = s.trading.quote_asset
    rules = load_rules(app.exchange, app.fenced_uow, universe)
    margin = s.exchange.min_notional_margin
    strategy = app.strategy or load_strategy(s.trading.strategy, s.trading.strategy_id)
    risk = RiskEngine(
        risk_params(s.risk), capital_params(s.capital), universe,
        min_notional={sym: min_order_notional(rules[sym], margin) for sym in universe},
        quantity_step={sym: rules[sym].numerator_scale for sym in universe},
    )
    taker, tax, combined = _fee_rates(s)
    tz = s.risk.day_boundary_tz
    metrics = app.telemetry.metrics
    orders = OrderService(
        app.exchange, app.fenced_uow, app.clock, rules, app.failpoints, margin, taker, tax,
        on_event=lambda kind, detail: (metrics.order_submitted() if kind == "submitted"
                                       else metrics.order_rejected(detail) if kind == "rejected" else None),
    )
    def state_alert(uow: UnitOfWork, old: Any, new: Any, reason: str) -> None:
        from btcbot.observability.alerts import catalog

        app.telemetry.raise_alert(uow, catalog.trading_state_change(old, new, reason, app.clock.now()))

    state = StateService(app.fenced_uow, app.clock, app.breakers, tz, capital_params(s.capital), quote, on_change=state_alert)
    reconciler = ReconcileService(
        app.exchange, app.fenced_uow, app.clock, universe, quote, s.risk.drift_tolerance_quote,
        s.trading.unknown_grace_s, tz, app.failpoints,
    )
    feed = MarketFeed(app.exchange, app.candle_store, universe, s.trading.candle_interval_s,
                      strategy.required_history(), s.risk.market_data_max_age_s)
    from btcbot.app.backfill import backfill_history  # the strategy's history, before the first cycle

    backfill_history(app.exchange, app.candle_store, universe, s.trading.candle_interval_s,
                     strategy.required_history(), app.clock.now())
    deps = CycleDeps(
        clock=app.clock, exchange=app.exchange, uow=app.fenced_uow, strategy=strategy, risk=risk,
        portfolio=PortfolioService(universe, quote, combined, tz), feed=feed, orders=orders,
        reconciler=reconciler, state=state, failpoints=app.failpoints, telemetry=app.telemetry,
        universe=universe, quote=quote, interval_s=s.trading.candle_interval_s,
        settings_hash=settings_fingerprint(s.model_dump_json(exclude={"auth"})),
        opening_uow=app.opening_uow,
    )
    # After every cycle: capital-policy and profit gauges plus one `capital.policy` log record.
    app.telemetry.attach_books(BooksSource(risk.policy, app.fenced_uow, quote, tz), s.trading.cycle_interval_s)
    return TradingCycle(deps)


def build_exchange(
    settings: Settings, clock: Clock, breakers: BreakerBoard, credentials: Credentials | None,
    engine: Engine, observer: Any = None,
) -> ExchangeClient:
    from btcbot.adapters.btcturk.client import build_btcturk_client

    if settings.trading.dry_run:
        return build_paper_exchange(settings, clock, lambda: SqlUnitOfWork(engine))
    return build_btcturk_client(settings, credentials, clock, breakers=breakers, observer=observer)


def paper_fees(settings: Settings) -> Any:
    """The paper account's fee schedule (maker/taker fee and the tax on it) from ``capital``."""
    from btcbot.adapters.paper.exchange import paper_fee_schedule

    cap = settings.capital
    return paper_fee_schedule(cap.maker_fee_bps, cap.taker_fee_bps, cap.fee_tax_ratio)


def build_paper_exchange(
    settings: Settings, clock: Clock, uow: Callable[[], UnitOfWork], market: MarketData | None = None,
    store: Any = None,
) -> ExchangeClient:
    """The dry-run ExchangeClient: public market data (default: the BTC Turk client built WITHOUT
    credentials, so it cannot call a private endpoint) + the paper account in the ``meta`` table
    (``store`` overrides where it is kept)."""
    from btcbot.adapters.paper import MetaPaperStateStore, PaperExchange

    if market is None:
        from btcbot.adapters.btcturk.client import build_btcturk_client

        market = build_btcturk_client(settings, None, clock)
    return PaperExchange(
        market=market,
        store=store if store is not None else MetaPaperStateStore(uow),
        clock=clock,
        fees=paper_fees(settings),
        quote=settings.trading.quote_asset,
        starting_balance=settings.capital.paper_starting_balance,
        book_depth=settings.exchange.orderbook_depth,
        allowed_symbols=settings.trading.symbols,
    )


def build_tracer(settings: Settings) -> Any:
    """The exporting tracer when ``observability.otel_exporter_endpoint`` is set, else None.

    Installs the process-wide provider (OpenTelemetry allows that once): call once per process.
    Without an endpoint there is no tracer at all, so the exchange client gets the plain observer
    and creates no span objects. An endpoint without the ``otel`` extra raises ConfigError (exit 2).
    """
    obs = settings.observability
    if not obs.otel_exporter_endpoint:
        return None
    from btcbot.observability.tracing import configure_tracing

    setup = configure_tracing(obs.service_name, obs.otel_exporter_endpoint)
    return setup.tracer if setup.exporting else None


def build_telemetry(settings: Settings) -> Telemetry:
    """Metrics when something reads them (a port or a textfile); tracing when an endpoint is set."""
    from btcbot.observability.metrics import Metrics

    obs = settings.observability
    metrics = Metrics.create(enabled=bool(obs.metrics_port or obs.metrics_textfile))
    return Telemetry(metrics=metrics, tracer=build_tracer(settings))


def build_alert_sender(settings: Settings) -> Any:
    from btcbot.observability.alerts.factory import make_sender

    obs = settings.observability
    return make_sender(obs.alert_webhook_url, obs.alert_payload_format, obs.service_name,
                       telegram_chat_id=obs.alert_telegram_chat_id)


def build_alert_hub(settings: Settings, uow: Callable[[], UnitOfWork], clock: Clock) -> Any:
    from btcbot.app.alerting import AlertHub
    from btcbot.observability.alerts.policy import AlertPolicy

    return AlertHub(uow, clock, build_alert_sender(settings), AlertPolicy(settings.observability.alert_min_interval_s))


def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    exchange: ExchangeClient | None = None,
    failpoints: Failpoints | None = None,
    telemetry: Telemetry | None = None,
    candle_store: CandleStore | None = None,
    environ: dict[str, str] | None = None,
) -> App:
    """Open the database and build the app; the lease is NOT taken here (``app.lease.acquire()``).

    Everything that can be wrong with the configuration (schema, credentials, strategy) fails
    here, before the lease or any other row is written.
    """
    from btcbot.strategies.registry import load_strategy

    clock = clock or SystemClock()
    strategy = load_strategy(settings.trading.strategy, settings.trading.strategy_id)
    engine = open_database(settings)
    credentials = load_credentials(settings, required=not settings.trading.dry_run)
    failpoints = failpoints or Failpoints.from_env(environ if environ is not None else dict(os.environ))
    if telemetry is None:
        telemetry = build_telemetry(settings)
    elif telemetry.tracer is None and settings.observability.otel_exporter_endpoint:
        # `btcbot run` brings a Telemetry built around its metrics server; tracing still follows
        # the settings.
        telemetry.tracer = build_tracer(settings)

    def plain_uow() -> UnitOfWork:
        return SqlUnitOfWork(engine)

    breakers = load_breaker_board(plain_uow, breaker_settings(settings))
    if telemetry.alerts is None:
        telemetry.alerts = build_alert_hub(settings, plain_uow, clock)
    if exchange is None:
        exchange = build_exchange(settings, clock, breakers, credentials, engine, observer=telemetry.observer())
    elif hasattr(exchange, "breakers"):
        breakers = exchange.breakers
    if candle_store is None:
        from btcbot.persistence.candles import SqlCandleStore

        candle_store = SqlCandleStore(engine)
    lease = LeaseKeeper(engine, clock, settings.database.lease_ttl_s)
    return App(settings=settings, clock=clock, engine=engine, exchange=exchange, lease=lease, uow=plain_uow,
               breakers=breakers, telemetry=telemetry, failpoints=failpoints, credentials=credentials,
               candle_store=candle_store, strategy=strategy)
