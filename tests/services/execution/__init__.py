"""Tests of the pure execution core."""
