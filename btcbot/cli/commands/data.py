"""Data and backtest commands. Placeholders until the backtester lands."""

from __future__ import annotations

from btcbot.cli.commands.trading import _placeholder

backtest_command = _placeholder("backtest", "Replay stored candles through the live code path.")
download_data_command = _placeholder("download-data", "Download candles into the database.")
