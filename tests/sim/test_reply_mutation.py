"""The ``mutate`` fault: the request takes effect, then the answer is another reply class."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
import requests

from btcbot.sim.faults import FaultRegistry, FaultSpec
from btcbot.sim.mutation import GROUPS, PRIVATE_ROUTES, REPLY_CLASSES, applicable, parse_replies
from btcbot.sim.testing import SimHandle

from .conftest import Api

BUY = {"quantity": "0.001", "price": "3800000", "orderMethod": "limit", "orderType": "buy", "pairSymbol": "BTCTRY"}
#: Classes whose answer still reaches the client as an HTTP response.
ANSWERED = [c for c in REPLY_CLASSES if c not in ("reset", "timeout", "short_body")]


def _orders_with(sim: SimHandle, client_id: str) -> list[Any]:
    return [o for o in sim.engine.orders.values() if o.client_id == client_id]


def _json(resp: requests.Response) -> Any:
    return json.loads(resp.content)


def test_every_class_belongs_to_exactly_one_group() -> None:
    grouped = [c for members in GROUPS.values() for c in members]
    assert sorted(grouped) == sorted(REPLY_CLASSES)
    assert parse_replies("random") == tuple(REPLY_CLASSES)
    assert parse_replies("envelope|reset,status_429") == (*GROUPS["envelope"], "reset", "status_429")
    with pytest.raises(ValueError, match="unknown reply class 'nope'"):
        parse_replies("envelope|nope")


@pytest.mark.parametrize("reply", ANSWERED)
def test_submit_takes_effect_then_answers_the_chosen_class(api: Api, sim: SimHandle, reply: str) -> None:
    cid = f"m-{reply}"
    sim.admin.set_fault("POST /api/v1/order", kind="mutate", reply=reply, count=1)
    resp = api.post_order({**BUY, "newOrderClientId": cid})
    (order,) = _orders_with(sim, cid)  # the order IS on the exchange
    assert order.status == "Untouched"
    if reply == "ok_false_code0":
        assert resp.status_code == 200 and _json(resp)["success"] is False and _json(resp)["code"] == 0
    elif reply == "ok_false_code":
        body = _json(resp)
        assert resp.status_code == 200 and body["success"] is False and body["code"] not in (0, 1055, 1123)
    elif reply == "flip_success":
        body = _json(resp)
        assert body["success"] is False and body["data"]["id"] == order.id  # the real data, flag inverted
    elif reply == "id_string":
        assert _json(resp)["data"]["id"] == str(order.id)
    elif reply == "id_null":
        assert _json(resp)["data"]["id"] is None
    elif reply == "field_removed":
        data = _json(resp)["data"]
        assert len(data) == 9 and _json(resp)["success"] is True
    elif reply == "field_null":
        data = _json(resp)["data"]
        assert data["id"] == order.id and sum(v is None for v in data.values()) == 1
    elif reply == "data_missing":
        assert "data" not in _json(resp) and _json(resp)["success"] is True
    elif reply == "status_4xx_unknown":
        assert resp.status_code in (400, 404, 409, 422) and _json(resp).get("code") not in (1055, 1123)
    elif reply == "status_401_text":
        assert (resp.status_code, resp.text) == (401, "Unauthorized")
    elif reply == "status_401_nonce":
        assert resp.status_code == 401 and _json(resp)["message"] == "Unauthorized - Invalid Nonce"
    elif reply == "status_429":
        assert resp.status_code == 429 and resp.headers["Retry-After"] == "1"
    elif reply == "status_5xx_json":
        assert resp.status_code in (500, 502, 503) and _json(resp)["message"] != "SYSTEM_UNDER_MAINTENANCE"
    elif reply == "status_5xx_html":
        assert resp.status_code >= 500 and resp.text.startswith("<html>")
    elif reply == "status_5xx_empty":
        assert resp.status_code >= 500 and resp.content == b""
    elif reply == "html_200":
        assert resp.status_code == 200 and "html" in resp.headers["Content-Type"]
    elif reply == "empty_200":
        assert resp.status_code == 200 and resp.content == b""
    elif reply in ("truncated_json", "malformed_json"):
        assert resp.status_code == 200
        with pytest.raises(ValueError):
            json.loads(resp.content)
    else:  # pragma: no cover - every answered class has a branch
        pytest.fail(reply)
    # count=1: the next submit answers normally
    ok = api.post_order({**BUY, "newOrderClientId": f"{cid}-next"})
    assert ok.status_code == 200 and _json(ok)["success"] is True


def test_reset_after_effect_is_a_connection_error(api: Api, sim: SimHandle) -> None:
    sim.admin.set_fault("POST /api/v1/order", kind="mutate", reply="reset", count=1)
    with pytest.raises(requests.ConnectionError):
        api.post_order({**BUY, "newOrderClientId": "m-reset"})
    assert len(_orders_with(sim, "m-reset")) == 1


def test_short_body_after_effect_breaks_the_read(api: Api, sim: SimHandle) -> None:
    sim.admin.set_fault("POST /api/v1/order", kind="mutate", reply="short_body", count=1)
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        api.post_order({**BUY, "newOrderClientId": "m-short"})
    assert len(_orders_with(sim, "m-short")) == 1


def test_timeout_after_effect_hangs_past_the_client_timeout(api: Api, sim: SimHandle) -> None:
    sim.admin.set_fault("POST /api/v1/order", kind="mutate", reply="timeout", seconds=1.0, count=1)
    with pytest.raises(requests.Timeout):
        api.post_order({**BUY, "newOrderClientId": "m-hang"}, timeout=0.3)
    assert len(_orders_with(sim, "m-hang")) == 1


def test_cancel_takes_effect_under_a_mutated_answer(api: Api, sim: SimHandle) -> None:
    order_id = _json(api.post_order({**BUY, "newOrderClientId": "to-cancel"}))["data"]["id"]
    sim.admin.set_fault("DELETE /api/v1/order", kind="mutate", reply="ok_false_code0", count=1)
    resp = api.cancel(order_id)
    assert resp.status_code == 200 and _json(resp)["success"] is False
    sim.admin.advance(sim.config.cancel_delay_s)
    assert sim.engine.orders[order_id].status == "Canceled"


def test_classes_that_do_not_fit_a_route_are_never_drawn() -> None:
    every = tuple(REPLY_CLASSES)
    assert "id_string" not in applicable("GET", "/api/v1/users/balances", every)
    assert "data_missing" not in applicable("DELETE", "/api/v1/order", every)
    assert "flip_success" not in applicable("GET", "/api/v2/server/time", every)
    assert set(applicable("GET", "/api/v1/order/{id}", every)) == set(every)
    registry = FaultRegistry(1)
    registry.add("*", FaultSpec(kind="mutate", reply="id_string"))
    assert registry.fire("GET", "/api/v1/users/balances") == []  # nothing fits: the fault does not fire
    assert [f.reply for f in registry.fire("GET", "/api/v1/openorders")] == ["id_string"]


def test_random_classes_are_seeded_per_fault() -> None:
    def draws(seed: int | None, registry_seed: int = 1) -> list[str]:
        registry = FaultRegistry(registry_seed)
        registry.add("*", FaultSpec(kind="mutate", reply="random", probability=0.5, seed=seed))
        return [f.reply for _ in range(200) for f in registry.fire("POST", "/api/v1/order")]

    first = draws(7)
    assert first == draws(7) == draws(7, registry_seed=2)  # the fault's own seed decides
    assert first != draws(8)
    assert 60 < len(first) < 140  # probability 0.5 of 200 calls
    assert set(first) == set(REPLY_CLASSES)  # every class is drawn on the submit route
    assert draws(None, 3) == draws(None, 3) != draws(None, 4)  # else the simulator's seed decides


@pytest.mark.parametrize("route", PRIVATE_ROUTES)
def test_every_private_route_can_be_mutated(api: Api, sim: SimHandle, route: str) -> None:
    order_id = _json(api.post_order({**BUY, "newOrderClientId": "base"}))["data"]["id"]
    sim.admin.set_fault(route, kind="mutate", reply="ok_false_code0", count=1)
    method, path = route.split(" ")
    path = path.replace("{id}", str(order_id)).replace("openorders", "openOrders").replace("allorders", "allOrders")
    headers = api.headers()
    params = {"pairSymbol": "BTCTRY"} if "order/" not in path else {}
    if method == "DELETE":
        params = {"id": str(order_id)}
    if method == "POST":
        resp = api.post_order({**BUY, "newOrderClientId": "other"})
    else:
        resp = api.session.request(method, sim.base_url + path, params=params, headers=headers, timeout=10)
    assert (resp.status_code, _json(resp)["success"], _json(resp)["code"]) == (200, False, 0)
    counters = sim.admin.counters()
    assert counters["replies"] == {"ok_false_code0": 1}
    assert counters["route_replies"] == {f"{method} {route.split(' ')[1]} ok_false_code0": 1}


def test_field_classes_on_lists_change_one_row_and_log_the_class(api: Api, sim: SimHandle) -> None:
    for i in range(3):
        api.post_order({**BUY, "newOrderClientId": f"row-{i}"})
    sim.admin.set_fault("GET /api/v1/openorders", kind="mutate", reply="id_null", count=1)
    bids = api.get("/api/v1/openOrders", signed=True, pairSymbol="BTCTRY").json()["data"]["bids"]
    assert [b["id"] for b in bids] == [None, None, None]
    real = api.get("/api/v1/allOrders", signed=True, pairSymbol="BTCTRY").json()["data"]
    sim.admin.set_fault("GET /api/v1/allorders", kind="mutate", reply="field_null", count=1)
    rows = api.get("/api/v1/allOrders", signed=True, pairSymbol="BTCTRY").json()["data"]
    changed = [(k, a[k], b[k]) for a, b in zip(real, rows, strict=True) for k in a if a[k] != b[k]]
    assert len(changed) == 1 and changed[0][2] is None and changed[0][0] != "id"
    log = sim.admin.state()["request_log"]
    assert [e["reply"] for e in log[-3:]] == ["id_null", None, "field_null"]


def test_a_field_class_with_nothing_to_change_sends_the_real_answer(api: Api, sim: SimHandle) -> None:
    sim.admin.set_fault("GET /api/v1/openorders", kind="mutate", reply="field_removed", count=1)
    resp = api.get("/api/v1/openOrders", signed=True, pairSymbol="BTCTRY")
    assert resp.json() == {"data": {"asks": [], "bids": []}, "success": True, "message": None, "code": 0}
    assert sim.admin.counters()["replies"] == {"unchanged": 1}


def test_admin_route_accepts_lists_and_refuses_unknown_classes(sim: SimHandle) -> None:
    sim.admin.set_fault("GET /api/v1/*", kind="mutate", reply=["envelope", "reset"], probability=0.25, seed=9)
    (fault,) = sim.admin.faults()
    assert fault["reply"] == "ok_false_code0|ok_false_code|flip_success|reset" and fault["seed"] == 9
    with pytest.raises(RuntimeError, match="unknown reply class"):
        sim.admin.set_fault("*", kind="mutate", reply="teapot")
    with pytest.raises(RuntimeError, match="seconds"):
        sim.admin.set_fault("*", kind="mutate", reply="timeout", seconds=31)


def test_counters_count_requests_faults_and_reset(api: Api, sim: SimHandle) -> None:
    sim.admin.set_fault("GET /api/v2/ticker", kind="mutate", reply="status_5xx_empty", count=2)
    codes = [api.get("/api/v2/ticker").status_code for _ in range(3)]
    assert codes[2] == 200 and all(c >= 500 for c in codes[:2])
    counters = sim.admin.counters()
    assert (counters["requests"], counters["faulted"], counters["kinds"]) == (3, 2, {"mutate": 2})
    sim.admin.reset_counters()
    assert sim.admin.counters()["requests"] == 0


def test_mutation_details_are_reproducible_for_a_seed() -> None:
    from btcbot.sim.http.request import Response
    from btcbot.sim.mutation import mutate

    real = Response(200, {"success": True, "message": None, "code": 0,
                          "data": [{"id": i, "price": "1", "amount": "2"} for i in range(5)]})
    first = [mutate("field_removed", real, random.Random(3))[0].body for _ in range(1)]
    again = [mutate("field_removed", real, random.Random(3))[0].body for _ in range(1)]
    assert first == again and first[0] != real.body
    assert real.body["data"][0] == {"id": 0, "price": "1", "amount": "2"}  # the original is not touched


@pytest.mark.slow
def test_btcbot_sim_reply_mutation_option_mutates_every_private_route() -> None:
    import os
    import re
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from .conftest import sign

    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")}
    args = [sys.executable, "-m", "btcbot.sim", "--port", "0", "--clock", "manual", "--no-rate-limits",
            "--reply-mutation", "1", "--reply-classes", "ok_false_code0", "--fault-seed", "4",
            "--fault", "GET /api/v2/ticker:kind=mutate,reply=status_5xx_empty,count=1"]
    root = Path(__file__).resolve().parents[2]
    with subprocess.Popen(args, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            match = re.search(r"(http://127\.0\.0\.1:\d+)", proc.stdout.readline())
            assert match
            url = match.group(1)
            faults = requests.get(url + "/__sim/faults", timeout=5).json()["faults"]
            assert sorted(f["route"] for f in faults if f["kind"] == "mutate") == sorted(
                [r.lower() for r in PRIVATE_ROUTES] + ["get /api/v2/ticker"]
            )
            assert requests.get(url + "/api/v2/ticker", timeout=5).status_code >= 500
            assert requests.get(url + "/api/v2/ticker", timeout=5).status_code == 200  # count=1
            stamp = requests.get(url + "/api/v2/server/time", timeout=5).json()["serverTime"]
            secret = "YnRjYm90LXNpbXVsYXRvci1maXhlZC1zZWNyZXQtMDE="
            headers = {"X-PCK": "sim-key", "X-Stamp": str(stamp), "X-Signature": sign("sim-key", secret, stamp)}
            body = requests.get(url + "/api/v1/users/balances", headers=headers, timeout=5).json()
            assert (body["success"], body["code"]) == (False, 0)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)


def test_a_named_field_is_removed_or_nulled_in_every_row(api: Api, sim: SimHandle) -> None:
    for i in range(2):
        api.post_order({**BUY, "newOrderClientId": f"named-{i}"})
    sim.admin.set_fault("GET /api/v1/allorders", kind="mutate", reply="field_removed", field="leftAmount", count=1)
    rows = api.get("/api/v1/allOrders", signed=True, pairSymbol="BTCTRY").json()["data"]
    assert len(rows) == 2 and all("leftAmount" not in r and "price" in r for r in rows)
    sim.admin.set_fault("GET /api/v1/allorders", kind="mutate", reply="field_null", field="price", count=1)
    rows = api.get("/api/v1/allOrders", signed=True, pairSymbol="BTCTRY").json()["data"]
    assert [r["price"] for r in rows] == [None, None] and all(r["leftAmount"] for r in rows)
    sim.admin.set_fault("GET /api/v1/allorders", kind="mutate", reply="field_null", field="nope", count=1)
    assert all(r["price"] for r in api.get("/api/v1/allOrders", signed=True, pairSymbol="BTCTRY").json()["data"])
    assert sim.admin.counters()["replies"]["unchanged"] == 1
    with pytest.raises(RuntimeError, match="field"):
        sim.admin.set_fault("*", kind="mutate", reply="field_null", field="x" * 65)
