"""Shared test fixtures: paths to the repository and to ../shared data."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DEV_SET = SHARED / "data" / "speech_commands_test_dev"
PEERS = SHARED / "peers"


@pytest.fixture(scope="session")
def dev_set() -> Path:
    if not DEV_SET.is_dir():
        pytest.skip("../shared/data/speech_commands_test_dev is not beside this checkout")
    return DEV_SET


@pytest.fixture(scope="session")
def peers() -> Path:
    if not PEERS.is_dir():
        pytest.skip("../shared/peers is not beside this checkout")
    return PEERS
