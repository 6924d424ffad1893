"""Pure core of order execution and reconciliation: values in, values out, no I/O.

- ``client_order_id``: deterministic client order ids and their parser (own vs foreign orders).
- ``order_events``: exchange observations applied to a ManagedOrder through the transition table.
- ``lookup``: resolution of UNKNOWN/SUBMITTING orders against exchange order lists.
- ``reconciliation``: local state vs exchange truth -> a report of typed corrections.

The trading cycle does the I/O (exchange calls, unit of work) and calls these functions.
"""
