"""What every chain kind gives back: headers, and the errors of chain content."""

from __future__ import annotations

from dataclasses import dataclass

from chains.transport import ChainAccessError


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
