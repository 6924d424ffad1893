"""One module per command family; imported lazily by ``btcbot.cli.main``."""
