"""One small chain per kind behind the fault proxy, and the harness the fault tests share.

EVM: a dedicated anvil chain (tests/support/anvil_chain.py: 240 mints and burns over 600
blocks, chunks of 100). Solana and Cosmos: the constructed cluster and Akash node of
tests/warehouse/test_non_evm.py on the JSON-RPC replay server (Solana: 5 chunks of 100,000
slots with skipped boundary slots and six burns; Cosmos: heights 1-99 in chunks of 50, escrow
payouts at height 60).

A run indexes one network into a fresh lake through a FaultProxy and reports either the
lake's file hashes or the exception; the fault-free run of the same world is the oracle.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from depinrev.config import Config, load_config
from indexers.dispatch import index_network
from tests.support.anvil_chain import config_yaml, small_chain
from tests.support.fault_proxy import FaultProxy
from tests.support.jsonrpc_server import JsonRpcServer

EVM_ENV = "DEPINREV_TEST_FAULT_EVM"
# Client settings for fault runs: a stall is past the timeout; backoff kept short.
TIMEOUT = 0.25
STALL = 0.6


@dataclass
class World:
    kind: str
    upstream: str
    env: str
    config: Config
    network: str
    index_kwargs: dict[str, Any]
    # a clean partial run for the "nothing half-written" checks, then the full run
    partial_to: int
    # methods whose failure leaves connect() working (the run fails inside the chunks)
    chunk_methods: set[str]
    # the method each request-specific class targets
    targets: dict[str, set[str]] = field(default_factory=dict)
    baseline: dict[str, str] = field(default_factory=dict)


def lake_files(root: Path) -> dict[str, str]:
    """Every file of a lake (data, blocks, checkpoints) by path, as SHA-256."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


@contextmanager
def client_env(retries: int) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEPINREV_RPC_TIMEOUT", str(TIMEOUT))
        mp.setenv("DEPINREV_RPC_BACKOFF", "0.005")
        mp.setenv("DEPINREV_RPC_RETRIES", str(retries))
        yield


def index_via(world: World, url: str, lake: Path, **kwargs: Any) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(world.env, url)
        index_network(world.config, world.network, lake, **{**world.index_kwargs, **kwargs})


@dataclass
class Outcome:
    files: dict[str, str] | None
    error: BaseException | None
    seconds: float
    injected: dict[str, int]
    requests: int


def run_with_faults(
    world: World,
    lake: Path,
    *,
    seed: int,
    rate: float,
    classes: list[str],
    methods: set[str] | None = None,
    retries: int = 6,
) -> Outcome:
    """Index the world's network through a fault proxy into `lake` (which may hold a partial
    lake already); the lake's files afterwards or the exception."""
    with client_env(retries), FaultProxy(
        world.upstream, seed=seed, rate=rate, classes=classes, stall_seconds=STALL,
        methods=methods,
    ) as proxy:
        t0 = time.perf_counter()
        try:
            index_via(world, proxy.url, lake)
            error = None
        except Exception as exc:
            error = exc
        seconds = time.perf_counter() - t0
    files = lake_files(lake) if lake.exists() else {}
    return Outcome(files, error, seconds, dict(proxy.stats), proxy.requests)


# --- the worlds ---------------------------------------------------------------------------
@contextmanager
def evm_world(tmp: Path) -> Iterator[World]:
    with small_chain(tmp / "anvil") as chain:
        path = tmp / "evm.yaml"
        path.write_text(config_yaml(chain.token, EVM_ENV))
        world = World(
            "evm", chain.url, EVM_ENV, load_config(path), "fault-net", {}, 299,
            {"eth_getLogs", "eth_getBlockByNumber"},
            {"crossed": {"eth_getLogs"}, "range_error": {"eth_getLogs"},
             "batch_missing": {"eth_getBlockByNumber"},
             "batch_reordered": {"eth_getBlockByNumber"}},
        )
        _baseline(world, tmp)
        yield world


@contextmanager
def solana_world(tmp: Path) -> Iterator[World]:
    from tests.warehouse.test_non_evm import SOLANA_ENV, make_cluster, write_config

    with JsonRpcServer(make_cluster()) as server:
        world = World(
            "solana", server.url, SOLANA_ENV, load_config(write_config(tmp / "sol.yaml")),
            "render", {}, 199_999, {"getTransaction", "getBlock"},
            {"crossed": {"getTransaction"}},
        )
        _baseline(world, tmp)
        yield world


@contextmanager
def cosmos_world(tmp: Path) -> Iterator[World]:
    from tests.warehouse.test_non_evm import COSMOS_ENV, make_node, write_config

    with JsonRpcServer(make_node()) as server:
        world = World(
            "cosmos", server.url, COSMOS_ENV, load_config(write_config(tmp / "cos.yaml")),
            "akash", {"to_block": 99}, 49, {"block", "block_results"},
            {"crossed": {"block", "block_results"}},
        )
        _baseline(world, tmp)
        yield world


def _baseline(world: World, tmp: Path) -> None:
    lake = tmp / f"baseline-{world.kind}"
    index_via(world, world.upstream, lake)
    world.baseline = lake_files(lake)
    assert world.baseline, "the fault-free run wrote nothing"


def partial_lake(world: World, tmp: Path, name: str) -> Path:
    """A lake holding the world's clean first chunks (up to `partial_to`)."""
    src = tmp / f"partial-{world.kind}"
    if not src.exists():
        index_via(world, world.upstream, src, to_block=world.partial_to)
    dst = tmp / name
    shutil.copytree(src, dst)
    return dst


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text, text
    return text


