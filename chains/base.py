"""What every chain kind gives back: headers, and the errors of chain content."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Self

from chains.blocktime import final_block
from chains.transport import ChainAccessError


class _Connection(Protocol):
    @property
    def host(self) -> str: ...

    def close(self) -> None: ...


class _Finality(Protocol):
    @property
    def finality_depth(self) -> int: ...


class ChainHandle:
    """What every chain kind's handle (EvmChain, SolanaChain, CosmosChain) shares: its
    connection (redacted host, closing, a context manager) and the final block below a head.
    A kind supplies `head()` and its reads."""

    kind: str

    def __init__(self, connection: _Connection, name: str, config: _Finality) -> None:
        self.connection = connection
        self.name = name
        self.config = config

    @property
    def host(self) -> str:
        return self.connection.host

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def head(self) -> int:
        raise NotImplementedError

    def final(self, head: int | None = None) -> int:
        """The newest final block: below `head` (read from the node when not given)."""
        return final_block(self.head() if head is None else head, self.config.finality_depth)


@dataclass(frozen=True)
class Header:
    """A block (height or slot) as the blocks dataset keeps it."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int


@dataclass(frozen=True)
class BlockHeader:
    """A block as the audit compares it: number, hash, time."""

    number: int
    hash: str
    timestamp: int


class NoBlock(ChainAccessError):
    """No block at that number: a skipped Solana slot (the number exists, the block does not)."""


class Pruned(ChainAccessError):
    """The node no longer keeps that block (pruned history): ask an archive node."""

    def __init__(self, message: str, lowest: int) -> None:
        super().__init__(message)
        self.lowest = lowest
