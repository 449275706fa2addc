"""A Substrate chain (Bittensor's Subtensor) over plain JSON-RPC on the shared transport.

What the reader and the audit ask a Substrate node, and nothing more: the chain's identity
(its genesis hash, `chain_getBlockHash(0)`), the finalized head (`chain_getFinalizedHead`),
block hashes and headers, the block time from the header's Aura pre-runtime digest (slot x
slot duration), the runtime version at a block (`state_getRuntimeVersion`), the `System.Events`
storage at a block (`state_getStorage`), the block body (`chain_getBlock`) for extrinsic
hashes, and the runtime metadata of a spec version (`Metadata_metadata_at_version(15)` through
`state_call`), cached on disk per genesis hash and spec version so it is fetched once per
runtime upgrade.

Retries, backoff and strict responses are the transport's (chains.transport.JsonRpcClient).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xxhash

from chains.base import BlockHeader, ChainHandle
from chains.blocktime import BlockClock
from chains.transport import ChainAccessError, ChainMismatch, JsonRpcClient, RpcError, redact
from depinrev.config import SubstrateChainConfig

log = logging.getLogger(__name__)

# twox128("System") ++ twox128("Events"): the storage key of the block's event records.
SYSTEM_EVENTS_KEY = "0x26aa394eea5630e07c48ae0c9558cef780d41e5e16056765bc8461851072c9d7"
# The runtime API call for metadata V15 (argument: u32 version, SCALE little-endian).
METADATA_AT_VERSION = "Metadata_metadata_at_version"
METADATA_V15_ARG = "0x0f000000"
# A digest item's kind byte (sp_runtime DigestItem): PreRuntime, and Aura's engine id.
_PRE_RUNTIME = 6
_AURA = b"aura"
# Messages a node gives for state it no longer keeps (pruned, not an archive node).
PRUNED_MARKERS = ("state already discarded", "unknown block", "pruned")


class SubstrateError(RuntimeError):
    """A Substrate node answered in a shape the reader does not accept, or lacks the state."""


class StatePruned(SubstrateError):
    """The node no longer keeps the state (or the block) asked for: an archive node is needed."""


@dataclass(frozen=True)
class SubstrateHeader:
    number: int
    hash: str
    parent_hash: str
    timestamp: int  # Unix seconds, from the Aura slot


def compact_decode(data: bytes, pos: int = 0) -> tuple[int, int]:
    """A SCALE compact integer at `pos`: (value, position after it)."""
    if pos >= len(data):
        raise SubstrateError("compact integer past the end of the data")
    b0 = data[pos]
    mode = b0 & 3
    if mode == 0:
        return b0 >> 2, pos + 1
    if mode == 1:
        return int.from_bytes(data[pos : pos + 2], "little") >> 2, pos + 2
    if mode == 2:
        return int.from_bytes(data[pos : pos + 4], "little") >> 2, pos + 4
    n = (b0 >> 2) + 4
    return int.from_bytes(data[pos + 1 : pos + 1 + n], "little"), pos + 1 + n


def compact_encode(value: int) -> bytes:
    """A SCALE compact integer."""
    if value < 0:
        raise ValueError("compact integers are unsigned")
    if value < 1 << 6:
        return bytes([value << 2])
    if value < 1 << 14:
        return ((value << 2) | 1).to_bytes(2, "little")
    if value < 1 << 30:
        return ((value << 2) | 2).to_bytes(4, "little")
    raw = value.to_bytes((value.bit_length() + 7) // 8, "little")
    return bytes([((len(raw) - 4) << 2) | 3]) + raw


def aura_slot(digest_logs: list[str]) -> int:
    """The Aura slot of a header: its PreRuntime digest item with engine id `aura`."""
    for item in digest_logs:
        raw = bytes.fromhex(item.removeprefix("0x"))
        if len(raw) >= 5 and raw[0] == _PRE_RUNTIME and raw[1:5] == _AURA:
            length, pos = compact_decode(raw, 5)
            if length != 8 or len(raw) < pos + 8:
                raise SubstrateError(f"Aura pre-runtime digest of {length} bytes, not 8")
            return int.from_bytes(raw[pos : pos + 8], "little")
    raise SubstrateError("the header has no Aura pre-runtime digest (no slot, no block time)")


def twox128(data: bytes) -> bytes:
    """Substrate's twox128 storage hasher: xxh64 with seeds 0 and 1, little-endian, joined."""
    return b"".join(xxhash.xxh64_intdigest(data, seed=s).to_bytes(8, "little") for s in (0, 1))


def storage_key(pallet: str, item: str, identity_key: bytes = b"") -> str:
    """The storage key of a plain item, or of a map entry whose hasher is Identity."""
    return "0x" + (twox128(pallet.encode()) + twox128(item.encode()) + identity_key).hex()


def extrinsic_hash(extrinsic_hex: str) -> str:
    """An extrinsic's hash as explorers show it: blake2-256 of its SCALE bytes."""
    raw = bytes.fromhex(extrinsic_hex.removeprefix("0x"))
    return "0x" + hashlib.blake2b(raw, digest_size=32).hexdigest()


def _is_pruned(exc: RpcError) -> bool:
    text = f"{exc.message} {exc.data if isinstance(exc.data, str) else ''}".lower()
    return any(m in text for m in PRUNED_MARKERS)


class SubstrateClient:
    """The JSON-RPC calls of a Substrate node the reader and audit need, with strict answers."""

    def __init__(
        self,
        url: str,
        *,
        slot_seconds: int = 12,
        metadata_cache: Path | None = None,
    ) -> None:
        self.rpc = JsonRpcClient(url)
        self.url = redact(url)  # as shown in messages: a provider's key stays out of them
        self.slot_seconds = slot_seconds
        self.metadata_cache = metadata_cache
        self._metadata: dict[int, bytes] = {}
        self._metadata_lock = threading.Lock()
        self.metadata_fetches = 0
        self._genesis: str | None = None
        # what the identity check found (connect): shown in the run's record
        self.identity: str | None = None

    def close(self) -> None:
        self.rpc.close()

    @contextlib.contextmanager
    def _pruned_as_state_pruned(self, what: str) -> Iterator[None]:
        """A node's "state discarded" error becomes StatePruned naming `what`."""
        try:
            yield
        except RpcError as exc:
            if _is_pruned(exc):
                raise StatePruned(
                    f"{self.url}: {what}: the node no longer keeps it ({exc.message}); "
                    "use an archive node for old blocks"
                ) from exc
            raise

    def _call(self, method: str, params: list[Any], what: str) -> Any:
        with self._pruned_as_state_pruned(what):
            return self.rpc.call(method, params)

    def _batch(self, method: str, params: list[list[Any]], what: str) -> list[Any]:
        """One JSON-RPC batch of calls of one method (results in order)."""
        with self._pruned_as_state_pruned(what):
            return self.rpc.batch(method, params)

    # --- identity and head ---------------------------------------------------------------
    def genesis_hash(self) -> str:
        if self._genesis is None:
            self._genesis = self._hash_or_fail(0)
        return self._genesis

    def finalized_head(self) -> int:
        h = self._call("chain_getFinalizedHead", [], "finalized head")
        if not isinstance(h, str):
            raise SubstrateError(f"chain_getFinalizedHead returned {h!r}, not a hash")
        return self.header(h).number

    # --- blocks --------------------------------------------------------------------------
    def _hash_or_fail(self, number: int) -> str:
        h = self._call("chain_getBlockHash", [number], f"hash of block {number}")
        if not isinstance(h, str) or not h.startswith("0x"):
            raise StatePruned(
                f"{self.url}: block {number} is unknown to the node (chain_getBlockHash gave "
                f"{h!r}): not produced yet, or pruned"
            )
        return h

    def block_hash(self, number: int) -> str:
        return self._hash_or_fail(number)

    def block_hashes(self, numbers: list[int]) -> list[str]:
        """Hashes of several blocks in one batch."""
        got = self._batch("chain_getBlockHash", [[n] for n in numbers],
                          f"hashes of blocks {numbers[0]}-{numbers[-1]}")
        for n, h in zip(numbers, got, strict=True):
            if not isinstance(h, str) or not h.startswith("0x"):
                raise StatePruned(f"{self.url}: block {n} is unknown to the node (hash {h!r})")
        return [str(h) for h in got]

    def events_many(self, hashes: list[str]) -> list[bytes]:
        """System.Events of several blocks in one batch."""
        got = self._batch("state_getStorage", [[SYSTEM_EVENTS_KEY, h] for h in hashes],
                          f"System.Events of {len(hashes)} blocks")
        out = []
        for h, raw in zip(hashes, got, strict=True):
            if raw is None:
                out.append(b"\x00")
            elif isinstance(raw, str) and raw.startswith("0x"):
                out.append(bytes.fromhex(raw[2:]))
            else:
                raise SubstrateError(f"state_getStorage at {h} returned {raw!r}, not hex"[:300])
        return out

    def blocks_many(self, hashes: list[str]) -> list[tuple[SubstrateHeader, list[str]]]:
        """Headers and extrinsics of several blocks in one batch."""
        got = self._batch("chain_getBlock", [[h] for h in hashes], f"{len(hashes)} blocks")
        out = []
        for h, b in zip(hashes, got, strict=True):
            if not isinstance(b, dict) or "block" not in b:
                raise StatePruned(f"{self.url}: no body for block {h}")
            blk = b["block"]
            out.append((self.header_of(h, blk["header"]), [str(x) for x in blk["extrinsics"]]))
        return out

    def header(self, block_hash: str) -> SubstrateHeader:
        h = self._call("chain_getHeader", [block_hash], f"header {block_hash}")
        if not isinstance(h, dict):
            raise StatePruned(f"{self.url}: no header for block {block_hash}")
        return self.header_of(block_hash, h)

    def header_of(self, block_hash: str, h: dict[str, Any]) -> SubstrateHeader:
        try:
            number = int(h["number"], 16)
            logs = list(h["digest"]["logs"])
            parent = str(h["parentHash"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SubstrateError(
                f"header of {block_hash} not in the Substrate shape: {h!r}"[:300]
            ) from exc
        return SubstrateHeader(number, block_hash, parent, aura_slot(logs) * self.slot_seconds)

    def header_at(self, number: int) -> SubstrateHeader:
        return self.header(self.block_hash(number))

    def spec_version(self, block_hash: str) -> int:
        rv = self._call("state_getRuntimeVersion", [block_hash], f"runtime version at {block_hash}")
        try:
            return int(rv["specVersion"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SubstrateError(f"state_getRuntimeVersion returned {rv!r}"[:300]) from exc

    def storage(self, key: str, block_hash: str) -> bytes | None:
        raw = self._call("state_getStorage", [key, block_hash], f"storage {key} at {block_hash}")
        return None if raw is None else bytes.fromhex(str(raw).removeprefix("0x"))

    def recycled_for_registration(self, netuid: int, number: int) -> int:
        """SubtensorModule.RAORecycledForRegistration(netuid) at a block: the subnet's
        cumulative registration burn in rao (u64; unset reads as its default, 0)."""
        key = storage_key("SubtensorModule", "RAORecycledForRegistration",
                          netuid.to_bytes(2, "little"))
        return self._u64(key, self.block_hash(number), bytes(8),
                         f"RAORecycledForRegistration({netuid})")

    def network_min_lock_cost(self, block_hash: str, default: bytes) -> int:
        """SubtensorModule.NetworkMinLockCost (u64 rao; NETWORKS.md's "NetworkMinLock") in the
        state after `block_hash`; unset, it reads as the runtime's default (`default`, the
        storage entry's default bytes in the metadata)."""
        key = storage_key("SubtensorModule", "NetworkMinLockCost")
        return self._u64(key, block_hash, default, f"NetworkMinLockCost at {block_hash}")

    def _u64(self, key: str, block_hash: str, default: bytes, what: str) -> int:
        """A u64 storage value at a block; unset, its `default` bytes."""
        raw = self.storage(key, block_hash)
        if raw is None:
            raw = default
        if len(raw) != 8:
            raise SubstrateError(f"{what} is {len(raw)} bytes, not 8")
        return int.from_bytes(raw, "little")

    # --- metadata ------------------------------------------------------------------------
    def metadata(self, spec_version: int, block_hash: str) -> bytes:
        """Metadata V15 (as Option<OpaqueMetadata>) of a spec version: from memory, from the
        disk cache, or fetched once at a block of that version and cached."""
        with self._metadata_lock:
            if spec_version in self._metadata:
                return self._metadata[spec_version]
            path = self._cache_path(spec_version)
            if path is not None and path.exists():
                data = path.read_bytes()
            else:
                raw = self._call(
                    "state_call", [METADATA_AT_VERSION, METADATA_V15_ARG, block_hash],
                    f"metadata of spec {spec_version}",
                )
                if not isinstance(raw, str) or not raw.startswith("0x01"):
                    raise SubstrateError(
                        f"{self.url}: the runtime of spec {spec_version} has no metadata V15 "
                        f"(Metadata_metadata_at_version(15) returned {str(raw)[:20]!r})"
                    )
                data = bytes.fromhex(raw[2:])
                self.metadata_fetches += 1
                if path is not None:
                    _write_atomic(path, data)
            self._metadata[spec_version] = data
            return data

    def _cache_path(self, spec_version: int) -> Path | None:
        if self.metadata_cache is None:
            return None
        genesis = self.genesis_hash().removeprefix("0x")[:16]
        return self.metadata_cache / genesis / f"spec{spec_version}.metadata-v15.scale"


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def connect(chain_name: str, chain: SubstrateChainConfig) -> SubstrateClient:
    """A client for the chain, refused unless its genesis hash is the configured one."""
    client = SubstrateClient(
        chain.rpc_url(), slot_seconds=chain.slot_seconds, metadata_cache=Path(chain.metadata_cache)
    )
    try:
        got = client.genesis_hash()
    except Exception:
        client.close()
        raise
    if got.lower() != chain.genesis_hash:
        client.close()
        raise ChainMismatch(
            f"chains.{chain_name}: the RPC at {client.url} serves the chain with genesis hash "
            f"{got}, but the configuration says {chain.genesis_hash}; refusing to index"
        )
    if chain.genesis_hash_unconfirmed:
        client.identity = (
            f"chains.{chain_name}: genesis hash {got} (marked unconfirmed in the configuration) "
            f"confirmed by {client.url}; drop genesis_hash_unconfirmed"
        )
        log.warning("%s", client.identity)
    else:
        client.identity = f"chains.{chain_name}: genesis hash {got} as configured"
    return client


class SubstrateChain(ChainHandle):
    """A Substrate chain as the audit and the partition clock see it (the shape of
    chains.cosmos.CosmosChain): block numbers are heights, every height has a block, the head
    is the finalized head (GRANDPA), block times come from the header's Aura slot. Headers are
    cached; a node's malformed answer or pruned state is a ChainAccessError."""

    kind = "substrate"

    def __init__(self, client: SubstrateClient, name: str, config: SubstrateChainConfig) -> None:
        super().__init__(client.rpc, name, config)
        self.client = client
        self._blocks: dict[int, BlockHeader] = {}

    @classmethod
    def connect(cls, name: str, config: SubstrateChainConfig) -> SubstrateChain:
        return cls(connect(name, config), name, config)

    def _guard(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except SubstrateError as exc:
            raise ChainAccessError(f"{self.host}: {exc}") from exc

    def head(self) -> int:
        return int(self._guard(self.client.finalized_head))

    def earliest(self) -> int:
        return 1  # the genesis block has no Aura slot, so no time: the clock starts at 1

    def block(self, number: int) -> BlockHeader:
        cached = self._blocks.get(number)
        if cached is not None:
            return cached
        h = self._guard(self.client.header_at, number)
        header = BlockHeader(h.number, h.hash, h.timestamp)
        self._blocks[number] = header
        return header

    def block_time(self, number: int) -> int:
        return self.block(number).timestamp

    def produced_bounds(self, start: int, end: int) -> tuple[int, int] | None:
        return (start, end)  # every height has a block

    def clock(self) -> BlockClock:
        return BlockClock(self.block_time)

    def recycled_for_registration(self, netuid: int, number: int) -> int:
        return int(self._guard(self.client.recycled_for_registration, netuid, number))
