"""`btcbot replay CYCLE_ID`: re-run decide + risk on a cycle's stored inputs and compare.

The record (written and read back by ``replay_capture``) is small: tickers, the newest candle
time per symbol, the portfolio view and the decisions. Candles come back from the candle store,
so replay needs the candle rows of that cycle to still be there (retention keeps them longer
than decision inputs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from btcbot.app.replay_capture import decision_doc, view_from_doc
from btcbot.app.wiring import META_RULES, _rules_from_json, open_database
from btcbot.config.settings import Settings
from btcbot.contracts.strategy import MarketSnapshot
from btcbot.domain.errors import ConfigError
from btcbot.domain.market import Ticker
from btcbot.domain.venue import min_order_notional
from btcbot.persistence.unit_of_work import SqlUnitOfWork


@dataclass(frozen=True)
class ReplayResult:
    matches: bool
    lines: list[str]


def replay(settings: Settings, cycle_id: int) -> ReplayResult:
    from btcbot.config.params import capital_params, risk_params
    from btcbot.persistence.candles import SqlCandleStore
    from btcbot.services.risk.engine import RiskEngine
    from btcbot.strategies.registry import load_strategy

    engine = open_database(settings)
    try:
        with SqlUnitOfWork(engine) as uow:
            record = uow.cycles.get(cycle_id)
            rules_json = uow.meta.get(META_RULES)
        if record is None:
            raise ConfigError(f"cycle {cycle_id} does not exist")
        if not record.decision_inputs:
            raise ConfigError(f"cycle {cycle_id} has no stored decision inputs (pruned or no decision made)")
        if rules_json is None:
            raise ConfigError("no cached venue rules in the database")
        import json

        doc = json.loads(record.decision_inputs)
        interval = settings.trading.candle_interval_s
        store = SqlCandleStore(engine)
        tickers = {
            s: Ticker(s, Decimal(v[0]), Decimal(v[1]), Decimal(v[2]), Decimal(v[2]), Decimal(v[2]), Decimal(v[2]),
                      Decimal(0), datetime.fromisoformat(v[3]))
            for s, v in doc["tickers"].items()
        }
        candles = {}
        for symbol, until in doc["candles_until"].items():
            end = datetime.fromisoformat(until)
            count = int(doc["candle_count"][symbol])
            bars = [c for c in store.latest(symbol, interval, 100000) if c.open_time <= end][-count:]
            candles[symbol] = bars
    finally:
        engine.dispose()
    rules = _rules_from_json(rules_json)
    universe = tuple(settings.trading.symbols)
    view = view_from_doc(doc["view"], settings.trading.quote_asset)
    now = record.started_at
    latest_close = max((bars[-1].close_time for bars in candles.values() if bars), default=now)
    now = max(now, latest_close)
    snapshot = MarketSnapshot.build(now, interval, tickers, candles)
    strategy = load_strategy(settings.trading.strategy, settings.trading.strategy_id)
    risk = RiskEngine(risk_params(settings.risk), capital_params(settings.capital), universe,
                      {s: min_order_notional(rules[s], settings.exchange.min_notional_margin) for s in universe},
                      {s: rules[s].numerator_scale for s in universe})
    tradable = [s for s in universe if s in tickers]
    intents = strategy.decide(snapshot, view, tradable)
    decisions = [decision_doc(d) for d in risk.pre_trade(intents, view, now)]
    recorded = doc["decisions"]
    lines = [f"recorded: {recorded}", f"replayed: {decisions}"]
    return ReplayResult(decisions == recorded, lines)
