"""The "Order outcome policy" of docs/execution.md is what the code does, row by row.

Both tables are parsed from the doc. The definitive-rejection table must equal
``DEFINITIVE_REJECTIONS``; every reply-class row has an example reply here (and every example a
row), which is sent with `responses` to the real client for POST and DELETE and through the
order service: the outcome must be the first word(s) of the row's cell.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from pydantic import SecretStr

from btcbot.adapters.btcturk import wire
from btcbot.adapters.btcturk.client import BtcTurkClient
from btcbot.adapters.btcturk.errors import (
    CANCEL_ROUTE,
    DEFINITIVE_REJECTIONS,
    SUBMIT_ROUTE,
    classify_response,
)
from btcbot.adapters.clock import ManualClock
from btcbot.app.error_policy import Action, action_for
from btcbot.config.groups.resilience import ResilienceSettings
from btcbot.config.secrets import Credentials
from btcbot.domain.enums import OrderState, OrderType, Side
from btcbot.domain.errors import AmbiguousOutcome, ExchangeError, ExchangeRejected, OrderNotFound
from btcbot.domain.exchange_models import OrderRequest
from btcbot.domain.ids import ClientOrderId, Symbol
from btcbot.domain.intents import Approved, OrderIntent
from btcbot.domain.market import SymbolRules
from btcbot.failpoints import Failpoints
from btcbot.persistence.fake import FakeStore, FakeUnitOfWork
from btcbot.services.order_service import OUTBOX_SUBMIT, OrderService

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "execution.md"
FIXTURES = REPO / "tests" / "fixtures" / "btcturk"
BASE, GRAPH = "https://api.test", "https://graph.test"
T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
KEY, SECRET = "policy-key", "YnRjYm90LXBvbGljeS10ZXN0LXNlY3JldA=="
ORDER_URL = f"{BASE}/api/v1/order"
ROUTES = {"POST": SUBMIT_ROUTE, "DELETE": CANCEL_ROUTE}

# ----------------------------------------------------------------------------- the doc


def _section(text: str, title: str) -> str:
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def _tables(section: str) -> list[list[list[str]]]:
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*section.splitlines(), ""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= set("-: ") for c in cells):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


def doc_tables() -> tuple[list[list[str]], list[list[str]]]:
    tables = _tables(_section(DOC.read_text(encoding="utf-8"), "Order outcome policy"))
    assert len(tables) == 2, "the section has the reply-class table and the definitive-rejection table"
    return tables[0], tables[1]


def outcome_words(cell: str) -> frozenset[str]:
    """The backticked upper-case words of a cell before any explanation in parentheses."""
    head = cell.split("(")[0]
    return frozenset(re.findall(r"`([A-Z_]+)`", head))


# ----------------------------------------------------------------------------- example replies


def _env(success: Any, message: Any = None, code: Any = 0, data: Any = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"message": message, "code": code, **extra}
    if success is not None:
        out["success"] = success
    if data is not None:
        out["data"] = data
    return out


@dataclass(frozen=True)
class Reply:
    """One answer for `responses`: JSON document, raw body or an exception."""

    status: int = 200
    doc: Any = None
    raw: str | None = None
    error: Exception | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def kwargs(self) -> dict[str, Any]:
        if self.error is not None:
            return {"body": self.error}
        body = self.raw if self.raw is not None else json.dumps(self.doc)
        return {"status": self.status, "body": body, "headers": self.headers}


def ack_data(cid: str, **changes: Any) -> dict[str, Any]:
    data = {
        "id": 9007199254740993, "datetime": 1772445600000, "type": "buy", "method": "limit", "price": "3000000",
        "quantity": "0.002", "pairSymbol": "BTCTRY", "pairSymbolNormalized": "BTC_TRY", "newOrderClientId": cid,
    }  # fmt: skip
    data.update(changes)
    return data


def examples(cid: str) -> dict[str, dict[str, list[Reply]]]:
    """Row id -> method -> the replies the venue gives, in order (a retry gets the next one)."""
    ok = Reply(200, _env(True, "SUCCESS", 0, ack_data(cid)))

    def both(*replies: Reply) -> dict[str, list[Reply]]:
        return {"POST": list(replies), "DELETE": list(replies)}

    return {
        "ok": both(ok),
        "ok-bad-data": {
            "POST": [Reply(200, _env(True, "SUCCESS", 0, {"no": "id"}))],
            "DELETE": [Reply(200, _env(True, "SUCCESS", 0))],
        },
        "ok-bad-code": both(Reply(200, _env(True, "SUCCESS", 1055, ack_data(cid)))),
        "no-success": both(Reply(200, {"message": "SUCCESS", "code": 0, "data": ack_data(cid)})),
        "2xx-false": both(Reply(200, _env(False, "FAILED_LIMIT_ORDER", 0))),
        "4xx-definitive": {
            "POST": [Reply(400, _env(False, "FAILED_MIN_TOTAL_AMOUNT", 1123))],
            "DELETE": [Reply(400, _env(False, "NO_ORDER_MATCHES_YOUR_REQUEST", 1052))],
        },
        "4xx-unknown": {
            "POST": [Reply(400, _env(False, "Quota exceeded. Maximum allowed: 10 per 1s.", 1123))],
            "DELETE": [Reply(400, _env(False, "BALANCE_NOT_ENOUGH", 1055))],
        },
        "maintenance": {
            "POST": [Reply(400, _env(False, "ORDER_INSERT_BLOCKED", 0))],
            "DELETE": [Reply(503, _env(False, "SYSTEM_UNDER_MAINTENANCE", 0))],
        },
        "401-stamp": both(Reply(401, _env(True, "Unauthorized - Invalid Nonce", 1037)), ok),
        "401-credentials": both(Reply(401, _env(False, "Unauthorized - Invalid Signature", 1037))),
        "auth-not-401": both(Reply(400, _env(False, None, 1037))),
        "429": both(Reply(429, raw=(FIXTURES / "rest_429_ip_block_docs.json").read_text(), headers={"Retry-After": "1"})),
        "5xx-json": both(Reply(503, _env(False, "Service Unavailable", 0))),
        "5xx-html": both(Reply(502, raw="<html><body>502 Bad Gateway</body></html>")),
        "5xx-empty": both(Reply(503, raw="")),
        "timeout": both(Reply(error=requests.ReadTimeout("read timed out"))),
        "reset": both(Reply(error=requests.ConnectionError("Connection reset by peer"))),
        "malformed": both(Reply(200, raw='{"success": true, "message": "SUCCESS", "code": 0, "data": {"id": 90')),
        "other-status": both(Reply(302, raw="")),
    }


# ----------------------------------------------------------------------------- running a row


def _client(clock: ManualClock) -> BtcTurkClient:
    return BtcTurkClient(
        base_url=BASE, graph_url=GRAPH, credentials=Credentials(api_key=KEY, api_secret=SecretStr(SECRET)),
        clock=clock, resilience=ResilienceSettings(), timeout_s=5.0, rng=random.Random(1),
    )  # fmt: skip


@pytest.fixture
def venue() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(f"{BASE}/api/v2/server/time", json={"serverTime": int(T0.timestamp() * 1000)})
        yield rsps


def _install(rsps: responses.RequestsMock, method: str, replies: list[Reply]) -> None:
    for reply in replies:
        rsps.add(method, ORDER_URL, **reply.kwargs())


def _words(error: ExchangeError, final: str) -> frozenset[str]:
    words = {final} if isinstance(error, ExchangeRejected) else {"UNKNOWN"}
    if action_for(error) is Action.HALT:
        words.add("HALT")
    return frozenset(words)


def client_outcome(rsps: responses.RequestsMock, method: str, replies: list[Reply], request: OrderRequest) -> frozenset[str]:
    _install(rsps, method, replies)
    client = _client(ManualClock(T0))
    try:
        if method == "POST":
            client.submit_order(request)
            return frozenset({"ACK"})
        client.cancel_order(5)
        return frozenset({"REQUESTED"})
    except ExchangeError as exc:
        return _words(exc, "REJECTED" if method == "POST" else "REFUSED")


def reply_rows() -> list[list[str]]:
    return doc_tables()[0][1:]


REQUEST = OrderRequest(
    Symbol("BTCTRY"), Side.BUY, OrderType.LIMIT, ClientOrderId("bb-s1-c000007-BTCTRY-B-policytest"),
    base_quantity=Decimal("0.002"), price=Decimal("3000000"),
)  # fmt: skip


def test_every_reply_class_in_the_doc_has_an_example_and_back() -> None:
    header = doc_tables()[0][0]
    assert header == ["id", "reply class", "POST /api/v1/order", "DELETE /api/v1/order"]
    assert [row[0] for row in reply_rows()] == list(examples("x"))


@pytest.mark.parametrize("row", reply_rows(), ids=lambda row: row[0])
@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_client_follows_the_outcome_table(venue: responses.RequestsMock, row: list[str], method: str) -> None:
    expected = outcome_words(row[2] if method == "POST" else row[3])
    replies = examples(REQUEST.client_order_id)[row[0]][method]
    if "RESYNC_RETRY" in expected:
        # The first reply triggers a resync and ONE more send; the second reply (an ack) decides.
        assert client_outcome(venue, method, replies, REQUEST) == {"ACK" if method == "POST" else "REQUESTED"}
        sent = [c for c in venue.calls if c.request.method == method]
        assert len(sent) == 2
        return
    assert client_outcome(venue, method, replies, REQUEST) == expected
    sent = [c for c in venue.calls if c.request.method == method]
    assert len(sent) == 1, "an order write is never resent"


# ----------------------------------------------------------------------------- order service


def _rules() -> dict[str, SymbolRules]:
    doc = json.loads((FIXTURES / "exchangeinfo_crafted.json").read_text(), parse_float=Decimal)
    return {r.symbol: r for r in wire.parse_exchange_info("exchange_info", doc)}


def _approved() -> Approved:
    intent = OrderIntent(
        "s1", "BTCTRY", Side.BUY, OrderType.LIMIT, Decimal("0.002"), Decimal("3000000"), Decimal(50),
        limit_price=Decimal("3000000"),
    )  # fmt: skip
    return Approved(intent, intent, risk_increasing=True)


@pytest.mark.parametrize("row", reply_rows(), ids=lambda row: row[0])
def test_order_service_books_only_final_answers(venue: responses.RequestsMock, row: list[str]) -> None:
    store = FakeStore()
    clock = ManualClock(T0)
    service = OrderService(
        _client(clock), lambda: FakeUnitOfWork(store), clock, _rules(), Failpoints.none(), Decimal("0.05"),
        Decimal("0.002"), Decimal("0.2"),
    )  # fmt: skip
    prepared = service.prepare(_approved(), 7)
    assert isinstance(prepared, OrderRequest)
    _install(venue, "POST", examples(prepared.client_order_id)[row[0]]["POST"])
    expected = outcome_words(row[2])
    try:
        outcome = service.submit(_approved(), 7)
    except ExchangeError as exc:
        assert "HALT" in expected and action_for(exc) is Action.HALT
        state = store.orders[prepared.client_order_id].state
    else:
        assert "HALT" not in expected
        assert outcome.client_order_id == prepared.client_order_id
        state = store.orders[prepared.client_order_id].state
    wanted = {"ACK": OrderState.OPEN, "REJECTED": OrderState.REJECTED, "RESYNC_RETRY": OrderState.OPEN}
    assert state is wanted.get(next(iter(expected - {"HALT"})), OrderState.UNKNOWN)
    with FakeUnitOfWork(store) as uow:
        pending = [item.key for item in uow.outbox.pending(OUTBOX_SUBMIT)]
    # An UNKNOWN order keeps its outbox row: the reconciler looks the client id up; nothing resends.
    assert (pending == [prepared.client_order_id]) is (state is OrderState.UNKNOWN)


# ----------------------------------------------------------------------------- definitive rejections


def test_definitive_rejection_table_equals_the_code() -> None:
    header, *rows = doc_tables()[1]
    assert header == ["route", "message", "code", "source"]
    in_doc = {(r, m.strip("`"), None if c == "-" else int(c), s) for r, m, c, s in rows}
    in_code = {(r.route, r.name, r.code, r.source) for r in DEFINITIVE_REJECTIONS}
    assert in_doc == in_code
    assert len(rows) == len(DEFINITIVE_REJECTIONS)


@pytest.mark.parametrize("rejection", DEFINITIVE_REJECTIONS, ids=lambda r: f"{r.route.split()[0]}-{r.name}")
def test_each_definitive_rejection_is_final_on_its_route_only(rejection: Any) -> None:
    body = json.dumps(_env(False, rejection.name, rejection.code if rejection.code is not None else 0)).encode()
    with pytest.raises(ExchangeRejected) as info:
        classify_response("w", 400, body, {}, write=True, route=rejection.route)
    assert info.value.error_name == rejection.name
    assert isinstance(info.value, OrderNotFound) is rejection.not_found
    other = CANCEL_ROUTE if rejection.route == SUBMIT_ROUTE else SUBMIT_ROUTE
    with pytest.raises(AmbiguousOutcome):
        classify_response("w", 400, body, {}, write=True, route=other)
    with pytest.raises(AmbiguousOutcome):  # the same words in a 2xx are not final either
        classify_response("w", 200, body, {}, write=True, route=rejection.route)


def test_a_code_alone_is_final_only_without_a_message() -> None:
    alone = json.dumps({"success": False, "code": 1123}).encode()
    with pytest.raises(ExchangeRejected) as info:
        classify_response("w", 400, alone, {}, write=True, route=SUBMIT_ROUTE)
    assert (info.value.error_name, info.value.code) == ("FAILED_MIN_TOTAL_AMOUNT", 1123)
    worded = json.dumps({"success": False, "message": "something new", "code": 1123}).encode()
    with pytest.raises(AmbiguousOutcome):
        classify_response("w", 400, worded, {}, write=True, route=SUBMIT_ROUTE)
