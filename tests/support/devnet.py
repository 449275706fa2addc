"""Devnets for tests: real anvil chains on free ports chosen per test process, never the
demo's 8545/8546, so several test processes (xdist workers, parallel checkouts) never meet."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.paths import REPO

DEVNET_CONFIG = REPO / "config" / "networks.devnet.yaml"
# A small history: every quarter and network is present, replay takes seconds.
TEST_SCALE = 0.1
_PORTS: dict[str, tuple[int, int]] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def devnet_ports(name: str) -> dict[str, str]:
    """The RPC variables of devnet `name`: two free ports, fixed for this process."""
    if name not in _PORTS:
        _PORTS[name] = (_free_port(), _free_port())
    eth, arb = _PORTS[name]
    return {
        "DEPINREV_RPC_ETHEREUM_DEVNET": f"http://127.0.0.1:{eth}",
        "DEPINREV_RPC_ARBITRUM_DEVNET": f"http://127.0.0.1:{arb}",
    }


@contextmanager
def devnet_for_test(name: str, data_dir: Path, *, scale: float = TEST_SCALE) -> Iterator[Any]:
    """A devnet whose chains' RPC variables point at its own ports while it runs."""
    from devnet import running_devnet

    env = devnet_ports(name)
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        # no state cache: a test devnet lives in a fresh directory and is never restored
        with running_devnet(
            DEVNET_CONFIG, data_dir, seed=7, scale=scale, rpc_env=env, use_cache=False
        ) as state:
            yield state
