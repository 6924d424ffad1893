"""Signature/stamp 401s and the published rate limits (429 + Retry-After, fixed windows)."""

from __future__ import annotations

import pytest

from btcbot.sim.http import auth
from btcbot.sim.testing import DEFAULT_API_SECRET, SimHandle

from .conftest import Api, sign


def _balances(api: Api, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    resp = api.session.get(api.sim.base_url + "/api/v1/users/balances", headers=headers, timeout=5)
    return resp.status_code, resp.json()


def test_known_signature_vector() -> None:
    # Vector computed with openssl (HMAC-SHA256 keyed with the base64-DECODED secret, base64 output):
    #   echo -n "sim-key1767225600000" | openssl dgst -sha256 -mac HMAC -macopt hexkey:<hex> -binary | base64
    expected = "BDS1jcs21N7RDonJXKst6x9kWf2VFyK9R0kiIWB/xr8="
    assert sign("sim-key", DEFAULT_API_SECRET, 1_767_225_600_000) == expected
    assert auth.sign("sim-key", DEFAULT_API_SECRET, 1_767_225_600_000) == expected


def test_valid_signature_within_window_is_accepted(api: Api) -> None:
    for offset in (-4_900, 0, 4_900):
        status, _ = _balances(api, api.headers(stamp_offset_ms=offset))
        assert status == 200


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda h: {k: v for k, v in h.items() if k != "X-Signature"}, "Unauthorized - Headers are missing"),
        (lambda h: {**h, "X-PCK": "other-key"}, "Unauthorized - Invalid Public key"),
        (lambda h: {**h, "X-Signature": "AAAA" + h["X-Signature"][4:]}, "Unauthorized - Invalid Signature"),
        (lambda h: {**h, "X-Stamp": "not-a-number"}, "Unauthorized - Invalid Nonce"),
    ],
)
def test_auth_failures_are_401_with_documented_messages(api: Api, mutate: object, message: str) -> None:
    status, body = _balances(api, mutate(api.headers()))  # type: ignore[operator]
    assert status == 401
    assert body["message"] == message


def test_stale_stamp_is_invalid_nonce_against_the_sim_clock(api: Api, sim: SimHandle) -> None:
    headers = api.headers()
    sim.admin.advance(5.5)  # the stamp is now 5.5 s old in market time
    status, body = _balances(api, headers)
    assert (status, body["message"]) == (401, "Unauthorized - Invalid Nonce")
    status, _ = _balances(api, api.headers(stamp_offset_ms=6_000))
    assert status == 401


def test_balances_limit_120_per_minute_then_429_with_retry_after(api: Api, sim: SimHandle) -> None:
    for _ in range(120):
        assert _balances(api, api.headers())[0] == 200
    resp = api.session.get(sim.base_url + "/api/v1/users/balances", headers=api.headers(), timeout=5)
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "60"
    assert resp.json() == {
        "message": "TOO_MANY_REQUESTS",
        "success": False,
        "code": 429,
        "details": "Quota exceeded. Maximum allowed: 120 per 1m.",
        "limit": "120",
        "period": "1m",
        "policy": "ip",
    }
    sim.admin.advance(30)
    blocked = api.session.get(sim.base_url + "/api/v1/users/balances", headers=api.headers(), timeout=5)
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "30"
    sim.admin.advance(30)
    assert _balances(api, api.headers())[0] == 200


def test_order_post_limit_10_per_second_account_policy(api: Api, sim: SimHandle) -> None:
    body = {
        "quantity": "0.001",
        "price": "3800000",
        "orderMethod": "limit",
        "orderType": "buy",
        "pairSymbol": "BTCTRY",
    }
    for _ in range(10):
        assert api.post_order(body).status_code == 200
    resp = api.post_order(body)
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "1"
    assert resp.json()["policy"] == "account"
    assert resp.json()["details"].endswith("Please try again in 1 second(s).")
    assert len(sim.engine.orders) == 10  # the refused call placed nothing
    sim.admin.advance(1)
    assert api.post_order(body).status_code == 200


def test_rate_limits_can_be_disabled() -> None:
    from btcbot.sim.testing import SimConfig, running_simulator

    with running_simulator(SimConfig(rate_limits=False, history_minutes=10)) as handle:
        api = Api(handle)
        assert all(api.get("/api/v2/orderbook", pairSymbol="BTCTRY").status_code == 200 for _ in range(200))


def _wall_headers(handle: SimHandle) -> dict[str, str]:
    """Headers of a client that never syncs its time: the stamp is its own (real) clock."""
    import time

    real_ms = int(time.time() * 1000)
    return {
        "X-PCK": handle.api_key,
        "X-Stamp": str(real_ms),
        "X-Signature": sign(handle.api_key, handle.api_secret, real_ms),
    }


def test_wall_mode_checks_stamps_against_the_market_clock_only() -> None:
    from btcbot.sim.testing import SimConfig, running_simulator

    with running_simulator(SimConfig(clock_mode="wall", speed=60, history_minutes=10)) as handle:
        api = Api(handle)
        assert _balances(api, _wall_headers(handle)) == (
            401, {"success": True, "message": "Unauthorized - Invalid Nonce", "code": 1037}
        )  # the real clock is far from the 2026-01-01 market clock
        assert _balances(api, api.headers())[0] == 200  # a client on the venue's clock passes


def test_a_client_that_never_syncs_fails_once_the_sim_clock_is_advanced() -> None:
    from datetime import UTC, datetime

    from btcbot.sim.testing import SimConfig, running_simulator

    config = SimConfig(clock_mode="wall", start_time=datetime.now(UTC), history_minutes=10, rate_limits=False)
    with running_simulator(config) as handle:
        api = Api(handle)
        assert _balances(api, _wall_headers(handle))[0] == 200  # market clock == real clock so far
        handle.admin.advance(60)
        status, body = _balances(api, _wall_headers(handle))
        assert (status, body["message"]) == (401, "Unauthorized - Invalid Nonce")
        assert _balances(api, api.headers())[0] == 200  # re-synced stamps pass


def test_either_clock_stays_available_when_asked_for() -> None:
    from btcbot.sim.testing import SimConfig, running_simulator

    config = SimConfig(clock_mode="wall", speed=60, history_minutes=10, auth_clock="either")
    with running_simulator(config) as handle:
        api = Api(handle)
        assert _balances(api, _wall_headers(handle))[0] == 200
        assert _balances(api, api.headers())[0] == 200
