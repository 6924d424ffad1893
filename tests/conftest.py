"""Shared fixtures. No test inherits BTCBOT_ settings from the developer's shell (only the
test-database URL is kept); ``tmp_cwd`` runs a test in its own working directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# scripts/mutation_test.py runs the tests once per mutant: fewer examples per property there.
settings.register_profile("mutation", max_examples=25, deadline=None)
if os.environ.get("BTCBOT_HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["BTCBOT_HYPOTHESIS_PROFILE"])

KEEP = {"BTCBOT_TEST_POSTGRES_URL"}


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("BTCBOT_") and name not in KEEP:
            monkeypatch.delenv(name)
    yield


@pytest.fixture
def tmp_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("BTCBOT_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("BTCBOT_TEST_POSTGRES_URL unset: PostgreSQL tests skipped (CI sets it)")
    return url
