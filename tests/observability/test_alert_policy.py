"""AlertPolicy: pure dedup + per-kind rate limiting; state JSON round trip; Alert value rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from btcbot.observability.alerts import Alert, AlertKind, AlertPolicy, PolicyState, Severity, Verdict

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def alert(kind: AlertKind = AlertKind.BREAKER_OPEN, key: str = "k1", at: datetime = T0) -> Alert:
    return Alert(kind, Severity.WARNING, "summary", {"endpoint_group": "orders"}, key, at)


def test_first_alert_is_sent() -> None:
    decision, state = AlertPolicy(300).decide(PolicyState(), alert(), T0)
    assert decision.verdict is Verdict.SEND
    assert state.last_sent == {"breaker_open": T0}
    assert state.seen_keys == {"k1": T0}


def test_same_kind_within_interval_is_rate_limited_and_counted() -> None:
    policy = AlertPolicy(300)
    _, s = policy.decide(PolicyState(), alert(key="a"), T0)
    d1, s = policy.decide(s, alert(key="b"), T0 + timedelta(seconds=10))
    d2, s = policy.decide(s, alert(key="c"), T0 + timedelta(seconds=299))
    assert (d1.verdict, d2.verdict) == (Verdict.RATE_LIMITED, Verdict.RATE_LIMITED)
    assert s.suppressed == {"breaker_open": 2}
    d3, s = policy.decide(s, alert(key="d"), T0 + timedelta(seconds=300))
    assert d3.verdict is Verdict.SEND
    assert d3.suppressed_before == 2
    assert s.suppressed == {}


def test_other_kinds_are_not_limited_by_each_other() -> None:
    policy = AlertPolicy(300)
    _, s = policy.decide(PolicyState(), alert(AlertKind.BREAKER_OPEN, "a"), T0)
    d, _ = policy.decide(s, alert(AlertKind.STALE_FEED, "b"), T0 + timedelta(seconds=1))
    assert d.send


def test_same_dedup_key_is_a_duplicate_until_the_window_passes() -> None:
    policy = AlertPolicy(0, dedup_window_s=3600)
    _, s = policy.decide(PolicyState(), alert(key="x"), T0)
    d, s = policy.decide(s, alert(key="x"), T0 + timedelta(seconds=3599))
    assert d.verdict is Verdict.DUPLICATE
    d, s = policy.decide(s, alert(key="x"), T0 + timedelta(seconds=3601))
    assert d.send


def test_trading_state_changes_are_never_rate_limited_by_default() -> None:
    policy = AlertPolicy(300)
    _, s = policy.decide(PolicyState(), alert(AlertKind.TRADING_STATE_CHANGE, "t1"), T0)
    d, s = policy.decide(s, alert(AlertKind.TRADING_STATE_CHANGE, "t2"), T0 + timedelta(seconds=1))
    assert d.send
    d, _ = policy.decide(s, alert(AlertKind.TRADING_STATE_CHANGE, "t2"), T0 + timedelta(seconds=2))
    assert d.verdict is Verdict.DUPLICATE


def test_clock_going_back_suppresses() -> None:
    policy = AlertPolicy(300)
    _, s = policy.decide(PolicyState(), alert(key="a"), T0)
    d, _ = policy.decide(s, alert(key="b"), T0 - timedelta(hours=1))
    assert d.verdict is Verdict.RATE_LIMITED


def test_decide_does_not_mutate_the_given_state() -> None:
    policy = AlertPolicy(300)
    s0 = PolicyState()
    policy.decide(s0, alert(), T0)
    assert s0 == PolicyState()


def test_invalid_inputs() -> None:
    with pytest.raises(ValueError):
        AlertPolicy(-1)
    with pytest.raises(ValueError):
        AlertPolicy(1).decide(PolicyState(), alert(), datetime(2026, 1, 1))


def test_alert_value_rules() -> None:
    details = {"a": "1"}
    a = Alert("stale_feed", "critical", "s", details, "k", T0)  # type: ignore[arg-type]
    details["a"] = "changed"
    assert a.kind is AlertKind.STALE_FEED and a.severity is Severity.CRITICAL
    assert a.details == {"a": "1"}
    with pytest.raises(TypeError):
        a.details["b"] = "x"
    with pytest.raises(ValueError):
        Alert(AlertKind.STALE_FEED, Severity.INFO, "s", {}, "k", datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        Alert(AlertKind.STALE_FEED, Severity.INFO, "s", {}, "", T0)
    with pytest.raises(TypeError):
        Alert(AlertKind.STALE_FEED, Severity.INFO, "s", {"n": 1}, "k", T0)  # type: ignore[dict-item]
    with pytest.raises(ValueError):
        Alert("nope", Severity.INFO, "s", {}, "k", T0)  # type: ignore[arg-type]
    assert Alert.from_json(json.loads(json.dumps(a.to_json()))) == a


kinds = st.sampled_from(list(AlertKind))
events = st.lists(
    st.tuples(kinds, st.integers(0, 5), st.integers(0, 900)),  # kind, key id, seconds since previous
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(events)
def test_properties_over_random_alert_streams(stream: list[tuple[AlertKind, int, int]]) -> None:
    """Sent alerts of a limited kind are >= min_interval apart, no key is sent twice within the
    window, and the state survives a JSON round trip at every step without changing decisions."""
    policy = AlertPolicy(300, dedup_window_s=3600)
    state = PolicyState()
    now = T0
    sent: list[tuple[AlertKind, str, datetime]] = []
    for kind, key_id, gap in stream:
        now += timedelta(seconds=gap)
        a = alert(kind, f"{kind.value}:{key_id}", now)
        d, new_state = policy.decide(state, a, now)
        restored = PolicyState.from_json(json.loads(json.dumps(state.to_json())))
        assert policy.decide(restored, a, now) == (d, new_state)
        state = new_state
        if d.send:
            sent.append((kind, a.dedup_key, now))
    for i, (k1, key1, t1) in enumerate(sent):
        for k2, key2, t2 in sent[i + 1 :]:
            if k1 == k2 and k1 is not AlertKind.TRADING_STATE_CHANGE:
                assert t2 - t1 >= timedelta(seconds=300)
            if key1 == key2:  # the window is [sent, sent + 3600 s): at exactly 3600 s it may go again
                assert t2 - t1 >= timedelta(seconds=3600)
    assert all(t > now - timedelta(seconds=3600) for t in state.seen_keys.values())
