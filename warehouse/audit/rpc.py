"""What the audit reads from a chain: the chain-access layer (chains/) behind two interfaces.

EVM chains (`ChainReader`: head, block, eth_call) are `chains.evm.EvmChain`; Solana, Cosmos and
Substrate chains (`LedgerReader`: head, earliest, block, block_time, produced_bounds) are
`chains.solana.SolanaChain`, `chains.cosmos.CosmosChain` and `chains.substrate.SubstrateChain`
(whose RAORecycledForRegistration counter the audit reads for a subtensor source). They are
the readers' own access (the same transport, retries, strict answers, identity checks).
Tests can hand the audit any other object with the same methods. Neither Solana's nor
Cosmos's standard API reads the sources' state at a past block in a form the lake can be
reconciled with (see
warehouse/audit/run.py and docs/tables.md): for those the audit checks coverage only.

Errors are chains.transport.ChainAccessError (re-exported here as RpcError).
"""

from __future__ import annotations

from typing import Protocol

from chains.base import BlockHeader, NoBlock, Pruned
from chains.blocktime import BlockClock
from chains.cosmos import CosmosChain
from chains.evm import EvmChain
from chains.solana import SolanaChain
from chains.substrate import SubstrateChain
from chains.transport import ChainAccessError as RpcError
from depinrev.config import ChainConfig, CosmosChainConfig, SolanaChainConfig, SubstrateChainConfig

SELECTOR_TOTAL_SUPPLY = "0x18160ddd"
SELECTOR_BALANCE_OF = "0x70a08231"

__all__ = [
    "SELECTOR_BALANCE_OF",
    "SELECTOR_TOTAL_SUPPLY",
    "AnyChainConfig",
    "AnyReader",
    "BlockHeader",
    "ChainReader",
    "LedgerReader",
    "NoBlock",
    "Pruned",
    "RpcError",
    "balance_of",
    "block_clock",
    "default_reader",
    "total_supply",
]


class ChainReader(Protocol):
    def head(self) -> int: ...

    def block(self, number: int) -> BlockHeader: ...

    def call(self, to: str, data: str, block: int) -> bytes: ...


class LedgerReader(Protocol):
    """A Solana, Cosmos or Substrate chain as the audit sees it; block numbers are slots or
    heights."""

    kind: str  # the chain kind: "solana", "cosmos" or "substrate"

    def head(self) -> int:
        """The newest block the chain considers final (finalized slot, latest height)."""
        ...

    def earliest(self) -> int:
        """The lowest block number the node serves (first available slot, earliest height)."""
        ...

    def block(self, number: int) -> BlockHeader:
        """The header at `number`; raises NoBlock when no block was produced there."""
        ...

    def block_time(self, number: int) -> int:
        """Time of block `number`, or of the next produced block if none was produced there
        (so times never decrease along the numbers and the clock's search holds)."""
        ...

    def produced_bounds(self, start: int, end: int) -> tuple[int, int] | None:
        """The first and last produced blocks in [start, end]; None if there is none."""
        ...


AnyChainConfig = ChainConfig | SolanaChainConfig | CosmosChainConfig | SubstrateChainConfig
AnyReader = ChainReader | LedgerReader


def default_reader(chain: AnyChainConfig, name: str = "") -> AnyReader:
    """The chain's access of its kind at its configured RPC URL (identity checked)."""
    label = name or str(chain.chain_id)
    if isinstance(chain, SolanaChainConfig):
        return SolanaChain.connect(label, chain)
    if isinstance(chain, CosmosChainConfig):
        return CosmosChain.connect(label, chain)
    if isinstance(chain, SubstrateChainConfig):
        return SubstrateChain.connect(label, chain)
    return EvmChain.connect(label, chain)


def block_clock(reader: ChainReader) -> BlockClock:
    """The codebase's one BlockClock over `reader` (header reads go through its cache), so the
    audit's quarter boundaries use the same binary search over block times."""
    return BlockClock(lambda n: reader.block(n).timestamp)


def uint_word(data: bytes) -> int:
    """A uint256 return value; an empty result (no contract at that block yet) reads as 0."""
    if not data:
        return 0
    return int.from_bytes(data[:32], "big")


def total_supply(reader: ChainReader, token: str, block: int) -> int:
    return uint_word(reader.call(token, SELECTOR_TOTAL_SUPPLY, block))


def balance_of(reader: ChainReader, token: str, holder: str, block: int) -> int:
    data = SELECTOR_BALANCE_OF + holder.lower().removeprefix("0x").rjust(64, "0")
    return uint_word(reader.call(token, data, block))
