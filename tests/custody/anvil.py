"""A real anvil node for the custody tests: one per test session (``bursa.bench.anvil``
starts it on a free port and stops it by pid)."""

import os
from collections.abc import Iterator

import pytest

from bursa.bench.anvil import ANVIL, CHAIN_ID, Anvil, AnvilMissing, free_port, running_anvil

IN_CI = os.environ.get("CI", "").lower() == "true"
__all__ = ["CHAIN_ID", "Anvil", "anvil", "free_port"]


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    try:
        with running_anvil() as node:
            yield node
    except AnvilMissing:
        message = f"anvil is not installed at {ANVIL}: run scripts/install-anvil"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
