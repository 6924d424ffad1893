"""Protocols every implementation (real, paper, fake) satisfies; tests pass fakes through them."""
