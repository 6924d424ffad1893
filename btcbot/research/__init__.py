"""Strategy research: walk-forward parameter search (``btcbot optimize``).

params     tunable parameter declarations, parsing, grid/random candidates, strategy building
windows    rolling walk-forward windows (train span, then the unseen test span after it)
tasks      plain picklable work units (one backtest of one candidate on one span) and their runner
executors  the one executor seam: a local process pool (default) or a Dask distributed cluster
search     the orchestration and the result: out-of-sample performance and parameter stability
"""
