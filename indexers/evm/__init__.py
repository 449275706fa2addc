"""EVM reader: eth_getLogs over block ranges into the Parquet lake.

Index a whole network (any chain kinds) with indexers.dispatch.index_network.
"""

from indexers.evm.extract import EvmSession

__all__ = ["EvmSession"]
