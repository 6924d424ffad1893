"""Paper trading: an ExchangeClient with real public market data and locally simulated fills.

Depends on the exchange and persistence contracts only; ``btcbot.app.wiring.build_paper_exchange``
builds it from settings (market data from the BTC Turk client without credentials, state in the
database's ``meta`` table).
"""

from btcbot.adapters.paper.exchange import PaperExchange, paper_fee_schedule
from btcbot.adapters.paper.state import MemoryPaperStateStore, MetaPaperStateStore, PaperStateStore

__all__ = [
    "MemoryPaperStateStore",
    "MetaPaperStateStore",
    "PaperExchange",
    "PaperStateStore",
    "paper_fee_schedule",
]
