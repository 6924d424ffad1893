"""btcbot: a synchronous, crash-safe spot-trading agent for BTC Turk."""

__version__ = "0.1.0"
