"""A small devnet on free test ports, shared by the devnet tests of one session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from depinrev.config import default_config_path
from devnet import DevnetState, running_devnet
from tests.support.devnet import devnet_ports

SMALL_SCALE = 0.05
SMALL_SEED = 7
# Free ports per test process (tests/support/devnet.py), so parallel runs never meet.
SMALL_RPC_ENV = devnet_ports("small")


@pytest.fixture(scope="session")
def small_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetState]:
    data_dir = tmp_path_factory.mktemp("small-devnet")
    with running_devnet(
        default_config_path(),
        data_dir,
        seed=SMALL_SEED,
        scale=SMALL_SCALE,
        rpc_env=SMALL_RPC_ENV,
        use_cache=False,
    ) as state:
        yield state
