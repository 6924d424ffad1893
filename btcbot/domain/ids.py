"""Typed identifiers on the order path (zero-cost at runtime: ``NewType`` over str/int).

- ``ClientOrderId``: our id for an order (BTC Turk ``newOrderClientId``), made by
  ``services/execution/client_order_id.py`` and read back from storage and the exchange.
- ``ExchangeOrderId``: the exchange's numeric order id (``orderId``/``id`` on the wire).
- ``Symbol``: a pair in the request/database form, ``BTCTRY``.

Values are wrapped where they enter the system (id generation, wire parsers, the storage
mapper, config); everything past that point carries the type, so an exchange id cannot be passed
where a client id is expected. A ``ClientOrderId`` is still a ``str`` for reading (logs, SQL).
"""

from __future__ import annotations

from typing import NewType

ClientOrderId = NewType("ClientOrderId", str)
ExchangeOrderId = NewType("ExchangeOrderId", int)
Symbol = NewType("Symbol", str)

__all__ = ["ClientOrderId", "ExchangeOrderId", "Symbol"]
