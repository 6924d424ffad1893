"""``btcbot sim``: run a BTC Turk-compatible simulator in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import FrameType
from typing import Any

import click

from btcbot.sim.clock import MANUAL, WALL
from btcbot.sim.config import DEFAULT_API_SECRET, SimConfig
from btcbot.sim.engine.config import DEFAULT_SYMBOLS
from btcbot.sim.faults import FaultSpec
from btcbot.sim.http.server import SimServer
from btcbot.sim.mutation import PRIVATE_ROUTES, parse_replies


def _balances(values: tuple[str, ...]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for item in values:
        asset, sep, amount = item.partition("=")
        try:
            if not sep or not asset:
                raise InvalidOperation
            out[asset.strip().upper()] = Decimal(amount.strip())
        except InvalidOperation:
            raise click.BadParameter(f"expected ASSET=AMOUNT, got {item!r}", param_hint="--balance") from None
    return out


def parse_fault(text: str) -> tuple[str, FaultSpec]:
    """``ROUTE:key=value,key=value`` (lists with ``|``) or a JSON object with a ``route`` member."""
    stripped = text.strip()
    data: dict[str, Any]
    if stripped.startswith("{"):
        try:
            loaded = json.loads(stripped)
        except ValueError:
            raise ValueError(f"not a JSON object: {stripped[:60]!r}") from None
        if not isinstance(loaded, dict):
            raise ValueError("a fault must be a JSON object")
        data = dict(loaded)
        route = str(data.pop("route", "*"))
    else:
        route, sep, rest = stripped.partition(":")
        if not sep or not route.strip():
            raise ValueError(f"expected ROUTE:kind=...,key=value, got {text!r}")
        data = {}
        for item in rest.split(","):
            key, eq, value = item.partition("=")
            if not eq or not key.strip():
                raise ValueError(f"expected key=value in {text!r}, got {item!r}")
            raw = value.strip()
            data[key.strip()] = {"true": True, "false": False}.get(raw.lower(), raw)
    return route.strip(), FaultSpec.from_mapping(data)


def _finite(value: float, name: str, low: float, high: float) -> float:
    if not math.isfinite(value) or not low <= value <= high:
        raise click.BadParameter(f"must be a finite number within [{low:g}, {high:g}]", param_hint=name)
    return value


def _symbols(values: tuple[str, ...]) -> tuple[str, ...]:
    found = tuple(s.strip().upper() for v in values for s in v.split(",") if s.strip())
    return found or DEFAULT_SYMBOLS


def bot_env_lines(config: SimConfig, url: str) -> list[str]:
    """The ``BTCBOT_`` settings a bot needs to talk to this simulator, as ``.env`` lines.

    Both hosts (REST and graph) are this one server; the credentials are the only ones it
    accepts (the simulator's own, not a real key). Dry run is left to the bot's default (paper):
    a live bot against the simulator adds ``BTCBOT_TRADING__DRY_RUN=false``. The trading pairs
    are written only when they are not the bot's default five.
    """
    lines = [
        f"# btcbot sim at {url} (seed {config.seed}): settings for a bot that trades against it.",
        "# Paper (dry run) is the bot's default; add BTCBOT_TRADING__DRY_RUN=false to trade on the simulator.",
    ]
    if config.clock_mode == WALL and config.speed != 1.0:
        lines.append(f"# note: --speed {config.speed:g} moves the market clock away from real time, so private "
                     "calls fail with Invalid Nonce; a live bot needs --speed 1.")
    lines += [
        f"BTCBOT_EXCHANGE__BASE_URL={url}",
        f"BTCBOT_EXCHANGE__GRAPH_URL={url}",
        f"BTCBOT_AUTH__API_KEY={config.api_key}",
        f"BTCBOT_AUTH__API_SECRET={config.api_secret}",
    ]
    if tuple(config.symbols) != tuple(DEFAULT_SYMBOLS):
        lines.append(f"BTCBOT_TRADING__SYMBOLS={','.join(config.symbols)}")
    return lines


def write_env_file(path: Path, lines: list[str]) -> None:
    """Write ``lines`` to ``path`` with mode 0600, atomically (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


@click.command("sim")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (keep loopback).")
@click.option("--port", default=8088, show_default=True, type=click.IntRange(0, 65535), help="Port; 0 = any free port.")
@click.option("--seed", default=1, show_default=True, type=int, help="Seed of the price path and faults.")
@click.option("--api-key", envvar="BTCBOT_AUTH__API_KEY", default="sim-key", show_default=True)
@click.option(
    "--api-secret",
    envvar="BTCBOT_AUTH__API_SECRET",
    default=DEFAULT_API_SECRET,
    show_default=False,
    help="Base64 secret (default: a fixed demo secret).",
)
@click.option("--balance", "balances", multiple=True, help="ASSET=AMOUNT, repeatable (default TRY=100000).")
@click.option("--clock", "clock_mode", type=click.Choice([WALL, MANUAL]), default=WALL, show_default=True)
@click.option(
    "--speed", default=1.0, show_default=True, type=float, help="Market seconds per real second (wall)."
)
@click.option(
    "--symbols", multiple=True, help="Pairs, comma separated or repeated (default: the 5 TRY pairs)."
)
@click.option(
    "--cancel-delay", default=1.0, show_default=True, type=float, help="Seconds until a cancel is final."
)
@click.option(
    "--start-time", default=None, help="ISO start time (default: now in wall mode, 2026-01-01 manual)."
)
@click.option(
    "--tick-seconds", default=10.0, show_default=True, type=float, help="Market seconds per price step."
)
@click.option("--no-rate-limits", is_flag=True, help="Do not enforce the published rate limits.")
@click.option(
    "--fault", "faults", multiple=True, metavar="SPEC",
    help="Add a fault at start, repeatable: 'ROUTE:kind=KIND,key=value,...' (lists with |) or a JSON "
    "object with a route member, e.g. 'POST /api/v1/order:kind=mutate,reply=envelope|timeout,probability=0.2'.",
)
@click.option(
    "--reply-mutation", "reply_mutation", type=float, default=None, metavar="PROBABILITY",
    help="Mutate the reply of every private endpoint with this probability (the request takes effect).",
)
@click.option(
    "--reply-classes", default="random", show_default=True,
    help="Reply classes for --reply-mutation: a class, a group (envelope, fields, status, body, "
    "connection), random, or a |-separated list.",
)
@click.option("--fault-seed", type=int, default=None, help="Seed of the --reply-mutation draws (default: --seed).")
@click.option(
    "--body-timeout", default=10.0, show_default=True, type=float,
    help="Seconds to wait for a request body shorter than its Content-Length (then 408).",
)
@click.option(
    "--print-env", "print_env", is_flag=True,
    help="Once listening, print the BTCBOT_ settings a bot needs to use this simulator (URLs and the "
    "simulator's credentials) on stdout as .env lines; the other messages go to stderr.",
)
@click.option(
    "--env-file", "env_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Once listening, write those settings to this file (mode 0600, replaced atomically); "
    "use it with `btcbot --env-file PATH ...`.",
)
def sim_command(
    host: str,
    port: int,
    seed: int,
    api_key: str,
    api_secret: str,
    balances: tuple[str, ...],
    clock_mode: str,
    speed: float,
    symbols: tuple[str, ...],
    cancel_delay: float,
    start_time: str | None,
    tick_seconds: float,
    no_rate_limits: bool,
    faults: tuple[str, ...],
    reply_mutation: float | None,
    reply_classes: str,
    fault_seed: int | None,
    body_timeout: float,
    print_env: bool = False,
    env_file: Path | None = None,
) -> None:
    """Run a local BTC Turk-compatible exchange simulator."""
    added: list[tuple[str, FaultSpec]] = []
    try:
        added = [parse_fault(f) for f in faults]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fault") from None
    if reply_mutation is not None:
        _finite(reply_mutation, "--reply-mutation", 0.0, 1.0)
        try:
            classes = "|".join(parse_replies(reply_classes))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--reply-classes") from None
        seed_value = seed if fault_seed is None else fault_seed
        added += [
            (route, FaultSpec(kind="mutate", probability=reply_mutation, reply=classes, seed=seed_value * 1000 + i))
            for i, route in enumerate(PRIVATE_ROUTES)
        ]
    extra: dict[str, object] = {}
    if start_time:
        try:
            parsed = datetime.fromisoformat(start_time)
        except ValueError:
            raise click.BadParameter(f"{start_time!r} is not an ISO date/time", param_hint="--start-time") from None
        extra["start_time"] = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    elif clock_mode == WALL:
        extra["start_time"] = datetime.now(UTC)
    try:
        config = SimConfig(
            seed=seed,
            api_key=api_key,
            api_secret=api_secret,
            balances=_balances(balances) or {"TRY": Decimal("100000")},
            symbols=_symbols(symbols),
            clock_mode=clock_mode,
            speed=speed,
            cancel_delay_s=cancel_delay,
            host=host,
            port=port,
            tick_seconds=tick_seconds,
            rate_limits=not no_rate_limits,
            body_timeout_s=body_timeout,
            **extra,  # type: ignore[arg-type]
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        server = SimServer(config)
    except OSError as exc:
        raise click.ClickException(str(exc)) from None
    for route, spec in added:
        server.app.faults.add(route, spec)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    server.start()
    # With --print-env stdout carries only the settings (usable as an env file); the rest goes to stderr.
    err = print_env
    click.echo(f"btcbot sim listening on {server.url} (clock={clock_mode}, speed={speed}, seed={seed})", err=err)
    for route, spec in added:
        click.echo(f"fault {route}: {spec.kind} p={spec.probability:g}" + (f" reply={spec.reply}" if spec.kind == "mutate" else ""),
                   err=err)
    if print_env or env_file is not None:
        lines = bot_env_lines(config, server.url)
        if env_file is not None:
            try:
                write_env_file(env_file, lines)
            except OSError as exc:
                server.stop()
                raise click.ClickException(f"cannot write --env-file {env_file}: {exc.strerror or exc}") from None
            click.echo(f"bot settings written to {env_file} (mode 0600)", err=err)
        if print_env:
            click.echo("\n".join(lines))
    sys.stdout.flush()
    sys.stderr.flush()
    while not stop.wait(0.5):
        pass
    server.stop()
    click.echo("btcbot sim stopped", err=err)
