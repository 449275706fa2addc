"""Run each chain of a network with the reader of its kind (EVM, Solana, Cosmos, Substrate)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from chains.transport import RpcError
from depinrev.config import Config, CosmosChainConfig, SolanaChainConfig, SubstrateChainConfig
from depinrev.lake import Lake
from indexers.blocktime import BlockClock
from indexers.chunked import ChainReport, IndexReport, ProgressFn
from indexers.cosmos.extract import CosmosSession, header_of
from indexers.cosmos.extract import connect as connect_cosmos
from indexers.driver import ChainSession, drive
from indexers.evm.extract import EvmSession
from indexers.evm.extract import connect as connect_evm
from indexers.memory import bound_heap_growth
from indexers.solana.extract import FINALIZED, SolanaSession
from indexers.solana.extract import connect as connect_solana
from indexers.substrate.extract import SubstrateSession
from indexers.substrate.extract import connect as connect_substrate

# Solana leaves slots without a block; the clock reads the next produced one, at most this far.
MAX_SKIPPED_SLOTS = 512

# The chain kind's part of the one reader driver (indexers.driver).
SESSIONS: dict[str, Callable[[Config, str, str], ChainSession]] = {
    "evm": EvmSession,
    "solana": SolanaSession,
    "cosmos": CosmosSession,
    "substrate": SubstrateSession,
}


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
    session = SESSIONS[chain.kind]
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
    turning days and quarters into block ranges; the chain's identity is checked first."""
    chain = config.any_chain(chain_name)
    if isinstance(chain, SolanaChainConfig):
        sol = connect_solana(chain_name, chain)
        try:
            final = int(sol.call("getSlot", [FINALIZED])) - chain.finality_depth

            def slot_time(slot: int) -> int:
                for s in range(slot, slot + MAX_SKIPPED_SLOTS):
                    try:
                        t = sol.call("getBlockTime", [s])
                    except RpcError:  # skipped or not available: the next produced slot
                        continue
                    if t is not None:
                        return int(t)
                raise LookupError(f"no block time for slots {slot}..{slot + MAX_SKIPPED_SLOTS}")

            yield final, BlockClock(slot_time)
        finally:
            sol.close()
    elif isinstance(chain, CosmosChainConfig):
        rpc, status = connect_cosmos(chain_name, chain)
        try:
            head = int(status["sync_info"]["latest_block_height"])
            yield (
                head - chain.finality_depth,
                BlockClock(lambda h: header_of(rpc.block(h)).timestamp),
            )
        finally:
            rpc.close()
    elif isinstance(chain, SubstrateChainConfig):
        sub = connect_substrate(chain_name, chain)
        try:
            yield (
                sub.finalized_head() - chain.finality_depth,
                BlockClock(lambda n: sub.header_at(n).timestamp),
            )
        finally:
            sub.close()
    else:
        evm = connect_evm(chain_name, config.chain(chain_name))
        try:
            final = int(evm.call("eth_blockNumber"), 16) - chain.finality_depth

            def evm_time(n: int) -> int:
                block = evm.call("eth_getBlockByNumber", [hex(n), False])
                if block is None:
                    raise LookupError(f"block {n} is unknown to the node")
                return int(block["timestamp"], 16)

            yield final, BlockClock(evm_time)
        finally:
            evm.close()
