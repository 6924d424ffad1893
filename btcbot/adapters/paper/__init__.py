"""Paper trading: an ExchangeClient with real public market data and locally simulated fills."""

from btcbot.adapters.paper.exchange import PaperExchange, build_paper_exchange
from btcbot.adapters.paper.state import MemoryPaperStateStore, PaperStateStore, SqlPaperStateStore

__all__ = [
    "MemoryPaperStateStore",
    "PaperExchange",
    "PaperStateStore",
    "SqlPaperStateStore",
    "build_paper_exchange",
]
