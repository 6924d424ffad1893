"""btcturk layer."""
