"""Run each chain of a network with the reader of its kind (EVM, Solana, Cosmos)."""

from __future__ import annotations

from pathlib import Path

from depinrev.config import Config
from indexers.chunked import ChainReport, IndexReport, ProgressFn
from indexers.cosmos.extract import index_chain as index_cosmos_chain
from indexers.evm.extract import index_chain as index_evm_chain
from indexers.solana.extract import index_chain as index_solana_chain
from warehouse.lake import Lake

READERS = {"evm": index_evm_chain, "solana": index_solana_chain, "cosmos": index_cosmos_chain}


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
        reader = READERS[config.any_chain(chain_name).kind]
        chain_report: ChainReport = reader(
            config,
            network,
            chain_name,
            lake,
            from_block=from_block,
            to_block=to_block,
            overwrite=overwrite,
            progress=progress,
        )
        report.chains.append(chain_report)
    return report
