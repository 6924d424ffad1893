"""``python -m btcbot.demo [--cycles N]`` (``./run.sh demo``): the bot trading against the simulator.

Offline, no keys, nothing to configure. It starts the bundled BTC Turk simulator (in a thread) in wall-clock
mode with an accelerated market (``--speed`` market seconds per real second), then runs the bot
in LIVE mode against it over real HTTP with fixed demo credentials and a throw-away SQLite
database, prints every cycle's decisions, and finishes with ``btcbot status``. It stops by itself
after N cycles and always stops every process it started (also on Ctrl-C).

Before the bot starts it says which mode it runs in and why, and prints every ``BTCBOT_``
variable it sets (credentials masked), so the run can be repeated by hand.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from btcbot.sim.config import DEFAULT_API_SECRET

DEMO_API_KEY = "demo-key"
DEMO_API_SECRET = DEFAULT_API_SECRET  # a public, fixed simulator secret: not a real credential
DEFAULT_CYCLES = 12
DEFAULT_SPEED = 5.0
DEFAULT_INTERVAL_S = 4.0
#: Accepted |X-Stamp - market time| in the demo's accelerated market (see :func:`simulator`).
STAMP_WINDOW_S = 86_400.0
STOP_TIMEOUT_S = 15.0


def _python() -> str:
    return sys.executable


@contextmanager
def simulator(seed: int, speed: float) -> Iterator[str]:
    """The simulator on a free loopback port in wall-clock mode, in a thread of this process.

    Why in-process rather than ``btcbot sim``: an accelerated market clock runs away from every
    real clock, so a client's X-Stamp (wall time corrected by the measured server offset) soon
    falls outside the 5 s window; the demo widens the simulator's window, which only its
    Python configuration exposes. Yields the URL; stops the server on exit.
    """
    from btcbot.sim.testing import SimConfig, running_simulator

    config = SimConfig(
        seed=seed,
        api_key=DEMO_API_KEY,
        api_secret=DEMO_API_SECRET,
        balances={"TRY": Decimal("100000")},
        clock_mode="wall",
        speed=speed,
        start_time=datetime.now(UTC),
        stamp_window_s=STAMP_WINDOW_S,
    )
    with running_simulator(config) as sim:
        yield sim.base_url


def bot_environment(url: str, database: Path, interval_s: float) -> dict[str, str]:
    """Everything the bot needs, as environment variables (no .env file is read)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")}
    env.update({
        "BTCBOT_EXCHANGE__BASE_URL": url,
        "BTCBOT_EXCHANGE__GRAPH_URL": url,
        "BTCBOT_AUTH__API_KEY": DEMO_API_KEY,
        "BTCBOT_AUTH__API_SECRET": DEMO_API_SECRET,
        "BTCBOT_TRADING__DRY_RUN": "false",
        "BTCBOT_TRADING__CYCLE_INTERVAL_S": str(interval_s),
        "BTCBOT_TRADING__CYCLE_JITTER_S": "0",
        "BTCBOT_TRADING__CANDLE_INTERVAL_S": "60",
        "BTCBOT_DATABASE__URL": f"sqlite:///{database}",
        "BTCBOT_OBSERVABILITY__LOG_FORMAT": "console",
        "BTCBOT_OBSERVABILITY__LOG_LEVEL": "WARNING",
    })
    return env


#: Variables shown masked: the demo credentials are public, but a habit of printing keys is not.
MASKED = frozenset({"BTCBOT_AUTH__API_KEY", "BTCBOT_AUTH__API_SECRET"})
MASK = "**********"

MODE_LINE = (
    "demo: mode LIVE against the bundled simulator (no real money): BTCBOT_TRADING__DRY_RUN=false so the "
    "whole order path runs (signed requests, exchange fills, reconciliation). Paper (dry run) stays "
    "btcbot's default everywhere else."
)


def settings_lines(env: dict[str, str]) -> list[str]:
    """Every ``BTCBOT_`` variable of ``env`` as ``NAME=value`` lines, sorted, credentials masked."""
    return [f"  {name}={MASK if name in MASKED else value}" for name, value in sorted(env.items())
            if name.startswith("BTCBOT_")]


def btcbot(args: Sequence[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """Start one ``btcbot`` command (output goes straight to our terminal)."""
    code = "import sys; from btcbot.cli.main import main; sys.exit(main())"
    return subprocess.Popen([_python(), "-c", code, *args], env=env, cwd=cwd, text=True)  # noqa: S603 - our argv


def stop(proc: subprocess.Popen[str]) -> None:
    """SIGTERM, wait, then SIGKILL: never leave a process behind."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_demo(cycles: int, speed: float, interval_s: float, seed: int) -> int:
    started: list[subprocess.Popen[str]] = []
    # SIGTERM (a supervisor, `kill`) cleans up like Ctrl-C does; Ctrl-C also reaches the children.
    signal.signal(signal.SIGTERM, _interrupt)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started in the background by a shell
        signal.signal(signal.SIGINT, signal.default_int_handler)
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="btcbot-demo-") as tmp:
        workdir = Path(tmp)
        try:
            url = stack.enter_context(simulator(seed, speed))
            print(f"demo: simulator at {url} (wall clock, {speed:g}x market speed, seed {seed})", flush=True)
            env = bot_environment(url, workdir / "demo.db", interval_s)
            print(MODE_LINE, flush=True)
            print("demo: the bot's settings (environment only, no .env file is read; credentials masked):", flush=True)
            print("\n".join(settings_lines(env)), flush=True)
            for step in (["db", "upgrade"], ["run", "--max-cycles", str(cycles)], ["status"]):
                print(f"demo: $ btcbot {' '.join(step)}", flush=True)
                proc = btcbot(step, env, workdir)
                started.append(proc)
                code = proc.wait()
                if code != 0:
                    print(f"demo: `btcbot {' '.join(step)}` exited {code}", flush=True)
                    return code
            return 0
        except KeyboardInterrupt:
            print("demo: interrupted, stopping", flush=True)
            return 130
        finally:
            for proc in reversed(started):
                stop(proc)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m btcbot.demo", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cycles", type=int, default=DEFAULT_CYCLES, help=f"cycles to run (default {DEFAULT_CYCLES})")
    parser.add_argument("--speed", type=float, default=DEFAULT_SPEED, help="market seconds per real second")
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL_S, help="real seconds between cycles")
    parser.add_argument("--seed", type=int, default=7, help="simulator seed")
    args = parser.parse_args(argv)
    if args.cycles < 1:
        parser.error("--cycles must be >= 1")
    if args.interval < 1:
        parser.error("--interval must be >= 1 second")
    return run_demo(args.cycles, args.speed, args.interval, args.seed)


if __name__ == "__main__":
    raise SystemExit(main())
