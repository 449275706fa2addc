"""EVM reader: eth_getLogs over block ranges into the Parquet lake."""

from indexers.evm.extract import ChainMismatch, IndexReport, index_chain, index_network

__all__ = ["ChainMismatch", "IndexReport", "index_chain", "index_network"]
