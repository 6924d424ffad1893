"""Observability: structured logging with redaction, metrics, tracing, alerts."""
