"""Pure domain: frozen values over Decimal. Imports nothing else from btcbot and does no I/O."""
