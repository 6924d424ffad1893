"""Simulator gaps of issue 11: absurd admin input, short request bodies, the submit reply's members."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from btcbot.sim.cli import parse_fault, sim_command
from btcbot.sim.testing import SimConfig, SimHandle, running_simulator

from .conftest import Api

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "btcturk"


def _admin(sim: SimHandle, method: str, path: str, raw: bytes) -> requests.Response:
    return requests.request(method, f"{sim.base_url}/__sim/{path}", data=raw, timeout=10,
                            headers={"Content-Type": "application/json"})


def _still_healthy(api: Api, sim: SimHandle) -> None:
    assert api.get("/api/v2/ticker", pairSymbol="BTCTRY").status_code == 200
    assert api.get("/api/v1/users/balances", signed=True).status_code == 200
    before = sim.clock.now_ms()
    assert sim.admin.advance(1) == before + 1000
    assert sim.admin.state()["now_ms"] == before + 1000


@pytest.mark.parametrize(
    ("path", "raw", "field"),
    [
        ("advance", b'{"seconds": NaN}', "seconds"),
        ("advance", b'{"seconds": Infinity}', "seconds"),
        ("advance", b'{"seconds": 1e309}', "seconds"),
        ("advance", b'{"seconds": "inf"}', "seconds"),
        ("advance", b'{"seconds": -1}', "seconds"),
        ("advance", b'{"seconds": 1e12}', "seconds"),
        ("advance", b'{"seconds": true}', "seconds"),
        ("balance", b'{"asset": "TRY", "amount": "NaN"}', "amount"),
        ("balance", b'{"asset": "TRY", "amount": "-Infinity"}', "amount"),
        ("balance", b'{"asset": "TRY", "amount": 1e309}', "amount"),
        ("balance", b'{"asset": "TRY", "amount": "-5"}', "amount"),
        ("balance", b'{"asset": "TRY", "amount": "1e40"}', "amount"),
        ("balance", b'{"asset": "", "amount": "5"}', "asset"),
        ("price", b'{"symbol": "BTCTRY", "price": "nan"}', "price"),
        ("price", b'{"symbol": "BTCTRY", "price": "inf"}', "price"),
        ("price", b'{"symbol": "BTCTRY", "price": 1e309}', "price"),
        ("price", b'{"symbol": "BTCTRY", "price": "-1"}', "price"),
        ("price", b'{"symbol": "BTCTRY", "price": "0"}', "price"),
        ("price", b'{"symbol": "BTCTRY", "price": "5"}', "price"),  # rounds to ~0 ticks
        ("faults", b'{"route": "*", "kind": "error", "probability": NaN}', "probability"),
        ("faults", b'{"route": "*", "kind": "latency", "seconds": Infinity}', "seconds"),
        ("faults", b'{"route": "*", "kind": "error", "count": 1e309}', "count"),
        ("faults", b'{"route": "*", "kind": "mutate", "seed": 1.5}', "seed"),
    ],
)
def test_absurd_admin_input_is_400_and_changes_nothing(
    api: Api, sim: SimHandle, path: str, raw: bytes, field: str
) -> None:
    before = sim.state()
    resp = _admin(sim, "POST", path, raw)
    assert resp.status_code == 400, resp.text
    assert field in resp.json()["message"]
    after = sim.state()
    assert (after["now_ms"], after["balances"], after["prices"], after["faults"]) == (
        before["now_ms"], before["balances"], before["prices"], before["faults"]
    )
    _still_healthy(api, sim)


def test_sensible_admin_input_still_works(api: Api, sim: SimHandle) -> None:
    assert _admin(sim, "POST", "advance", b'{"seconds": 0.5}').status_code == 200
    assert _admin(sim, "POST", "balance", b'{"asset": "btc", "amount": 1.25}').status_code == 200
    assert _admin(sim, "POST", "price", b'{"symbol": "BTCTRY", "price": "4000000"}').status_code == 200
    state = sim.state()
    assert state["balances"]["BTC"]["free"] == "1.25" and state["prices"]["BTCTRY"] == "4000000"
    _still_healthy(api, sim)


@pytest.fixture
def quick_sim() -> Iterator[SimHandle]:
    with running_simulator(SimConfig(history_minutes=10, body_timeout_s=0.3)) as handle:
        yield handle


def _raw_request(sim: SimHandle, head: bytes, body: bytes) -> bytes:
    host, port = sim.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:  # generous: no timing assert
        conn.sendall(head + body)
        chunks = []
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_body_shorter_than_its_content_length_is_answered_408_not_hung(quick_sim: SimHandle) -> None:
    head = (b"POST /api/v1/order HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 500\r\n\r\n")
    answer = _raw_request(quick_sim, head, b'{"pairSymbol": "BTCTRY"')  # then silence, connection open
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"REQUEST_TIMEOUT" in answer
    assert quick_sim.engine.orders == {}
    assert Api(quick_sim).get("/api/v2/server/time").status_code == 200  # the server still serves


def test_a_bad_content_length_is_400(quick_sim: SimHandle) -> None:
    head = b"POST /__sim/advance HTTP/1.1\r\nHost: x\r\nContent-Length: -3\r\n\r\n"
    assert _raw_request(quick_sim, head, b"").startswith(b"HTTP/1.1 400")


def test_submit_reply_has_the_members_of_the_real_one(api: Api) -> None:
    docs = json.loads((FIXTURES / "rest_submit_order_response_docs.json").read_text())
    real = json.loads((FIXTURES / "submit_order_response_issue341_crafted.json").read_text())
    body = {"quantity": "0.001", "price": "3800000", "orderMethod": "limit", "orderType": "buy",
            "pairSymbol": "BTCTRY", "newOrderClientId": "members"}
    answer = api.post_order(body).json()
    assert set(answer) == set(real) | {"data"}
    assert answer["httpStatusCode"] == 200 and answer["message"] == "SUCCESS"
    assert set(answer["data"]) == set(docs["data"]) == set(real["data"])
    assert (answer["data"]["type"], answer["data"]["method"]) == ("buy", "limit")  # 2021 casing
    refused = api.post_order({**body, "quantity": "0.000000001"})
    assert refused.status_code == 400 and refused.json()["httpStatusCode"] == 400


@pytest.mark.parametrize(
    "args",
    [
        ["--speed", "nan"],
        ["--cancel-delay", "inf"],
        ["--tick-seconds", "1e309"],
        ["--balance", "TRY=NaN"],
        ["--balance", "TRY=-1"],
        ["--reply-mutation", "nan"],
        ["--reply-mutation", "2"],
        ["--reply-classes", "teapot", "--reply-mutation", "0.1"],
        ["--fault", "no-colon-here"],
        ["--fault", "*:kind=mutate,reply=teapot"],
        ["--fault", "*:kind=error,probability=inf"],
        ["--body-timeout", "0"],
    ],
)
def test_bad_cli_numbers_and_faults_are_usage_errors(args: list[str]) -> None:
    result = CliRunner().invoke(sim_command, ["--port", "0", *args])
    assert result.exit_code == 2, result.output
    assert "Error" in result.output


def test_fault_specs_from_the_cli() -> None:
    route, spec = parse_fault("POST /api/v1/order:kind=mutate,reply=envelope|timeout,probability=0.2,seed=4")
    assert (route, spec.kind, spec.probability, spec.seed) == ("POST /api/v1/order", "mutate", 0.2, 4)
    assert spec.reply == "ok_false_code0|ok_false_code|flip_success|timeout"
    route, spec = parse_fault('{"route": "GET /api/v2/*", "kind": "error", "status": 502, "count": 3}')
    assert (route, spec.kind, spec.status, spec.count) == ("GET /api/v2/*", "error", 502, 3)
    _, spec = parse_fault("*:kind=timeout,process=false,seconds=1")
    assert spec.process is False


def test_balance_option_rejects_absurd_amounts_before_binding() -> None:
    with pytest.raises(ValueError, match="balance of TRY"):
        SimConfig(balances={"TRY": Decimal("1e30")})
