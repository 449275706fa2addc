"""Cosmos reader: Tendermint/CometBFT block results into the lake (Akash escrow payouts)."""

from indexers.cosmos.events import BlockEvents, decode_block_results, parse_coins, transfers
from indexers.cosmos.extract import CosmosSession

__all__ = ["BlockEvents", "CosmosSession", "decode_block_results", "parse_coins", "transfers"]
