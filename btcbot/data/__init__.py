"""Candle data: download from the graph host, CSV import/export, and offline synthetic bars."""
