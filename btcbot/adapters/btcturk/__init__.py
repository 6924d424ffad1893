"""BTC Turk REST adapter: signing, time sync, rate limiter, retries, error mapping, wire schemas.

Public entry points: :class:`BtcTurkClient` and :func:`build_btcturk_client` (import them from
``btcbot.adapters.btcturk.client``; nothing is built at import time).
"""
