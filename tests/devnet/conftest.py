"""A small devnet on free test ports, shared by the devnet tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from depinrev.config import default_config_path
from devnet import DevnetState, devnet_down, devnet_up
from tests.support.devnet import devnet_ports

SMALL_SCALE = 0.05
SMALL_SEED = 7


@pytest.fixture(scope="session")
def small_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetState]:
    """The chains' RPC variables point at this devnet only while it starts: the tests read its
    URLs from the state, and every other test keeps reading the shared devnet's."""
    data_dir = tmp_path_factory.mktemp("small-devnet")
    # Free ports picked now, just before the nodes bind them (tests/support/devnet.py)
    with pytest.MonkeyPatch.context() as mp:
        for k, v in devnet_ports("small").items():
            mp.setenv(k, v)
        state = devnet_up(
            default_config_path(), data_dir, seed=SMALL_SEED, scale=SMALL_SCALE, use_cache=False
        )
    try:
        yield state
    finally:
        devnet_down(data_dir)
