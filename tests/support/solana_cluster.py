"""A Solana JSON-RPC node stand-in (for JsonRpcServer) answering from recorded responses.

Signature histories are served like a node: newest first, `limit` at most, continued with
`before`. Transactions are served from recorded getTransaction results; a listed signature
without a recorded transaction gets a minimal one in the real shape (no instructions, its
`err`), so a real 1000-signature page can be served without its 1000 transactions. Every
slot has a block unless listed in `skipped`; block hashes are made up unless recorded.
Block times are `1_600_000_000 + slot // 3` unless a `block_time` function is given.
A node without long-term storage is `first_available` > 0: it answers getBlock / getBlockTime
below that slot with -32001 "Block cleaned up" as real nodes do, and lists blocks from there.

The ledger: every produced slot's block holds a vote signature first, then the recorded
signatures of that slot (in block order: the one listed first, the newest, is last), then a
closing vote signature; getBlock with transactionDetails "signatures" lists them.
getSignaturesForAddress takes `before` and `until` as any signature of the ledger, as Agave's
Blockstore::get_confirmed_signatures_for_address2 does: the listing holds the address's
signatures strictly older than `before` and strictly newer than `until` (by slot, then
position in the block), newest first.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable, Container
from typing import Any

from depinrev.config import _B58
from tests.support.jsonrpc_server import RpcFault


def fake_hash(slot: int) -> str:
    n = int.from_bytes(hashlib.sha256(str(slot).encode()).digest(), "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return out


class SolanaCluster:
    def __init__(
        self,
        head: int,
        *,
        genesis: str = "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d",
        decimals: dict[str, int] | None = None,
        block_time: Callable[[int], int] | None = None,
    ) -> None:
        self.head = head
        self.block_time = block_time or (lambda slot: 1_600_000_000 + slot // 3)
        self.genesis = genesis
        self.decimals = decimals or {}
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.txs: dict[str, dict[str, Any]] = {}
        self.blocks: dict[int, dict[str, Any]] = {}
        self.skipped: Container[int] = set()  # any container: a set, or a rule
        self.fetched: list[str] = []
        self.first_available = 0
        self._pos: dict[str, tuple[int, int]] = {}  # signature -> (slot, position in block)
        self._entry: dict[str, dict[str, Any]] = {}  # signature -> its listing entry
        self._slot_sigs: dict[int, list[str]] = {}
        # slots whose block signatures were served: their votes may come back as before/until
        self.vote_lookups: set[int] = set()
        self._sorted: set[str] = set()  # addresses whose history is in listing order
        self._asc_keys: dict[str, list[tuple[int, int]]] = {}  # (-slot, -position) ascending

    @staticmethod
    def vote_signature(slot: int, last: bool = False) -> str:
        """The made-up vote transaction opening (or closing) slot `slot`'s block."""
        return fake_hash(-2 * slot - (2 if last else 1))

    def block_signatures(self, slot: int) -> list[str]:
        recorded = sorted(self._slot_sigs.get(slot, []), key=lambda s: self._pos[s][1])
        return [self.vote_signature(slot), *recorded, self.vote_signature(slot, last=True)]

    def _key(self, sig: str) -> tuple[int, int]:
        """(slot, position) of a ledger signature: a recorded one, or a produced slot's vote."""
        if sig in self._pos:
            return self._pos[sig]
        # a vote signature: find its slot among produced slots (the tests' chains are small
        # enough to search the slots a listing or seek can name)
        for slot in self._vote_slots():
            if sig == self.vote_signature(slot):
                return (slot, -(10**9))
            if sig == self.vote_signature(slot, last=True):
                return (slot, 10**9)
        raise RpcFault(-32602, f"Invalid param: signature {sig} not found in the ledger")

    def _vote_slots(self) -> list[int]:
        return sorted(self.vote_lookups)

    def add(self, address: str, sig: dict[str, Any], tx: dict[str, Any] | None = None) -> None:
        name, slot = sig["signature"], int(sig["slot"])
        if name not in self._pos:
            # the first added of a slot is the newest: the highest position in its block
            self._pos[name] = (slot, -len(self._pos))
            self._slot_sigs.setdefault(slot, []).append(name)
            self._entry[name] = sig
        self.history.setdefault(address, []).append(sig)
        self._sorted.discard(address)
        self._asc_keys.pop(address, None)
        if tx is not None:
            self.txs[sig["signature"]] = tx

    # --- methods ----------------------------------------------------------------------------
    def rpc_getGenesisHash(self) -> str:
        return self.genesis

    def rpc_getSlot(self, opts: dict[str, Any] | None = None) -> int:
        return self.head

    def rpc_getTokenSupply(self, mint: str, opts: dict[str, Any] | None = None) -> Any:
        d = self.decimals[mint]
        return {
            "context": {"slot": self.head},
            "value": {"amount": "1", "decimals": d, "uiAmount": None, "uiAmountString": "0"},
        }

    def _listing(self, address: str) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
        sigs = self.history.get(address, [])
        if address not in self._sorted:
            sigs.sort(key=lambda s: (-s["slot"], -self._pos[s["signature"]][1]))
            self._sorted.add(address)
            self._asc_keys[address] = [
                (-s["slot"], -self._pos[s["signature"]][1]) for s in sigs]
        return sigs, self._asc_keys.get(address, [])

    def rpc_getSignaturesForAddress(self, address: str, opts: dict[str, Any]) -> Any:
        sigs, keys = self._listing(address)  # newest first; keys ascending
        limit = min(int(opts.get("limit", 1000)), 1000)
        lo, hi = 0, len(sigs)
        if opts.get("before"):
            b = self._key(opts["before"])
            lo = bisect.bisect_left(keys, (-b[0], -b[1] + 1))
        if opts.get("until"):
            u = self._key(opts["until"])
            hi = bisect.bisect_left(keys, (-u[0], -u[1]))
        return sigs[lo : min(hi, lo + limit)]

    def rpc_getTransaction(self, sig: str, opts: dict[str, Any]) -> Any:
        assert opts["encoding"] == "jsonParsed"
        assert opts["maxSupportedTransactionVersion"] == 0
        assert opts["commitment"] == "finalized"
        self.fetched.append(sig)
        if sig in self.txs:
            return self.txs[sig]
        s = self._entry.get(sig)
        if s is None:
            return None
        return {
            "slot": s["slot"],
            "blockTime": s["blockTime"],
            "meta": {"err": s["err"], "innerInstructions": [], "logMessages": []},
            "transaction": {
                "message": {"accountKeys": [], "instructions": []},
                "signatures": [sig],
            },
        }

    def _produced(self, lo: int, hi: int) -> list[int]:
        lo = max(lo, self.first_available)
        return [s for s in range(lo, hi + 1) if s not in self.skipped]

    def _cleaned(self, slot: int) -> None:
        if slot < self.first_available:
            raise RpcFault(
                -32001,
                f"Block {slot} cleaned up, does not exist on node. First available block: "
                f"{self.first_available}",
            )

    def rpc_getFirstAvailableBlock(self) -> int:
        return self.first_available

    def rpc_getBlocksWithLimit(self, start: int, limit: int, opts: Any = None) -> list[int]:
        out: list[int] = []
        s = max(start, self.first_available)
        while len(out) < limit and s <= self.head:
            if s not in self.skipped:
                out.append(s)
            s += 1
        return out

    def rpc_getBlocks(self, lo: int, hi: int, opts: Any = None) -> list[int]:
        return self._produced(lo, min(hi, self.head))

    def rpc_getBlockTime(self, slot: int) -> int:
        self._cleaned(slot)
        if slot in self.skipped or slot > self.head:
            raise RpcFault(-32009, f"Slot {slot} was skipped, or missing in long-term storage")
        if slot in self.blocks:
            return int(self.blocks[slot]["blockTime"])
        return self.block_time(slot)

    def rpc_getBlock(self, slot: int, opts: dict[str, Any]) -> Any:
        self._cleaned(slot)
        if slot in self.skipped or slot > self.head:
            raise RpcFault(-32007, f"Slot {slot} was skipped, or missing in long-term storage")
        if opts.get("transactionDetails") == "signatures":
            self.vote_lookups.add(slot)
            block = dict(self.blocks.get(slot) or self._made_block(slot))
            block["signatures"] = self.block_signatures(slot)
            return block
        if slot in self.blocks:
            return self.blocks[slot]
        return self._made_block(slot)

    def _made_block(self, slot: int) -> dict[str, Any]:
        return {
            "blockhash": fake_hash(slot),
            "previousBlockhash": fake_hash(slot - 1),
            "parentSlot": slot - 1,
            "blockTime": self.block_time(slot),
            "blockHeight": slot - 10_000,
        }
