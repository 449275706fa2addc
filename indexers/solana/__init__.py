"""Solana reader: SPL burns of configured mints, over JSON-RPC, into the token_burns dataset."""

from indexers.solana.burns import Burn, burns_in
from indexers.solana.extract import SolanaSession

__all__ = ["Burn", "SolanaSession", "burns_in"]
