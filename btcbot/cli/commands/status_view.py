"""The human table of ``btcbot status`` (``--json`` prints the document itself).

One line per topic, a label column of fixed width, detail lines indented below. Amounts are
display-rounded here only: quote-currency figures to 2 decimals, coin quantities to at most 8
(``--json`` keeps every digit).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

WIDTH = 16
_COIN_PLACES = Decimal("0.00000001")
_MONEY_PLACES = Decimal("0.01")


def amount(value: object) -> str:
    """A stored amount for people: ``-`` when unknown, at most 8 decimals."""
    return _rounded(value, _COIN_PLACES)


def money(value: object) -> str:
    """A quote-currency figure for people: ``-`` when unknown, 2 decimals, thousands separated."""
    text = _rounded(value, _MONEY_PLACES, pad=True)
    try:
        return f"{Decimal(text):,}"
    except InvalidOperation:
        return text


def _rounded(value: object, places: Decimal, pad: bool = False) -> str:
    if value is None:
        return "-"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    exponent = number.as_tuple().exponent
    if pad or (isinstance(exponent, int) and exponent < places.as_tuple().exponent):  # type: ignore[operator]
        number = number.quantize(places, rounding=ROUND_HALF_EVEN)
    return format(number, "f")


def _line(label: str, text: str) -> str:
    return f"{label:<{WIDTH}}{text}"


def _sub(text: str) -> str:
    return f"  {text}"


def _verdict(doc: dict[str, Any]) -> list[str]:
    if doc["ok"]:
        lines = [_line("verdict", "OK")]
    else:
        n = len(doc["problems"])
        lines = [_line("verdict", f"NOT OK: {n} problem{'s' if n != 1 else ''}")]
    lines += [_sub(f"! {p}") for p in doc["problems"]]
    lease = doc["lease"]
    if lease is not None and lease["held"]:
        bot = f"running: pid {lease['pid']} on {lease['host']} holds the lease until {lease['expires_at']}"
    else:
        bot = "no instance holds the lease (stopped, or cron between runs)"
    lines.append(_line("bot", bot))
    return lines


def _state(doc: dict[str, Any]) -> list[str]:
    since = doc["trading_state_since"]
    detail = "never changed" if since.startswith("1970-") else f"{doc['trading_state_reason']}, since {since}"
    lines = [_line("mode", doc["mode"]), _line("trading state", f"{doc['trading_state']} ({detail})")]
    last = doc["last_cycle"]
    if last is None:
        lines.append(_line("last cycle", "none"))
    else:
        age = "" if last["age_s"] is None else f", {last['age_s']:.0f} s ago"
        lines.append(_line("last cycle", f"{last['cycle_id']} at {last['started_at']} -> {last['outcome']}{age}"))
    return lines


def _equity(doc: dict[str, Any]) -> list[str]:
    if doc["equity"] is None:
        return [_line("equity", "unknown (no cycle has run yet)")]
    marks = f"(high-water {money(doc['high_water_mark'])}, day start {money(doc['day_start_equity'])})"
    if not doc["equity_known"]:
        return [_line("equity", f"unknown: no price for {', '.join(doc['unpriced_assets'])} in the last cycle "
                                f"(last known {money(doc['equity'])} at {doc['equity_as_of']})")]
    return [_line("equity", f"{money(doc['equity'])}  {marks}")]


def _decisions(doc: dict[str, Any]) -> list[str]:
    d = doc["last_decisions"]
    if d is None:
        return [_line("last decisions", "none recorded yet")]
    head = f"cycle {d['cycle_id']}: {d['intents']} intent{'s' if d['intents'] != 1 else ''}, {d['submitted']} sent"
    if d["safe_mode"]:
        head += f"; safe mode: {'; '.join(d['reasons'])}"
    lines = [_line("last decisions", head)]
    for x in d["decisions"]:
        verdict = (f"denied {x['code']}: {x['detail']}" if x["decision"] == "denied"
                   else "approved" + (f" (resized from {amount(x['requested_quantity'])})"
                                      if "requested_quantity" in x else ""))
        lines.append(_sub(f"{x['side']} {x['symbol']} {x['type']} {amount(x['quantity'])} {verdict}"))
    hold = d.get("hold_reason")
    if not d["strategy_asked"]:
        lines.append(_line("strategy", f"not asked: {d['strategy_not_asked_reason']}"))
    elif not d["decisions"]:
        lines.append(_line("strategy", f"held ({hold['code']}): {hold['detail']}" if hold
                           else "held: no intents (no reason recorded)"))
    why = doc["why_no_trades"]
    if why and d["strategy_asked"] and d["decisions"]:  # otherwise the strategy line says it
        lines.append(_line("why no trades", why[0]))
        lines += [_sub(w) for w in why[1:]]
        if hold:
            lines.append(_sub(f"hold reason ({hold['code']}): {hold['detail']}"))
    return lines


def _balance(doc: dict[str, Any]) -> list[str]:
    check = doc["balance_check"]
    if check is None:
        return [_line("balance check", "no cycle report yet")]
    if not check["checked"]:
        return [_line("balance check", f"not compared in cycle {check['cycle_id']} (exchange data missing)")]
    if not check["issues"]:
        return [_line("balance check", f"ledger and exchange agree (cycle {check['cycle_id']})")]
    lines = [_line("balance check", f"mismatch in cycle {check['cycle_id']} "
                                    f"(shortfall seen in {check['drift_streak']} consecutive passes)")]
    for i in check["issues"]:
        value = "" if i["diff_quote"] is None else f", {money(i['diff_quote'])} {doc['quote']}"
        what = "shortfall" if i["kind"] == "shortfall" else "surplus (information only)"
        lines.append(_sub(f"{i['asset']} {what}: ledger {amount(i['ledger'])}, exchange {amount(i['exchange'])}, "
                          f"diff {amount(i['diff'])}{value}"))
    if any(i["kind"] == "shortfall" for i in check["issues"]):
        lines.append(_sub("`btcbot reconcile` shows the plan; `--apply --reason ...` records it (stop the bot first)"))
    return lines


def _policy(doc: dict[str, Any]) -> list[str]:
    p = doc["capital_policy"]
    if p is None:
        return [_line("capital policy", "not recorded (no priced cycle report yet)")]
    caps = sorted(set(p["asset_exposure_caps"].values()))
    cap_text = (f"asset cap {money(caps[0])} each" if len(caps) == 1 else
                "asset caps " + ", ".join(f"{s} {money(v)}" for s, v in p["asset_exposure_caps"].items()))
    return [
        _line("capital policy", f"cycle {p['cycle_id']}: tradable {money(p['tradable_capital'])} of base "
                                f"{money(p['capital_base'])}"),
        _sub(f"reserved cash {money(p['reserved_cash'])}, fee buffer {money(p['fee_buffer'])} "
             f"(cash floor {money(p['cash_floor'])})"),
        _sub(f"drawdown {amount(p['drawdown'])}, multiplier m_dd {amount(p['drawdown_multiplier'])}"),
        _sub(f"portfolio cap {money(p['portfolio_exposure_cap'])}, {cap_text}"),
    ]


def _profit(doc: dict[str, Any]) -> list[str]:
    p = doc["profit"]
    unrealized = "unknown" if p["unrealized"] is None else money(p["unrealized"])
    return [_line(f"profit {p['month']}", f"realized {money(p['realized_mtd'])}, unrealized {unrealized}, "
                                          f"fees {money(p['fees_mtd'])}, taxes {money(p['taxes_mtd'])} "
                                          f"({doc['quote']}, month to date)")]


def _books(doc: dict[str, Any]) -> list[str]:
    lines = []
    rearm = doc.get("last_rearm")
    if rearm:
        lines.append(_line("last re-arm", f"{rearm['at']}: high-water {money(rearm['old_high_water'])} -> "
                                          f"{money(rearm['new_high_water'])} ({rearm['reason']})"))
    lines.append(_line("reserve bucket", money(doc["reserve_bucket"])))
    lines.append(_line("wallet", ", ".join(f"{a} {amount(v)}" for a, v in doc["wallet"].items()) or "empty"))
    details = doc["breaker_details"]
    opened = [f"{g} {b['state']}" + (f" until {b['until']}" if b["until"] else "")
              + f" ({b['consecutive_failures']} failures)" for g, b in details.items() if b["state"] != "CLOSED"]
    lines.append(_line("breakers", ", ".join(opened) if opened else "all CLOSED"))
    lines.append(_line("open orders", str(len(doc["open_orders"]))))
    for o in doc["open_orders"]:
        lines.append(_sub(f"{o['client_order_id']} {o['symbol']} {o['side']} {o['type']} {o['state']} "
                          f"qty {amount(o['quantity'])} filled {amount(o['filled'])} @ {amount(o['price'])}"))
    if doc["recent_orders"]:
        lines.append("recent orders")
        for o in doc["recent_orders"]:
            lines.append(_sub(f"{o['client_order_id']} {o['symbol']} {o['side']} {o['state']} "
                              f"filled {amount(o['filled'])} avg {amount(o['avg_price'])}"))
    return lines


def render(doc: dict[str, Any]) -> list[str]:
    """The lines of the human view, top to bottom: is it OK, why (not) trading, then the books."""
    return [*_verdict(doc), *_state(doc), *_equity(doc), *_decisions(doc), *_balance(doc), *_policy(doc),
            *_profit(doc), *_books(doc)]


__all__ = ["amount", "money", "render"]
