"""Built-in strategies (``trend``, ``rebalance``), their shared sizing, and the loader.

Use :func:`btcbot.strategies.registry.load_strategy` to build the configured strategy.
"""
