"""Risk engine and self-financing capital policy (design document sections 4.3, 4.4 and 10)."""
