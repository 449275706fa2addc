"""Run each chain of a network with the reader of its kind (EVM, Solana, Cosmos, Substrate)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from depinrev.config import Config, CosmosChainConfig, SolanaChainConfig, SubstrateChainConfig
from depinrev.lake import Lake
from indexers.chunked import ChainReport, IndexReport, ProgressFn
from indexers.driver import ChainSession, drive
from indexers.memory import bound_heap_growth

if TYPE_CHECKING:
    from chains.blocktime import BlockClock
    from chains.cosmos import CosmosChain
    from chains.evm import EvmChain
    from chains.solana import SolanaChain
    from chains.substrate import SubstrateChain

# The chain kind's part of the one reader driver (indexers.driver), imported when a chain of
# that kind is indexed: a run over EVM chains loads none of the other readers (their modules
# and SCALE/protobuf tables are ~20 ms of a short run's start-up).
SESSIONS: dict[str, tuple[str, str]] = {
    "evm": ("indexers.evm.extract", "EvmSession"),
    "solana": ("indexers.solana.extract", "SolanaSession"),
    "cosmos": ("indexers.cosmos.extract", "CosmosSession"),
    "substrate": ("indexers.substrate.extract", "SubstrateSession"),
}


def session_class(kind: str) -> type[ChainSession]:
    """The reader of a chain kind (SESSIONS)."""
    module, name = SESSIONS[kind]
    cls: type[ChainSession] = getattr(importlib.import_module(module), name)
    return cls


def index_network(
    config: Config,
    network: str,
    lake_root: str | Path | Lake,
    *,
    from_block: int | None = None,
    to_block: int | None = None,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
) -> IndexReport:
    """Index every source of a network, chain by chain, into the lake at `lake_root`.

    `from_block` / `to_block` are block numbers of each chain's own kind (EVM blocks, Solana
    slots, Cosmos heights): give them only for a network on one chain kind.
    """
    lake = lake_root if isinstance(lake_root, Lake) else Lake(lake_root)
    report = IndexReport(network)
    for chain_name in config.chains_of(network):
        report.chains.append(
            index_chain(
                config,
                network,
                chain_name,
                lake,
                from_block=from_block,
                to_block=to_block,
                overwrite=overwrite,
                progress=progress,
            )
        )
    return report


def index_chain(
    config: Config,
    network: str,
    chain_name: str,
    lake: Lake,
    *,
    from_block: int | None = None,
    to_block: int | None = None,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
) -> ChainReport:
    """Index one chain of a network with the reader of the chain's kind."""
    bound_heap_growth()
    chain = config.any_chain(chain_name)
    session = session_class(chain.kind)
    return drive(
        lambda: session(config, network, chain_name),
        lake,
        network,
        chain_name,
        chain.chain_id,
        from_block=from_block,
        to_block=to_block,
        overwrite=overwrite,
        progress=progress,
    )


@contextmanager
def chain_clock(config: Config, chain_name: str) -> Iterator[tuple[int, BlockClock]]:
    """The chain's last final block (slot, height) and a clock over its block times, for
    turning days and quarters into block ranges; the chain's identity is checked first
    (chains.evm / chains.solana / chains.cosmos / chains.substrate: the same access the
    readers and the audit use)."""
    from chains.cosmos import CosmosChain
    from chains.evm import EvmChain
    from chains.solana import SolanaChain
    from chains.substrate import SubstrateChain

    chain = config.any_chain(chain_name)
    access: EvmChain | SolanaChain | CosmosChain | SubstrateChain
    if isinstance(chain, SolanaChainConfig):
        access = SolanaChain.connect(chain_name, chain)
    elif isinstance(chain, CosmosChainConfig):
        access = CosmosChain.connect(chain_name, chain)
    elif isinstance(chain, SubstrateChainConfig):
        access = SubstrateChain.connect(chain_name, chain)
    else:
        access = EvmChain.connect(chain_name, config.chain(chain_name))
    with access:
        yield access.final(), access.clock()
