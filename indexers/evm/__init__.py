"""EVM reader: eth_getLogs over block ranges into the Parquet lake.

Index a whole network (any chain kinds) with indexers.dispatch.index_network.
"""

from indexers.chunked import ChainMismatch, IndexReport
from indexers.evm.extract import index_chain

__all__ = ["ChainMismatch", "IndexReport", "index_chain"]
