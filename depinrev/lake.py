"""The Parquet lake: dataset schemas, the Hive-style layout, atomic writes and checkpoints.

Layout (one file per dataset per indexed chunk of blocks)::

    <lake>/<dataset>/network=<network>/chain_id=<id>/<network>__<dataset>__<start>_<end>.parquet
    <lake>/_checkpoints/network=<network>/chain_id=<id>.json

Block numbers in file names are zero-padded to 12 digits so names sort by block. A file is
written under a temporary name and renamed, so a crash never leaves half a file; the same rows
always give the same bytes (fixed writer settings, rows sorted by block and log index).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

AMOUNT = pa.decimal128(38, 0)

_COMMON: list[pa.Field] = [
    pa.field("chain_id", pa.int64(), nullable=False),
    pa.field("network", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("token", pa.string(), nullable=False),
    pa.field("address", pa.string(), nullable=False),
    pa.field("event", pa.string(), nullable=False),
    pa.field("block_number", pa.int64(), nullable=False),
    pa.field("block_hash", pa.string(), nullable=False),
    pa.field("block_timestamp", pa.int64(), nullable=False),
    pa.field("transaction_hash", pa.string(), nullable=False),
    pa.field("transaction_index", pa.int32(), nullable=False),
    pa.field("log_index", pa.int32(), nullable=False),
]


def _amount(name: str) -> list[pa.Field]:
    """An exact uint256/int256: decimal128(38,0) where it fits, and always the decimal string."""
    return [pa.field(name, AMOUNT), pa.field(f"{name}_str", pa.string())]


_TRANSFER = [
    pa.field("from_address", pa.string()),
    pa.field("to_address", pa.string()),
    *_amount("amount"),
]

DATASETS: dict[str, pa.Schema] = {
    "token_burns": pa.schema(_COMMON + _TRANSFER),
    "token_mints": pa.schema(_COMMON + _TRANSFER),
    "token_transfers": pa.schema(_COMMON + _TRANSFER),
    "service_fees": pa.schema(
        [
            *_COMMON,
            pa.field("developer", pa.string()),
            pa.field("nonce", pa.uint64()),
            *_amount("amount"),
        ]
    ),
    "lease_payments": pa.schema(
        [
            *_COMMON,
            pa.field("lease_id", pa.uint64()),
            pa.field("tenant", pa.string()),
            pa.field("provider", pa.string()),
            *_amount("price_per_block"),
            *_amount("amount"),
            *_amount("take_amount"),
        ]
    ),
    "token_prices": pa.schema(
        [*_COMMON, *_amount("answer"), *_amount("round_id"), pa.field("updated_at", pa.int64())]
    ),
    # Akash: who funded which escrow account (owner; the account id, deployment/<owner>/<dseq>,
    # where the message's events name it), so a later range can tell a refund to a depositor
    # from a payment without re-reading history (docs/readers.md).
    "escrow_deposits": pa.schema(
        [
            *_COMMON,
            pa.field("owner", pa.string()),
            pa.field("escrow_account", pa.string()),
            pa.field("depositor", pa.string()),
            *_amount("amount"),
        ]
    ),
    "bme_flows": pa.schema(_COMMON + _TRANSFER),
    # Substrate (Bittensor): log_index is the event's index in System.Events, transaction_index
    # the extrinsic's (-1 for block-level events, whose transaction_hash is the phase).
    "tao_events": pa.schema(
        [
            *_COMMON,
            pa.field("extrinsic_index", pa.int32()),
            pa.field("event_index", pa.int32(), nullable=False),
            pa.field("spec_version", pa.int32(), nullable=False),
            pa.field("pallet", pa.string(), nullable=False),
            pa.field("event_name", pa.string(), nullable=False),
            pa.field("netuid", pa.int32()),
            pa.field("account", pa.string()),
            *_amount("amount"),
            *_amount("tip"),
            # a network_lock's NetworkMinLock in force (at the parent block), at most the lock
            *_amount("min_lock"),
        ]
    ),
}

BLOCKS_SCHEMA = pa.schema(
    [
        pa.field("chain_id", pa.int64(), nullable=False),
        pa.field("network", pa.string(), nullable=False),
        pa.field("block_number", pa.int64(), nullable=False),
        pa.field("block_hash", pa.string(), nullable=False),
        pa.field("parent_hash", pa.string(), nullable=False),
        pa.field("block_timestamp", pa.int64(), nullable=False),
        # why the header is here: chunk boundary ("start"/"end") or a block holding logs ("log")
        pa.field("role", pa.string(), nullable=False),
    ]
)

ALL_SCHEMAS: dict[str, pa.Schema] = {**DATASETS, "blocks": BLOCKS_SCHEMA}

_FILE_RE = re.compile(
    r"^(?P<network>[a-z0-9_-]+)__(?P<dataset>[a-z_]+)__(?P<start>\d{12})_(?P<end>\d{12})\.parquet$"
)

# Fixed writer settings: part of what makes a re-run byte-identical. zstd level 1 writes in
# about half the CPU time of level 3 for files within a few percent of the size (measured on
# a 23k-row transfer chunk: 28 ms and 2.36 MB against 52 ms and 2.52 MB), and the indexer
# shares the machine's cores with the node it reads. Row groups of 128k rows: a dense chunk
# still gives DuckDB several to read in parallel, a sparse one a single small group.
_WRITE_OPTS = {
    "compression": "zstd",
    "compression_level": 1,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
    "row_group_size": 1 << 17,
}


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    """Columns worth dictionary-encoding: everything but values unique per row (transaction
    and parent hashes, exact decimal strings, a blocks file's hashes), where the encoder would
    build a dictionary only to fall back to plain."""
    unique_per_row = {"transaction_hash", "parent_hash"}
    if "parent_hash" in schema.names:  # the blocks dataset: one row per block
        unique_per_row.add("block_hash")
    return [n for n in schema.names if n not in unique_per_row and not n.endswith("_str")]


_DICTIONARY_COLUMNS = {name: _dictionary_columns(s) for name, s in ALL_SCHEMAS.items()}


class LakeError(RuntimeError):
    """The lake on disk is not in the shape the indexer wrote."""


@dataclass(frozen=True)
class ChunkFile:
    dataset: str
    network: str
    chain_id: int
    start: int
    end: int
    path: Path


@dataclass(frozen=True)
class RangeFile:
    """A chunk file seen from a block range: its rows inside the range, its SHA-256."""

    chunk: ChunkFile
    rows_in_range: int
    sha256: str


class Lake:
    """A lake rooted at a local path."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    # --- paths ------------------------------------------------------------------------------
    def partition_dir(self, dataset: str, network: str, chain_id: int) -> Path:
        if dataset not in ALL_SCHEMAS:
            raise LakeError(f"unknown dataset {dataset!r}; known: {sorted(ALL_SCHEMAS)}")
        return self.root / dataset / f"network={network}" / f"chain_id={chain_id}"

    def chunk_path(self, dataset: str, network: str, chain_id: int, start: int, end: int) -> Path:
        name = f"{network}__{dataset}__{start:012d}_{end:012d}.parquet"
        return self.partition_dir(dataset, network, chain_id) / name

    def checkpoint_path(self, network: str, chain_id: int) -> Path:
        return self.root / "_checkpoints" / f"network={network}" / f"chain_id={chain_id}.json"

    # --- files ------------------------------------------------------------------------------
    def chunk_files(
        self, dataset: str, network: str | None = None, chain_id: int | None = None
    ) -> list[ChunkFile]:
        """Every chunk file of a dataset, sorted by network, chain and block."""
        base = self.root / dataset
        if not base.is_dir():
            return []
        # Only the asked-for directories are listed: a write checks its own directory for
        # overlaps, and must not list the whole lake to do so.
        pattern = (
            f"network={'*' if network is None else network}/"
            f"chain_id={'*' if chain_id is None else chain_id}/*.parquet"
        )
        out: list[ChunkFile] = []
        for path in base.glob(pattern):
            m = _FILE_RE.match(path.name)
            if m is None:
                continue
            cid = int(path.parent.name.removeprefix("chain_id="))
            net = path.parent.parent.name.removeprefix("network=")
            if (network is not None and net != network) or (
                chain_id is not None and cid != chain_id
            ):
                continue
            out.append(ChunkFile(dataset, net, cid, int(m["start"]), int(m["end"]), path))
        return sorted(out, key=lambda c: (c.network, c.chain_id, c.start, c.end))

    def write_chunk(
        self, dataset: str, network: str, chain_id: int, start: int, end: int, table: pa.Table
    ) -> Path:
        """Write one chunk atomically, replacing any older file that overlaps its range."""
        schema = ALL_SCHEMAS[dataset]
        if not table.schema.equals(schema):
            raise LakeError(
                f"{dataset}: table schema does not match the lake schema:\n{table.schema}\n"
                f"expected:\n{schema}"
            )
        path = self.chunk_path(dataset, network, chain_id, start, end)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        pq.write_table(table, tmp, use_dictionary=_DICTIONARY_COLUMNS[dataset], **_WRITE_OPTS)
        _fsync(tmp)
        os.replace(tmp, path)
        # A partial tail chunk, or a chunk from before a start-block change, is superseded.
        for old in self.chunk_files(dataset, network, chain_id):
            if old.path != path and old.start <= end and start <= old.end:
                old.path.unlink()
        return path

    def remove_temp_files(self, network: str, chain_id: int) -> list[Path]:
        """Delete the temporary files (`.<name>.tmp-<pid>`) of a network's chain: the half-written
        chunks and checkpoints of a writer that was killed before its rename.

        Only the holder of the network-chain's writer lock may call this (every writer of those
        files holds it), so no temporary file deleted here can still be in use."""
        removed: list[Path] = []
        for dataset in ALL_SCHEMAS:
            part = self.partition_dir(dataset, network, chain_id)
            if part.is_dir():
                removed += part.glob(f".{network}__{dataset}__*.parquet.tmp-*")
        cp = self.checkpoint_path(network, chain_id)
        if cp.parent.is_dir():
            removed += cp.parent.glob(f".{cp.name}.tmp-*")
        for path in removed:
            path.unlink(missing_ok=True)
        return removed

    def delete_from(self, network: str, chain_id: int, block: int) -> list[Path]:
        """Delete every chunk file of a network's chain starting at or after `block`
        (used when a reorg invalidates them; they are re-indexed right after)."""
        removed = []
        for dataset in ALL_SCHEMAS:
            for c in self.chunk_files(dataset, network, chain_id):
                if c.start >= block:
                    c.path.unlink()
                    removed.append(c.path)
        return removed

    def files_in_range(
        self, dataset: str, network: str, chain_id: int, lo: int, hi: int
    ) -> list[RangeFile]:
        """The chunk files holding blocks of [lo, hi], each with its rows inside the range
        and its SHA-256 (what a partition's materialization reports)."""
        out: list[RangeFile] = []
        for c in self.chunk_files(dataset, network, chain_id):
            if c.end < lo or c.start > hi:
                continue
            blocks = pq.read_table(c.path, columns=["block_number"])["block_number"]
            inside = pc.and_(pc.greater_equal(blocks, lo), pc.less_equal(blocks, hi))
            out.append(RangeFile(c, int(pc.sum(inside).as_py() or 0), file_sha256(c.path)))
        return out

    # --- checkpoints ------------------------------------------------------------------------
    def load_checkpoint(self, network: str, chain_id: int) -> Checkpoint:
        path = self.checkpoint_path(network, chain_id)
        if not path.exists():
            return Checkpoint(network=network, chain_id=chain_id)
        try:
            raw = json.loads(path.read_text())
            chunks = [ChunkRecord(**c) for c in raw["chunks"]]
            reorgs = [ReorgRecord(**r) for r in raw.get("reorgs", [])]
        except (ValueError, KeyError, TypeError) as exc:
            raise LakeError(
                f"{path}: unreadable checkpoint ({exc}); delete it to re-index"
            ) from exc
        if raw.get("network") != network or raw.get("chain_id") != chain_id:
            raise LakeError(f"{path}: checkpoint is for another network or chain")
        return Checkpoint(network=network, chain_id=chain_id, chunks=chunks, reorgs=reorgs)

    def save_checkpoint(self, cp: Checkpoint) -> None:
        path = self.checkpoint_path(cp.network, cp.chain_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(cp.to_json(), indent=1, sort_keys=True) + "\n")
        _fsync(tmp)
        os.replace(tmp, path)


@dataclass(frozen=True)
class ChunkRecord:
    """An indexed chunk and the hashes of its boundary blocks (for reorg detection)."""

    start: int
    end: int
    start_hash: str
    end_hash: str
    rows: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ReorgRecord:
    """A stored block hash that no longer matched the chain; the chunk was re-indexed."""

    block_number: int
    stored_hash: str
    chain_hash: str
    reindexed_from: int
    detected_at_head: int


@dataclass
class Checkpoint:
    network: str
    chain_id: int
    chunks: list[ChunkRecord] = field(default_factory=list)
    reorgs: list[ReorgRecord] = field(default_factory=list)

    def put(self, rec: ChunkRecord) -> None:
        """Record a chunk, dropping older records it overlaps (e.g. a superseded tail)."""
        self.chunks = [c for c in self.chunks if c.end < rec.start or c.start > rec.end]
        self.chunks.append(rec)
        self.chunks.sort(key=lambda c: c.start)

    def drop_from(self, block: int) -> None:
        self.chunks = [c for c in self.chunks if c.end < block]

    def covered(self) -> Iterator[tuple[int, int]]:
        """Maximal contiguous block ranges covered by recorded chunks."""
        cur: tuple[int, int] | None = None
        for c in self.chunks:
            if cur is not None and c.start == cur[1] + 1:
                cur = (cur[0], c.end)
            else:
                if cur is not None:
                    yield cur
                cur = (c.start, c.end)
        if cur is not None:
            yield cur

    def to_json(self) -> dict[str, object]:
        return {
            "version": 1,
            "network": self.network,
            "chain_id": self.chain_id,
            "chunks": [asdict(c) for c in self.chunks],
            "reorgs": [asdict(r) for r in self.reorgs],
        }


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
