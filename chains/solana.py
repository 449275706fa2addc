"""A Solana cluster over the one transport, at commitment finalized; block numbers are slots.

Identity (genesis hash), the finalized slot, the lowest slot the node still serves
(getFirstAvailableBlock: nodes without long-term storage drop old slots), produced-slot
boundaries (getBlocksWithLimit / getBlocks), headers (getBlock), and the checked reads the
reader needs (signature pages, transactions). Every answer is checked to be for the question:
a transaction must carry the signature asked (and the slot it was listed at), a block must
come from a slot whose parent is below it, slot lists must lie in the range asked.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from chains.base import BlockHeader, ChainHandle, Header, NoBlock, Pruned
from chains.blocktime import BlockClock
from chains.transport import BadResponse, ChainMismatch, JsonRpcClient, RpcError
from depinrev.config import SolanaChainConfig

FINALIZED = {"commitment": "finalized"}
# Solana leaves slots without a block; the clock reads the next produced one, at most this far.
MAX_SKIPPED_SLOTS = 512
END_PROBE = 1_000  # slots looked back for a range's last produced block, widened as needed
# Solana's answers for a slot without a block (skipped, or not in long-term storage).
NO_BLOCK_CODES = {-32007, -32009, -32004}
_CLEANED = re.compile(r"cleaned up.*first available block:?\s*(\d+)", re.IGNORECASE | re.DOTALL)
HEADER_OPTS = {
    "encoding": "json",
    "transactionDetails": "none",
    "rewards": False,
    "maxSupportedTransactionVersion": 0,
    **FINALIZED,
}


def connect(name: str, config: SolanaChainConfig) -> JsonRpcClient:
    """A client for the cluster, refused (ChainMismatch) if its genesis hash is not the
    configured one (when the configuration gives one)."""
    client = JsonRpcClient(config.rpc_url())
    if config.genesis_hash is None:
        return client
    try:
        got = client.call("getGenesisHash", expect=str)
    except Exception:
        client.close()
        raise
    if got != config.genesis_hash:
        client.close()
        raise ChainMismatch(
            f"chains.{name}: the RPC at {client.host} reports genesis hash {got}, "
            f"but the configuration says {config.genesis_hash}; refusing to index"
        )
    return client


def _int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadResponse(f"{what} is {value!r}, not an integer")
    return value


def head(client: JsonRpcClient) -> int:
    """The newest finalized slot."""
    return _int(client.call("getSlot", [FINALIZED], expect=int), "getSlot")


def first_available(client: JsonRpcClient) -> int:
    """The lowest slot the node still serves (0 for a node with the whole history; a node
    without the method is taken to keep everything)."""
    try:
        return _int(client.call("getFirstAvailableBlock", expect=int), "getFirstAvailableBlock")
    except RpcError as exc:
        if exc.code == -32601:  # method not found
            return 0
        raise


def pruned_error(exc: RpcError, slot: int) -> Pruned | None:
    """A node's 'Block cleaned up ... First available block: N' as Pruned, else None."""
    m = _CLEANED.search(exc.message)
    if m is None and exc.code != -32001:
        return None
    lowest = int(m.group(1)) if m else slot + 1
    return Pruned(
        f"slot {slot} is no longer kept by the node at {exc.host} (pruned history: first "
        f"available slot {lowest}); use a node with long-term storage",
        lowest,
    )


def header(client: JsonRpcClient, slot: int) -> Header | None:
    """Slot `slot`'s block header; None if no block was produced there (skipped); Pruned if
    the node no longer keeps it."""

    def check(raw: Any) -> None:
        if raw is None:
            # Nodes answer a skipped or missing slot with an error (-32007, -32009), never
            # with null: null for a finalized slot is a lagging or lying backend.
            raise BadResponse(f"getBlock {slot}: answer is null")
        for key in ("blockhash", "previousBlockhash"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise BadResponse(f"getBlock {slot}: answer lacks {key}")
        parent = raw.get("parentSlot")
        if not isinstance(parent, int) or (slot > 0 and parent >= slot):
            raise BadResponse(f"getBlock {slot}: answer has parentSlot {parent!r}, not below it")
        t = raw.get("blockTime")
        if t is not None and not isinstance(t, int):
            raise BadResponse(f"getBlock {slot}: blockTime {t!r} is not an integer")

    try:
        raw = client.call(
            "getBlock", [slot, HEADER_OPTS], expect=(dict, type(None)), check=check,
            where=f"slot {slot}",
        )
    except RpcError as exc:
        if exc.code in NO_BLOCK_CODES:
            return None
        pruned = pruned_error(exc, slot)
        if pruned is not None:
            raise pruned from None
        raise
    if raw is None or raw.get("blockTime") is None:
        return None
    return Header(slot, raw["blockhash"], raw["previousBlockhash"], int(raw["blockTime"]))


def _slot_list(result: Any, lo: int, hi: int | None, what: str) -> None:
    if not all(isinstance(s, int) and not isinstance(s, bool) for s in result):
        raise BadResponse(f"{what}: answer holds non-integer slots")
    if any(s < lo or (hi is not None and s > hi) for s in result):
        raise BadResponse(f"{what}: answer holds slots outside the range asked")
    if any(b <= a for a, b in itertools.pairwise(result)):
        raise BadResponse(f"{what}: answer's slots are not ascending")


def produced_bounds(client: JsonRpcClient, start: int, end: int) -> tuple[int, int] | None:
    """First and last produced slots of [start, end]; None if every slot was skipped."""
    first = client.call(
        "getBlocksWithLimit", [start, 1, FINALIZED], expect=list,
        check=lambda r: _slot_list(r, start, None, f"getBlocksWithLimit {start}"),
        where=f"slots {start}-{end}",
    )
    if not first or first[0] > end:
        return None
    span = END_PROBE
    while True:
        lo = max(first[0], end - span + 1)
        produced = client.call(
            "getBlocks", [lo, end, FINALIZED], expect=list,
            check=lambda r, lo=lo: _slot_list(r, lo, end, f"getBlocks {lo}-{end}"),
            where=f"slots {lo}-{end}",
        )
        if produced:
            return first[0], max(produced)
        span *= 2  # a long run of skipped slots: look further back


SIGNATURES_OPTS = {
    "encoding": "json",
    "transactionDetails": "signatures",
    "rewards": False,
    "maxSupportedTransactionVersion": 0,
    **FINALIZED,
}


def block_signatures(client: JsonRpcClient, slot: int) -> list[str] | None:
    """The signatures of slot `slot`'s block in block order (getBlock, transactionDetails
    "signatures"); None if the slot has no block (skipped) or the node no longer keeps it."""

    def check(raw: Any) -> None:
        if not isinstance(raw, dict) or not isinstance(raw.get("signatures"), list) or not all(
            isinstance(s, str) for s in raw["signatures"]
        ):
            raise BadResponse(f"getBlock {slot}: answer lacks its signatures")

    try:
        raw = client.call("getBlock", [slot, SIGNATURES_OPTS], expect=dict, check=check,
                          where=f"slot {slot}")
    except RpcError as exc:
        if exc.code in NO_BLOCK_CODES or pruned_error(exc, slot) is not None:
            return None
        raise
    return list(raw["signatures"])


# Produced blocks tried on each side of a range for a signature to seek with.
SEEK_TRIES = 4


def seek_bounds(client: JsonRpcClient, lo: int, hi: int) -> tuple[str | None, str | None]:
    """(`before`, `until`) signatures that bound getSignaturesForAddress to slots [lo, hi].

    `before` and `until` may be any signature in the ledger (Agave
    Blockstore::get_confirmed_signatures_for_address2 looks up its slot): the first signature
    of the first produced block after `hi` starts a listing at `hi`; the last signature of
    the last produced block before `lo` ends it just below `lo` (the node leaves `until`
    itself out, so a signature inside the range would be lost if it were the address's own).
    None when there is no such block (the range reaches the newest block, starts at the
    node's first available slot, or the blocks around it are gone): the listing then starts
    at the newest signature, or runs until a page ends below `lo`, as before.
    """
    before: str | None = None
    after = client.call(
        "getBlocksWithLimit", [hi + 1, SEEK_TRIES, FINALIZED], expect=list,
        check=lambda r: _slot_list(r, hi + 1, None, f"getBlocksWithLimit {hi + 1}"),
        where=f"slots after {hi}",
    )
    for slot in after:
        sigs = block_signatures(client, slot)
        if sigs:
            before = sigs[0]
            break
    until: str | None = None
    floor = first_available(client)
    if lo > floor:
        start = max(floor, lo - END_PROBE)
        below = client.call(
            "getBlocks", [start, lo - 1, FINALIZED], expect=list,
            check=lambda r: _slot_list(r, start, lo - 1, f"getBlocks {start}-{lo - 1}"),
            where=f"slots {start}-{lo - 1}",
        )
        for slot in list(reversed(below))[:SEEK_TRIES]:
            sigs = block_signatures(client, slot)
            if sigs:
                until = sigs[-1]
                break
    return before, until


def signatures(client: JsonRpcClient, address: str, opts: dict[str, Any]) -> list[dict[str, Any]]:
    """One page of getSignaturesForAddress, each entry checked for its shape."""

    def check(result: Any) -> None:
        for s in result:
            if not isinstance(s, dict) or not isinstance(s.get("signature"), str):
                raise BadResponse("getSignaturesForAddress: an entry lacks its signature")
            _int(s.get("slot"), "getSignaturesForAddress slot")

    return list(
        client.call("getSignaturesForAddress", [address, opts], expect=list, check=check)
    )


TRANSACTION_OPTS = {"encoding": "jsonParsed", "maxSupportedTransactionVersion": 0, **FINALIZED}


def _check_transaction(tx: Any, signature: str, slot: int | None) -> None:
    """The answer carries `signature` (and was at `slot` when given), else BadResponse."""
    sigs = (tx.get("transaction") or {}).get("signatures")
    if not isinstance(sigs, list) or not sigs or sigs[0] != signature:
        got = sigs[0] if isinstance(sigs, list) and sigs else None
        raise BadResponse(f"asked for transaction {signature}, the answer is {got}")
    if slot is not None and tx.get("slot") != slot:
        raise BadResponse(
            f"transaction {signature} was listed at slot {slot}, the answer says "
            f"{tx.get('slot')!r}"
        )


def transaction(client: JsonRpcClient, signature: str, slot: int | None = None) -> dict[str, Any]:
    """The transaction with `signature` (jsonParsed); the answer must carry that signature
    (and be at `slot` when given). Null for a signature the node listed is a fault."""
    return dict(
        client.call(
            "getTransaction", [signature, TRANSACTION_OPTS], expect=dict,
            check=lambda tx: _check_transaction(tx, signature, slot),
            where=f"signature {signature}",
        )
    )


class BatchRefused(RpcError):
    """The provider answered a JSON-RPC batch with one error object: it takes no batches."""


def transactions(client: JsonRpcClient, wanted: list[tuple[str, int | None]]
                 ) -> list[dict[str, Any]]:
    """The transactions of `wanted` (signature, listed slot) in one JSON-RPC batch, in order.

    Every answer is checked as `transaction` checks one: each request id answered exactly
    once, a JSON-RPC 2.0 envelope, an object (null is a fault), carrying the signature asked
    at the slot it was listed at; a fault anywhere retries the whole batch. A node's error
    object for one call is raised as for a single call; a provider refusing batches (one error
    object for the whole batch) raises BatchRefused, and the caller reads one call at a time.
    """
    if len(wanted) == 1:
        return [transaction(client, *wanted[0])]
    first, last = wanted[0][0], wanted[-1][0]
    try:
        got = client.batch(
            "getTransaction", [[sig, TRANSACTION_OPTS] for sig, _ in wanted], expect=dict,
            check=lambda pos, tx: _check_transaction(tx, *wanted[pos]),
            where=f"signatures {first}..{last}",
        )
    except RpcError as exc:
        if exc.method.startswith("batch "):
            raise BatchRefused(exc.method, exc.code, exc.message, exc.data, exc.host) from None
        raise
    return [dict(tx) for tx in got]


def token_decimals(client: JsonRpcClient, mint: str) -> int:
    value = client.call("getTokenSupply", [mint, FINALIZED], expect=dict).get("value")
    if not isinstance(value, dict):
        raise BadResponse("getTokenSupply: answer lacks value")
    return _int(value.get("decimals"), "getTokenSupply decimals")


class SolanaChain(ChainHandle):
    """A Solana cluster as the audit and the partition clock see it; headers are cached."""

    kind = "solana"

    def __init__(self, client: JsonRpcClient, name: str, config: SolanaChainConfig) -> None:
        super().__init__(client, name, config)
        self.client = client
        self._blocks: dict[int, Header | None] = {}
        self._times: dict[int, int] = {}
        self._earliest: int | None = None

    @classmethod
    def connect(cls, name: str, config: SolanaChainConfig) -> SolanaChain:
        return cls(connect(name, config), name, config)





    def head(self) -> int:
        return head(self.client)


    def earliest(self) -> int:
        """The lowest slot the node serves (getFirstAvailableBlock)."""
        if self._earliest is None:
            self._earliest = first_available(self.client)
        return self._earliest

    def _header(self, slot: int) -> Header | None:
        if slot not in self._blocks:
            self._blocks[slot] = header(self.client, slot)
        return self._blocks[slot]

    def block(self, number: int) -> BlockHeader:
        h = self._header(number)
        if h is None:
            raise NoBlock(f"slot {number} has no block (skipped)")
        return BlockHeader(h.number, h.hash, h.timestamp)

    def block_time(self, number: int) -> int:
        """Time of slot `number`'s block, or of the next produced slot's if it was skipped
        (so times never decrease along the slots and the clock's search holds)."""
        if number in self._times:
            return self._times[number]
        for s in range(number, number + MAX_SKIPPED_SLOTS):
            h = self._header(s)
            if h is not None:
                self._times[number] = h.timestamp
                return h.timestamp
        raise NoBlock(f"no produced block in slots {number}..{number + MAX_SKIPPED_SLOTS - 1}")

    def produced_bounds(self, start: int, end: int) -> tuple[int, int] | None:
        return produced_bounds(self.client, start, end)

    def clock(self) -> BlockClock:
        return BlockClock(self.block_time)
