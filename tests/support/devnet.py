"""Devnets for tests: real anvil chains on test-only ports, never the demo's 8545/8546."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.paths import REPO

DEVNET_CONFIG = REPO / "config" / "networks.devnet.yaml"
# A small history: every quarter and network is present, replay takes seconds.
TEST_SCALE = 0.1
_PORTS = {"shared": (18545, 18546), "reorg": (19545, 19546), "warehouse": (28545, 28546)}


def devnet_ports(name: str) -> dict[str, str]:
    eth, arb = _PORTS[name]
    return {
        "DEPINREV_RPC_ETHEREUM_DEVNET": f"http://127.0.0.1:{eth}",
        "DEPINREV_RPC_ARBITRUM_DEVNET": f"http://127.0.0.1:{arb}",
    }


@contextmanager
def devnet_for_test(name: str, data_dir: Path, *, scale: float = TEST_SCALE) -> Iterator[Any]:
    """A devnet whose chains' RPC variables point at its own ports while it runs."""
    from depinrev.devnet import running_devnet

    env = devnet_ports(name)
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        # no state cache: a test devnet lives in a fresh directory and is never restored
        with running_devnet(
            DEVNET_CONFIG, data_dir, seed=7, scale=scale, rpc_env=env, use_cache=False
        ) as state:
            yield state
