"""Alembic migration environment shipped inside the package (found without any CWD assumption)."""
