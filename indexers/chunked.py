"""Lake plumbing shared by every reader: the chunk grid, reports, the writer lock, checkpoints,
the bounded worker pool, and (for the non-EVM readers) row tables and blocks.

The EVM reader decodes whole columns; the Solana and Cosmos readers produce few rows per
chunk (burns, escrow payouts) from parsed JSON, so they build tables from row dicts here and
write them exactly as the EVM reader does: one file per dataset per grid chunk, the blocks
file last, then the checkpoint record. The Substrate reader (~240,000 rows a Bittensor day)
appends its rows to one list per column and makes them into a table at once
(`amount_columns`, `sorted_table`): the same table for ~10x less CPU than row dicts.
"""

from __future__ import annotations

import fcntl
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from chains.base import Header as Header
from chains.transport import ChainMismatch as ChainMismatch
from depinrev.lake import BLOCKS_SCHEMA, DATASETS, Checkpoint, ChunkRecord, Lake, ReorgRecord

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

_D38 = 10**38

ProgressFn = Callable[[str, int, int], None]


@dataclass
class ChainReport:
    chain: str
    chain_id: int
    head: int
    final: int
    range: tuple[int, int] | None
    chunks_indexed: int = 0
    chunks_skipped: int = 0
    written: list[tuple[int, int]] = field(default_factory=list)  # chunks this run wrote
    rows: dict[str, int] = field(default_factory=dict)
    logs: int = 0
    ignored_shape: int = 0
    reorgs: list[ReorgRecord] = field(default_factory=list)
    rpc: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    identity: str | None = None  # the chain identity check's finding, where the kind has one


@dataclass
class IndexReport:
    network: str
    chains: list[ChainReport] = field(default_factory=list)

    @property
    def logs(self) -> int:
        return sum(c.logs for c in self.chains)


# --- the chunk grid -----------------------------------------------------------------------------
def plan_chunks(start: int, end: int, chunk_size: int) -> list[tuple[int, int]]:
    """Cut [start, end] on the grid of multiples of chunk_size."""
    out = []
    s = start
    while s <= end:
        e = min(end, (s // chunk_size + 1) * chunk_size - 1)
        out.append((s, e))
        s = e + 1
    return out


def aligned_range(
    first: int, final: int, chunk_size: int, want_from: int | None, want_to: int | None
) -> tuple[int, int] | None:
    """The block range to index: the request widened to whole grid chunks, inside
    [first source block, final block]. Widening keeps files identical whatever was asked."""
    lo = first if want_from is None else max(first, (want_from // chunk_size) * chunk_size)
    hi = final if want_to is None else min(final, (want_to // chunk_size + 1) * chunk_size - 1)
    return (lo, hi) if lo <= hi else None


@contextmanager
def writer_lock(lake: Lake, network: str, chain_id: int) -> Iterator[None]:
    """One writer per network and chain at a time, across threads and processes.

    Parallel Dagster partitions of the same network may share a chunk; the lock serialises
    them so the checkpoint's read-modify-write never loses a record (the chunk files
    themselves are atomic and identical whoever writes them).
    """
    path = lake.checkpoint_path(network, chain_id).with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            # A writer killed mid-write (SIGKILL, power loss) leaves its temporary files; the
            # lock holder is the only writer, so whatever temporary file is there is dead.
            stale = lake.remove_temp_files(network, chain_id)
            if stale:
                log.warning("%s/%d: removed %d temporary file(s) of an interrupted writer",
                            network, chain_id, len(stale))
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def amount_fields(name: str, value: int | str | None) -> dict[str, Any]:
    """The two lake columns of an exact amount: decimal128(38,0) when it is an integer that
    fits, and always the exact decimal string (a fractional Cosmos DecCoin price keeps its
    fraction in the string and is NULL in the integer column, never rounded)."""
    if value is None:
        return {name: None, f"{name}_str": None}
    text = str(value)
    if isinstance(value, int) or text.lstrip("-").isdigit():
        n = int(text)
        return {name: Decimal(n) if -_D38 < n < _D38 else None, f"{name}_str": str(n)}
    return {name: None, f"{name}_str": text}


def amount_columns(values: list[int | None]) -> tuple[pa.Array, pa.Array]:
    """The two lake columns of exact integer amounts at once, what `amount_fields` gives row
    by row: decimal128(38,0) where the integer fits (else NULL), and its decimal string."""
    fits = [v if v is None or -_D38 < v < _D38 else None for v in values]
    return (pa.array(fits, pa.decimal128(38, 0)),
            pa.array([None if v is None else str(v) for v in values], pa.string()))


def sorted_table(t: pa.Table) -> pa.Table:
    """A lake table in the lake's row order (block number, then log index): as it is when its
    rows already are (checked), else sorted (stable)."""
    if t.num_rows > 1:
        block = t["block_number"].to_numpy()
        log_index = t["log_index"].to_numpy()
        ordered = (block[1:] > block[:-1]) | (
            (block[1:] == block[:-1]) & (log_index[1:] >= log_index[:-1]))
        if not ordered.all():
            order = pc.sort_indices(
                t, sort_keys=[("block_number", "ascending"), ("log_index", "ascending")]
            )
            t = t.take(order)
    return t


def rows_table(dataset: str, rows: list[dict[str, Any]]) -> pa.Table:
    """A lake table from row dicts (missing columns NULL), sorted by block and log index."""
    schema = DATASETS[dataset]
    cols = [pa.array([r.get(f.name) for r in rows], f.type) for f in schema]
    return sorted_table(pa.Table.from_arrays(cols, schema=schema))


def blocks_table(
    network: str, chain_id: int, headers: dict[int, Header], boundaries: set[int]
) -> pa.Table:
    """The blocks table of a chunk from its headers (boundary blocks and blocks with rows)."""
    nums = sorted(headers)
    return blocks_table_of(
        network,
        chain_id,
        pa.array(nums, pa.int64()),
        pa.array([headers[b].hash for b in nums], pa.string()),
        pa.array([headers[b].parent_hash for b in nums], pa.string()),
        pa.array([headers[b].timestamp for b in nums], pa.int64()),
        boundaries,
    )


def blocks_table_of(
    network: str,
    chain_id: int,
    numbers: pa.Array,
    hashes: pa.Array,
    parents: pa.Array,
    timestamps: pa.Array,
    boundaries: set[int],
) -> pa.Table:
    """The blocks table from header columns sorted by block number; a block's role is
    `boundary` (first or last of the chunk) or `log` (it holds rows)."""
    numbers, hashes, parents, timestamps = (
        c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c
        for c in (numbers, hashes, parents, timestamps)
    )
    n = len(numbers)
    is_boundary = pc.is_in(numbers, value_set=pa.array(sorted(boundaries), pa.int64()))
    return pa.Table.from_arrays(
        [
            pa.array([chain_id] * n, pa.int64()),
            pa.array([network] * n, pa.string()),
            numbers.cast(pa.int64()),
            hashes.cast(pa.string()),
            parents.cast(pa.string()),
            timestamps.cast(pa.int64()),
            pc.if_else(is_boundary, "boundary", "log"),
        ],
        schema=BLOCKS_SCHEMA,
    )


def record_chunk(
    report: ChainReport,
    cp: Checkpoint,
    lake: Lake,
    rec: ChunkRecord,
    *,
    network: str,
    chain_name: str,
    total: int,
    progress: ProgressFn | None,
) -> None:
    """A chunk is done: checkpoint it (atomically), count it in the report, tell progress."""
    cp.put(rec)
    lake.save_checkpoint(cp)
    report.chunks_indexed += 1
    report.written.append((rec.start, rec.end))
    for d, n in rec.rows.items():
        report.rows[d] = report.rows.get(d, 0) + n
    if progress is not None:
        progress(f"{network}/{chain_name}", report.chunks_indexed, total)


def chunks_to_do(
    lake: Lake,
    cp: Checkpoint,
    network: str,
    chain_id: int,
    rng: tuple[int, int],
    chunk_size: int,
    datasets: list[str],
    overwrite: bool,
) -> tuple[list[tuple[int, int]], int]:
    """Grid chunks of the range not yet complete in the lake (all files and a checkpoint
    record), and how many were skipped as complete."""
    done = {(c.start, c.end) for c in cp.chunks}
    todo: list[tuple[int, int]] = []
    skipped = 0
    for s, e in plan_chunks(rng[0], rng[1], chunk_size):
        complete = (s, e) in done and all(
            lake.chunk_path(d, network, chain_id, s, e).exists() for d in [*datasets, "blocks"]
        )
        if complete and not overwrite:
            skipped += 1
        else:
            todo.append((s, e))
    return todo, skipped


def run_bounded(
    fn: Callable[[T], R], items: Iterable[T], workers: int, max_in_flight: int | None = None
) -> Iterator[R]:
    """fn over items on a thread pool with at most `max_in_flight` (default 2 x workers)
    submitted at once (bounded memory and bounded load on the provider); results as they
    finish; the first error cancels the rest."""
    limit = max_in_flight or 2 * workers
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reader") as pool:
        in_flight: set[Future[R]] = set()
        for item in items:
            in_flight.add(pool.submit(fn, item))
            if len(in_flight) >= limit:
                done, in_flight = _drain(in_flight)
                yield from done
        while in_flight:
            done, in_flight = _drain(in_flight)
            yield from done


def admissible(in_flight: int, workers: int, budget: int, estimate: int | None) -> bool:
    """Whether one more chunk may start with `in_flight` running: never more than `workers`;
    always when none runs (a chunk larger than the budget runs alone, it never waits forever);
    otherwise only when the size of the chunks just finished is known (until then the first
    chunk runs alone) and one more chunk of that size keeps the in-flight total in budget."""
    if in_flight >= workers:
        return False
    if in_flight == 0:
        return True
    if estimate is None:
        return False
    return (in_flight + 1) * max(1, estimate) <= budget


def run_budgeted(
    fn: Callable[[T], R],
    items: Iterable[T],
    workers: int,
    budget: int,
    cost: Callable[[R], int],
    recent: int = 8,
) -> Iterator[R]:
    """fn over items on a thread pool, bounded by the cost of what is in flight rather than
    its count: a chunk's cost (its rows) is known only when it is done, so the next chunks
    are admitted as if each cost the largest of the last `recent` finished ones
    (`admissible`). Results as they finish; the first error cancels the rest."""
    seen: deque[int] = deque(maxlen=recent)
    todo = iter(items)
    nxt = next(todo, _END)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reader") as pool:
        in_flight: set[Future[R]] = set()
        while True:
            while nxt is not _END and admissible(
                len(in_flight), workers, budget, max(seen) if seen else None
            ):
                in_flight.add(pool.submit(fn, nxt))  # type: ignore[arg-type]
                nxt = next(todo, _END)
            if not in_flight:
                return
            done, in_flight = _drain(in_flight)
            for r in done:
                seen.append(cost(r))
            yield from done


_END = object()


def _drain(in_flight: set[Future[R]]) -> tuple[list[R], set[Future[R]]]:
    done, rest = wait(in_flight, return_when=FIRST_COMPLETED)
    out: list[R] = []
    for f in done:
        try:
            out.append(f.result())
        except BaseException:
            for other in rest:
                other.cancel()
            raise
    return out, set(rest)
