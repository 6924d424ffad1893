"""Backtesting: replay closed candles through the same strategy -> risk -> execution path.

``report`` turns an equity curve and fills into metrics (JSON/CSV); ``chart`` draws a PNG.
This package module imports nothing on purpose so importing a submodule stays cheap.
"""
