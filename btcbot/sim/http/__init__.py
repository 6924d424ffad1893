"""BTC Turk-compatible HTTP facade over the simulator engine."""
