"""Settings every test runs under."""

import pytest


@pytest.fixture(autouse=True)
def _own_gradebook(monkeypatch):
    """Scratch courses keep their own SQLite gradebook even if a shell sets a shared one."""
    monkeypatch.delenv("BACKPROP_KIT_DB_URL", raising=False)
