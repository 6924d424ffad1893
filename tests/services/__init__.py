"""Tests of btcbot.services."""
