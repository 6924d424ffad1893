"""A lease held by a dead process on this host is taken over at once (restart after kill -9);
a live holder still wins (exit 75 path)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from btcbot.adapters.clock import SystemClock
from btcbot.app.wiring import LeaseKeeper
from btcbot.domain.errors import LeaseHeld
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.lease import current_holder
from btcbot.persistence.migrations import upgrade

HOLDER = textwrap.dedent(
    """
    import os, socket, sys, time
    from datetime import UTC, datetime
    from btcbot.persistence.engine import create_engine_for
    from btcbot.persistence.lease import acquire
    engine = create_engine_for(sys.argv[1])
    acquire(engine, socket.gethostname(), os.getpid(), 3600, datetime.now(UTC))
    print("held", flush=True)
    time.sleep(600)
    """
)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'lease.db'}"
    upgrade(url)
    return url


def _start_holder(url: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_live_holder_keeps_the_lease(db_url: str) -> None:
    proc = _start_holder(db_url)
    engine = create_engine_for(db_url)
    try:
        with pytest.raises(LeaseHeld, match=f"pid {proc.pid}"):
            LeaseKeeper(engine, SystemClock(), 60).acquire()
    finally:
        proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
        engine.dispose()


def test_dead_holder_on_this_host_is_taken_over_before_expiry(db_url: str) -> None:
    proc = _start_holder(db_url)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.stdout is not None
    proc.stdout.close()
    engine = create_engine_for(db_url)
    before = current_holder(engine)
    assert before is not None and before.owner_pid == proc.pid  # an hour of lease left
    keeper = LeaseKeeper(engine, SystemClock(), 60)
    token = keeper.acquire()
    assert token.token == before.token + 1  # the fencing token moved on: the dead holder is fenced
    after = current_holder(engine)
    assert after is not None and after.owner_pid != proc.pid
    assert (after.expires_at - SystemClock().now()).total_seconds() <= 61  # our real expiry, not the fake one
    engine.dispose()
