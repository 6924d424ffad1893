"""One settings group per module; the root model in ``btcbot.config.settings`` assembles them."""
