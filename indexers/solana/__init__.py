"""Solana reader: SPL burns of configured mints, over JSON-RPC, into the token_burns dataset."""

from indexers.solana.burns import Burn, burns_in
from indexers.solana.extract import index_chain

__all__ = ["Burn", "burns_in", "index_chain"]
