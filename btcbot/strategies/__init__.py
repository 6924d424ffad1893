"""Built-in strategies (``trend``, ``rebalance``, ``ema_cross``), their shared sizing, the
incremental indicator library (``ta``, ``anchored``) and the loader.

Use :func:`btcbot.strategies.registry.load_strategy` to build the configured strategy.
"""
