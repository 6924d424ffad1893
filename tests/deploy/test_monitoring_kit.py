"""The monitoring kit in deploy/ (issue 13, item 8): a provisionable Grafana dashboard and Prometheus
alerting rules, both valid files, and every metric (and label) they reference is one that a real
``/metrics`` of the bot exposes."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest

from btcbot.domain.enums import TradingState

from .conftest import DEPLOY, iter_panels, yaml
from .promql import metric_names, selectors

#: Labels Prometheus adds to every scraped series (not in the exposition itself).
TARGET_LABELS = {"job", "instance"}
#: Alerts the issue asks for, with a metric each must watch.
REQUIRED_ALERTS = {
    "BtcbotNoCycle": "last_cycle_timestamp",
    "BtcbotBreakerOpen": "breaker_state",
    "BtcbotReducing": "trading_state",
    "BtcbotHalted": "trading_state",
    "BtcbotBalanceDrift": "reconciliation_drift",
    "BtcbotDrawdownTier": "drawdown_multiplier",
    "BtcbotAlertOutboxBacklog": "alert_outbox_pending",
}


def dashboard_exprs(dashboard: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in iter_panels(dashboard) for t in p.get("targets", [])]
    for var in dashboard["templating"]["list"]:
        query = var.get("query")
        if isinstance(query, dict):
            exprs.append(query["query"].replace("label_values(", "").split(",")[0])
    return exprs


def rule_list(rules: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for group in rules["groups"] for r in group["rules"]]


def all_exprs(dashboard: dict[str, Any], rules: dict[str, Any]) -> list[str]:
    return dashboard_exprs(dashboard) + [r["expr"] for r in rule_list(rules)]


# --- the PromQL reader the checks below rely on -------------------------------------------------


def test_promql_reader_finds_metrics_and_ignores_functions_labels_and_variables() -> None:
    expr = ('histogram_quantile(0.95, sum by (le, endpoint_group) (rate(api_latency_ms_bucket{job=~"$job"}'
            '[$__rate_interval]))) > 3 * cycle_interval_seconds and on(instance) absent(foo_total offset 5m)')
    assert metric_names(expr) == {"api_latency_ms_bucket", "cycle_interval_seconds", "foo_total"}
    assert selectors('trading_state{state="HALTED", job=~"a|b"} == 1') == [
        ("trading_state", {"state": "HALTED", "job": "a|b"})
    ]
    assert metric_names("time() - max(last_cycle_timestamp)") == {"last_cycle_timestamp"}


def test_the_exposure_check_would_catch_an_unknown_metric(exposed: dict[str, Any]) -> None:
    assert "orders_submited_total" not in exposed["samples"]  # a typo is not "exposed"
    assert "orders_submitted_total" in exposed["samples"]


# --- files are valid and complete ----------------------------------------------------------------


def test_dashboard_is_a_provisionable_grafana_dashboard(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"] == "btcbot-overview" and dashboard["title"] == "btcbot"
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 36
    assert "id" not in dashboard or dashboard["id"] is None  # file provisioning assigns the id
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    panels = list(iter_panels(dashboard))
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    for p in panels:
        pos = p["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24 and pos["h"] > 0, p["title"]
        if p["type"] == "row":
            continue
        assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, p["title"]
        assert p["targets"] and all(t["expr"].strip() for t in p["targets"]), p["title"]
        assert len({t["refId"] for t in p["targets"]}) == len(p["targets"])


def test_no_two_panels_overlap(dashboard: dict[str, Any]) -> None:
    cells: dict[tuple[int, int], str] = {}
    for p in iter_panels(dashboard):
        pos = p["gridPos"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"{p['title']!r} overlaps {cells[(x, y)]!r}"
                cells[(x, y)] = p["title"]


def test_dashboard_provisioning_points_where_its_install_comment_copies_the_json() -> None:
    text = (DEPLOY / "grafana" / "provisioning" / "dashboards" / "btcbot.yaml").read_text()
    doc = yaml.safe_load(text)
    assert doc["apiVersion"] == 1
    (provider,) = doc["providers"]
    assert provider["type"] == "file"
    path = provider["options"]["path"]
    assert f"deploy/grafana/btcbot-dashboard.json {path}/" in text
    datasources = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yaml").read_text())
    assert datasources["datasources"][0]["type"] == "prometheus"


def test_rules_are_valid_prometheus_rule_groups(rules: dict[str, Any]) -> None:
    names = []
    for group in rules["groups"]:
        assert group["name"] and group["rules"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations", "keep_firing_for"}, rule
            assert rule["labels"]["severity"] in {"warning", "critical"}
            assert rule["annotations"]["summary"]
            if "for" in rule:
                assert isinstance(rule["for"], str) and rule["for"][-1] in "smh"
            names.append(rule["alert"])
    assert len(names) == len(set(names))
    by_name = {r["alert"]: r for r in rule_list(rules)}
    for alert, metric in REQUIRED_ALERTS.items():
        assert metric in metric_names(by_name[alert]["expr"]), alert
    prom = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert any(path.endswith("btcbot-alerts.yml") for path in prom["rule_files"])


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_accepts_the_rules() -> None:
    done = subprocess.run(["promtool", "check", "rules", str(DEPLOY / "prometheus" / "btcbot-alerts.yml")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


# --- everything referenced exists in /metrics ----------------------------------------------------


def test_every_metric_in_the_dashboard_and_the_rules_is_exposed(
    dashboard: dict[str, Any], rules: dict[str, Any], exposed: dict[str, Any]
) -> None:
    referenced = set().union(*(metric_names(e) for e in all_exprs(dashboard, rules)))
    assert len(referenced) >= 20  # the reader found the metrics (a broken reader finds nothing)
    missing = sorted(referenced - set(exposed["samples"]))
    assert not missing, f"not in /metrics: {missing}"


def test_every_label_matcher_names_a_label_of_that_metric(
    dashboard: dict[str, Any], rules: dict[str, Any], exposed: dict[str, Any]
) -> None:
    states = {s.value for s in TradingState}
    for expr in all_exprs(dashboard, rules):
        for metric, matchers in selectors(expr):
            labels = exposed["samples"][metric] | TARGET_LABELS
            assert set(matchers) <= labels, (expr, metric, matchers)
            if metric == "trading_state" and "state" in matchers:
                assert matchers["state"] in states


def test_every_new_metric_of_the_issue_is_on_the_dashboard(dashboard: dict[str, Any]) -> None:
    referenced = set().union(*(metric_names(e) for e in dashboard_exprs(dashboard)))
    new = {"realized_pnl_mtd", "unrealized_pnl", "fees_paid_mtd", "taxes_paid_mtd", "capital_base",
           "reserved_cash", "fee_buffer", "tradable_capital", "drawdown_multiplier", "asset_exposure_cap",
           "portfolio_exposure_cap", "reserve_bucket", "alert_outbox_pending", "cycle_interval_seconds"}
    assert new <= referenced, sorted(new - referenced)
