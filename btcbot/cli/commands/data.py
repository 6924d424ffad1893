"""``btcbot download-data`` and ``btcbot backtest``.

download-data: candles from the graph host (public, no keys) into the database's ``candles``
table, resumable and paced by the client's rate limiter; or ``--synthetic`` bars from the
simulator's price engine (offline); or ``--csv-import``/``--csv-export``.

backtest: replays stored candles (or ``--synthetic-seed`` bars) through the live decide -> risk
-> execute -> ledger path and writes report.json, equity.csv, trades.csv, round_trips.csv,
equity.png, run.json and (with the ``charts`` extra) report.html.

Progress: a bar on a terminal, periodic ``progress ...`` lines on stderr otherwise
(:mod:`btcbot.cli.progress`). A download that stores no bar exits 2 and says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from btcbot.cli.context import CliContext
from btcbot.cli.progress import ProgressReporter

INTERVALS: dict[str, int] = {
    "1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "4h": 14400, "1d": 86400,
}


def parse_interval(text: str) -> int:
    """``1m``..``1d`` or a number of seconds -> seconds."""
    key = text.strip().lower()
    if key in INTERVALS:
        return INTERVALS[key]
    if key.isdigit() and int(key) in INTERVALS.values():
        return int(key)
    raise click.BadParameter(f"{text!r}: use one of {', '.join(INTERVALS)} (or seconds)", param_hint="--interval")


def parse_day(text: str, name: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r}: expected YYYY-MM-DD", param_hint=name) from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _symbols(values: Sequence[str], default: Sequence[str]) -> tuple[str, ...]:
    from btcbot.domain.symbols import parse_pair

    found = [s.strip() for v in values for s in v.split(",") if s.strip()]
    try:
        return tuple(parse_pair(s).symbol for s in found) if found else tuple(default)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--symbols") from None


def _range(start_text: str, end_text: str) -> tuple[datetime, datetime]:
    start, end = parse_day(start_text, "--from"), parse_day(end_text, "--to")
    if end <= start:
        raise click.BadParameter("--to must be after --from", param_hint="--to")
    return start, end


@click.command("download-data")
@click.option("--from", "start_text", default=None, help="First day (UTC), YYYY-MM-DD (not needed with --csv-import).")
@click.option("--to", "end_text", default=None, help="Day after the last one (UTC, exclusive), YYYY-MM-DD.")
@click.option("--interval", "interval_text", default="1h", show_default=True, help="1m 5m 15m 30m 1h 4h 1d.")
@click.option("--symbols", multiple=True, help="Pairs (comma separated or repeated); default trading.symbols.")
@click.option("--csv-export", type=click.Path(dir_okay=False, path_type=Path), help="Write stored bars of the range to a CSV file.")
@click.option("--csv-import", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Load bars from a CSV file.")
@click.option("--synthetic", is_flag=True, help="Generate bars offline with the simulator's price engine.")
@click.option("--seed", default=1, show_default=True, type=int, help="Seed for --synthetic.")
@click.pass_obj
def download_data_command(
    obj: CliContext, start_text: str | None, end_text: str | None, interval_text: str, symbols: tuple[str, ...],
    csv_export: Path | None, csv_import: Path | None, synthetic: bool, seed: int,
) -> None:
    """Download candles into the database (resumable), or import/export/generate them."""
    from btcbot.persistence.candles import SqlCandleStore
    from btcbot.persistence.engine import create_engine_for
    from btcbot.persistence.migrations import upgrade

    if sum(bool(x) for x in (csv_export, csv_import, synthetic)) > 1:
        raise click.UsageError("choose at most one of --csv-export, --csv-import, --synthetic")
    if csv_import is None and (start_text is None or end_text is None):
        raise click.UsageError("--from and --to are required (except with --csv-import)")
    settings = obj.load().settings
    interval_s = parse_interval(interval_text)
    start, end = _range(start_text, end_text) if start_text and end_text else (None, None)
    wanted = _symbols(symbols, settings.trading.symbols)
    upgrade(settings.database.url)
    engine = create_engine_for(settings.database.url, settings.database.busy_timeout_ms)
    try:
        store = SqlCandleStore(engine)
        if csv_import is not None:
            _import_csv(store, csv_import)
            return
        assert start is not None and end is not None
        if csv_export is not None:
            _export_csv(store, csv_export, wanted, interval_s, start, end)
        elif synthetic:
            _synthetic(store, wanted, interval_s, start, end, seed)
        else:
            _download(settings, store, wanted, interval_s, start, end)
    finally:
        engine.dispose()


def _import_csv(store: Any, path: Path) -> None:
    from btcbot.data.csv_io import CsvFormatError, read_candles_csv

    batch: list[Any] = []
    total = 0
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            for candle in read_candles_csv(handle):
                batch.append(candle)
                if len(batch) >= 5000:
                    total += store.add(batch)
                    batch = []
        total += store.add(batch)
    except CsvFormatError as exc:
        raise click.ClickException(f"{path}: {exc}") from None
    click.echo(f"imported {total} bars from {path}")


def _export_csv(store: Any, path: Path, symbols: Sequence[str], interval_s: int, start: datetime, end: datetime) -> None:
    from btcbot.data.csv_io import write_candles_csv

    last = end - timedelta(seconds=1)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("w", newline="", encoding="utf-8")
    except OSError as exc:
        raise click.BadParameter(f"cannot write {path}: {exc.strerror}", param_hint="--csv-export") from None
    with handle:
        rows = (c for s in symbols for c in store.iter_range(s, interval_s, start, last))
        count = write_candles_csv(rows, handle)
    click.echo(f"exported {count} bars to {path}")


def _synthetic(store: Any, symbols: Sequence[str], interval_s: int, start: datetime, end: datetime, seed: int) -> None:
    from btcbot.data.synthetic import generate_candles

    try:
        generated = generate_candles(symbols, interval_s, start, end, seed)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    for symbol, bars in generated.items():
        with ProgressReporter(f"{symbol} (synthetic)", "bars", len(bars)) as progress:
            for i in range(0, len(bars), 5000):
                chunk = bars[i : i + 5000]
                store.add(chunk)
                progress.update(i + len(chunk))
    if not any(generated.values()):
        raise click.ClickException("stored 0 bars: the range is shorter than one bar")
    click.echo(f"generated {sum(len(b) for b in generated.values())} bars (seed {seed})")


def _download(settings: Any, store: Any, symbols: Sequence[str], interval_s: int, start: datetime, end: datetime) -> None:
    from btcbot.adapters.btcturk.client import build_btcturk_client
    from btcbot.adapters.clock import SystemClock
    from btcbot.data.download import download_candles

    clock = SystemClock()
    client = build_btcturk_client(settings, None, clock)
    reporters: dict[str, ProgressReporter] = {}

    def progress(symbol: str, done: int, total: int) -> None:
        if symbol not in reporters:
            for other in reporters.values():
                other.__exit__(None, None, None)
            reporters[symbol] = ProgressReporter(f"download {symbol}", "bars", total).__enter__()
        reporters[symbol].update(done, total)

    stop = min(end, clock.now())
    try:
        results = download_candles(client, store, symbols, interval_s, start, stop,
                                   progress=progress, now=clock.now())
    finally:
        for reporter in reporters.values():
            reporter.__exit__(None, None, None)
    empty: list[str] = []
    for r in results:
        resumed = f" (resumed after {r.resumed_from.isoformat()})" if r.resumed_from else ""
        reason = r.empty_reason(interval_s, start, stop)
        if reason is None and r.stored == 0:
            resumed += ", already complete"
        click.echo(f"{r.symbol}: stored {r.stored} bars{resumed}")
        if reason is not None:
            empty.append(reason)
    if empty:
        # Exit 2: nothing usable was written for these symbols (documented in docs/backtest.md).
        raise click.ClickException(f"stored 0 bars for {len(empty)} symbol(s): " + "; ".join(empty))


@click.command("backtest")
@click.option("--from", "start_text", required=True, help="First day (UTC), YYYY-MM-DD.")
@click.option("--to", "end_text", required=True, help="Day after the last one (UTC, exclusive), YYYY-MM-DD.")
@click.option("--strategy", default=None, help="Strategy name or dotted path (default trading.strategy).")
@click.option("--interval", "interval_text", default=None, help="Strategy bar length (default trading.candle_interval_s).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("backtest-report"),
              show_default=True, help="Directory for report.json, report.html, equity.csv, trades.csv, round_trips.csv, equity.png, run.json.")
@click.option("--synthetic-seed", type=int, default=None, help="Use offline 1m bars from the simulator's price engine instead of the database.")
@click.pass_obj
def backtest_command(
    obj: CliContext, start_text: str, end_text: str, strategy: str | None, interval_text: str | None,
    out_dir: Path, synthetic_seed: int | None,
) -> None:
    """Replay candles through the live decide -> risk -> execute -> ledger path and write a report."""
    from btcbot.backtest.runner import NoCandles, run_backtest, stream_candles

    settings = obj.load().settings
    interval_s = parse_interval(interval_text) if interval_text else settings.trading.candle_interval_s
    start, end = _range(start_text, end_text)
    symbols = settings.trading.symbols
    try:  # a bad --out must fail before minutes of replay, as a usage error
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.BadParameter(f"cannot create {out_dir}: {exc.strerror}", param_hint="--out") from None
    expected = -(-int((end - start).total_seconds()) // interval_s)
    engine = None
    try:
        if synthetic_seed is not None:
            from btcbot.data.synthetic import generate_candles

            # Generated in memory (the walk is built backwards from the end of the range): for long
            # ranges, store them once with `download-data --synthetic` and backtest from the store.
            candles: Mapping[str, Iterable[Any]] = dict(generate_candles(symbols, 60, start, end, synthetic_seed))
        else:
            from btcbot.persistence.candles import SqlCandleStore
            from btcbot.persistence.engine import create_engine_for
            from btcbot.persistence.migrations import upgrade

            upgrade(settings.database.url)
            engine = create_engine_for(settings.database.url, settings.database.busy_timeout_ms)
            try:  # streamed: the store is read in pages while the backtest runs (bounded memory)
                candles = stream_candles(SqlCandleStore(engine), symbols, interval_s, start, end)
            except NoCandles as exc:
                raise click.ClickException(str(exc)) from None
        with ProgressReporter("backtest", "strategy bars") as reporter:
            try:
                output = run_backtest(settings, candles, out_dir, start, end, strategy, interval_s, reporter.update,
                                      expected_bars=expected)
            except NoCandles as exc:
                raise click.ClickException(str(exc)) from None
    finally:
        if engine is not None:
            engine.dispose()
    metrics = output.report.strategy
    bench = output.report.benchmark
    lines = [
        f"bars {output.result.strategy_bars} x {len(symbols)} symbols, trades {metrics.trades}, "
        f"total return {metrics.total_return:.4%} (buy-and-hold {bench.total_return:.4%}), "
        f"max drawdown {metrics.max_drawdown:.4%}, fees {metrics.fees:.2f} + taxes {metrics.taxes:.2f}"
    ]
    from btcbot.backtest.summary import summary_lines

    lines.extend(summary_lines(output.report, settings.trading.quote_asset))
    denials = ", ".join(f"{code} {n}" for code, n in output.report.risk_denials) or "none"
    lines.append(f"risk denials: {denials}")
    for line in lines:
        click.echo(line)
    name = strategy or settings.trading.strategy
    _write_html(output, out_dir, f"btcbot backtest: {name}, {start:%Y-%m-%d} to {end:%Y-%m-%d}",
                settings.trading.quote_asset, lines)
    click.echo(f"report written to {out_dir}/ ({', '.join(sorted(output.files))})")


def _write_html(output: Any, out_dir: Path, title: str, quote: str, lines: Sequence[str]) -> None:
    """report.html when plotly (the ``charts`` extra) is installed; otherwise say how to get it."""
    from btcbot.backtest.html_report import ChartsUnavailable, write_html_report

    # Hourly closes per symbol (the run keeps no bars; see btcbot.backtest.tracking).
    prices = {s: points for s, points in output.prices.items() if points}
    try:
        output.files["report.html"] = write_html_report(out_dir / "report.html", output.report, prices, title,
                                                        quote, lines)
    except ChartsUnavailable as exc:
        click.echo(f"report.html skipped: {exc}", err=True)
