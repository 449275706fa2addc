"""Devnets for tests: real anvil chains on free ports chosen per test process, never the
demo's 8545/8546, so several test processes (xdist workers, parallel checkouts) never meet."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

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
    """The RPC variables of devnet `name`: two free ports, fixed for this process from the
    first call. Call it right before the devnet starts, never at import: a port picked at
    collection is released at once, and in the minutes before its devnet binds it, another
    test process (an xdist worker with its own devnets of the same chain ids) can be given it."""
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


# Smaller chunks than the demo config (250): a quarter spans several chunk files (a dropped
# file hits one quarter) and Dagster's days map to different files.
SMALL_CHUNK_SIZE = 64


def small_chunk_config(path: Path) -> Path:
    """The devnet configuration with SMALL_CHUNK_SIZE on every chain, written to `path`."""
    doc = yaml.safe_load(DEVNET_CONFIG.read_text())
    for chain in doc["chains"].values():
        chain["chunk_size"] = SMALL_CHUNK_SIZE
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@dataclass
class BuiltDevnet:
    """A running devnet indexed (every network, small chunks) and built, the simulator's
    reported figures included: read by several modules, copied by any test that changes it."""

    state: Any  # devnet.DevnetState
    config_path: Path
    lake: Path
    db: Path
    result: Any  # warehouse.build.BuildResult


def index_and_build(state: Any, root: Path) -> BuiltDevnet:
    from depinrev.config import load_config
    from indexers.dispatch import index_network
    from warehouse.build import build_warehouse

    config_path = small_chunk_config(root / "networks.devnet.yaml")
    config = load_config(config_path)
    lake, db = root / "lake", root / "wh.duckdb"
    for name in sorted(config.networks):
        index_network(config, name, lake)
    # the simulator's reported figures for its stand-ins (devnet/reported.py)
    reported = Path(state.data_dir) / "reported_figures.csv"
    result = build_warehouse(config_path, lake, db, reported_csv=[reported])
    return BuiltDevnet(state, config_path, lake, db, result)
