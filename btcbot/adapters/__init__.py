"""Adapters: concrete implementations of the contracts (exchange, clock, paper)."""
