"""Failpoints: inert by default, parsed once, kill really kills, raise raises, typos refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from btcbot import failpoints as fpm
from btcbot.domain.errors import ConfigError
from btcbot.failpoints import FailpointAction, Failpoints, FailpointTriggered

REPO = Path(__file__).resolve().parents[1]


def test_canonical_names() -> None:
    assert fpm.AFTER_INTENT_COMMIT == "after_intent_commit"
    assert fpm.BEFORE_POST == "before_post"
    assert fpm.AFTER_POST_BEFORE_COMMIT == "after_post_before_commit"
    assert fpm.MID_FILL_APPLICATION == "mid_fill_application"
    assert fpm.MID_RECONCILE == "mid_reconcile"
    assert fpm.AFTER_CANCEL_REQUEST == "after_cancel_request"
    assert fpm.BEFORE_CHECKPOINT == "before_checkpoint"
    assert fpm.AFTER_CHECKPOINT == "after_checkpoint"
    assert len(fpm.ALL_FAILPOINTS) == 8


@pytest.mark.parametrize("environ", [{}, {"BTCBOT_FAILPOINTS": ""}, {"BTCBOT_FAILPOINTS": " , "}])
def test_inert_when_unset(environ: dict[str, str]) -> None:
    fp = Failpoints.from_env(environ)
    assert fp == Failpoints.none()
    assert not fp.active
    for name in sorted(fpm.ALL_FAILPOINTS):
        fp.hit(name)  # must not raise or die


def test_parse_actions_default_kill() -> None:
    fp = Failpoints.parse("before_post, MID_RECONCILE=raise ,after_checkpoint=KILL")
    assert fp.action_for(fpm.BEFORE_POST) is FailpointAction.KILL
    assert fp.action_for(fpm.MID_RECONCILE) is FailpointAction.RAISE
    assert fp.action_for(fpm.AFTER_CHECKPOINT) is FailpointAction.KILL
    assert fp.action_for(fpm.AFTER_INTENT_COMMIT) is None


def test_raise_action_in_process() -> None:
    fp = Failpoints.from_env({"BTCBOT_FAILPOINTS": "after_post_before_commit=raise"})
    fp.hit(fpm.BEFORE_POST)  # another point: inert
    with pytest.raises(FailpointTriggered) as info:
        fp.hit(fpm.AFTER_POST_BEFORE_COMMIT)
    assert info.value.name == fpm.AFTER_POST_BEFORE_COMMIT


def test_raise_is_not_swallowed_by_except_exception() -> None:
    fp = Failpoints.parse("mid_reconcile=raise")
    with pytest.raises(FailpointTriggered):
        try:
            fp.hit(fpm.MID_RECONCILE)
        except Exception:  # a cycle's generic handler must not catch a simulated crash
            pytest.fail("FailpointTriggered was caught by 'except Exception'")


@pytest.mark.parametrize(
    ("text", "named"),
    [("before_pots", "before_pots"), ("before_post=explode", "explode"), ("before_post,zzz", "zzz")],
)
def test_bad_configuration_names_the_culprit(text: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        Failpoints.from_env({"BTCBOT_FAILPOINTS": text})


def test_conflicting_duplicate_refused() -> None:
    with pytest.raises(ConfigError, match="twice"):
        Failpoints.parse("before_post=kill,before_post=raise")


def test_unknown_name_at_call_site_is_an_error() -> None:
    with pytest.raises(ValueError, match="nope"):
        Failpoints.none().hit("nope")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_kill_action_kills_the_process_without_cleanup(tmp_path: Path) -> None:
    marker = tmp_path / "cleanup-ran"
    code = (
        "import atexit, os, sys\n"
        "from btcbot.failpoints import Failpoints, BEFORE_POST, AFTER_CHECKPOINT\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'w').close())\n"
        "fp = Failpoints.from_env(os.environ)\n"
        "fp.hit(AFTER_CHECKPOINT)\n"
        "print('before', flush=True)\n"
        "try:\n"
        "    fp.hit(BEFORE_POST)\n"
        "finally:\n"
        "    print('finally ran', flush=True)\n"
        "print('survived', flush=True)\n"
    )
    env = {**os.environ, "BTCBOT_FAILPOINTS": "before_post", "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert proc.stdout == "before\n"
    assert not marker.exists()
