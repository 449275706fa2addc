"""Reconciliation by a second endpoint: every chunk's rows read again from another RPC.

An event-only contract (one that records fees but holds no tokens) has no chain state whose
change the lake's events must explain, so a provider that answered eth_getLogs with nothing (or
with a stale fork) cannot be caught by a balance. Instead the audit fetches each chunk of the
quarter again, for that source only, from a second RPC named by an environment variable, decodes
it with the indexer's own reader (indexers.evm.extract.read_chunk_tables, nothing written) and
compares a digest of the source's rows per chunk and dataset: the lake columns (without
`lake_file`) in canonical order (block_number, log_index, event). A mismatch names the chunk and
both row counts; the net flow of the quarter on both sides gives the missing amount.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from chains import evm as evm_chain
from chains.transport import ChainAccessError, JsonRpcClient, redact
from depinrev.catalogue import CATALOGUE, dataset_of
from depinrev.config import ChainConfig, SourceConfig
from depinrev.lake import DATASETS, ChunkRecord
from indexers.evm.extract import read_chunk_tables

# The canonical order of a source's rows in a chunk (log_index is unique per block; event
# separates the two rows an erc20 self-transfer through 0x0 could give).
ROW_ORDER = [("block_number", "ascending"), ("log_index", "ascending"), ("event", "ascending")]
# Mismatching chunks named in a detail, at most.
MAX_LISTED = 10


class SecondEndpointError(RuntimeError):
    """The second endpoint cannot be used (variable unset, unreachable, another chain)."""


class SecondEndpoints:
    """JSON-RPC clients to second endpoints, one per environment variable, opened on first use
    and checked to serve the chain's id; closed at the end of the audit."""

    def __init__(self) -> None:
        self._clients: dict[str, JsonRpcClient] = {}

    def client(self, env: str, chain_name: str, chain: ChainConfig) -> JsonRpcClient:
        if env in self._clients:
            return self._clients[env]
        url = os.environ.get(env)
        if not url:
            raise SecondEndpointError(
                f"environment variable {env} is not set: set it to a second JSON-RPC URL of "
                f"{chain_name} (another provider than the indexer's)"
            )
        try:
            client = evm_chain.connect(chain_name, chain, url)
        except ChainAccessError as exc:
            raise SecondEndpointError(
                f"second endpoint ${env} ({redact(url)}) of {chain_name}: {exc}"
            ) from exc
        self._clients[env] = client
        return client

    def close(self) -> None:
        for c in self._clients.values():
            c.close()
        self._clients.clear()


def rows_digest(table: pa.Table, dataset: str) -> str:
    """SHA-256 of a dataset's rows: the lake columns in schema order, rows in ROW_ORDER, each
    value as JSON (exact amounts as decimal strings). Equal rows give an equal digest whatever
    their source (a DuckDB view over the lake or a freshly decoded chunk)."""
    schema = pa.schema([pa.field(f.name, f.type) for f in DATASETS[dataset]])
    t = table.select(schema.names).cast(schema).sort_by(ROW_ORDER)
    h = hashlib.sha256()
    for row in t.to_pylist():
        h.update(orjson.dumps([row[n] for n in schema.names], default=str))
        h.update(b"\n")
    return h.hexdigest()


def _net_flow(tables: list[tuple[str, pa.Table]], src: SourceConfig, lo: int, hi: int) -> int:
    """The source's net flow over blocks [lo, hi] in the given (dataset, table) pairs."""
    net = 0
    for flow in CATALOGUE[src.kind].flows:
        want = dataset_of(src.kind, flow.event)
        for ds, t in tables:
            if ds != want:
                continue
            mask = pc.and_(
                pc.equal(t["event"], flow.event),
                pc.and_(pc.greater_equal(t["block_number"], lo),
                        pc.less_equal(t["block_number"], hi)),
            )
            for v in t.filter(mask)[f"{flow.field}_str"].to_pylist():
                if v is not None:
                    net += flow.sign * int(v)
    return net


@dataclass(frozen=True)
class EndpointComparison:
    """What the second endpoint said about a source's chunks of a quarter."""

    chunks: int
    rows: int  # rows of the source on the second endpoint, over the compared chunks
    mismatches: list[str]
    endpoint_flow: int | None  # the net flow over the quarter's blocks (None: no flows)


def compare_chunks(
    con: duckdb.DuckDBPyConnection,
    client: JsonRpcClient,
    *,
    network: str,
    chain: ChainConfig,
    src: SourceConfig,
    chunks: list[ChunkRecord],
    first: int,
    last: int,
) -> EndpointComparison:
    """Fetch each chunk's rows of `src` from `client` and compare them with the lake's."""
    max_span = min(chain.max_blocks_per_request, chain.chunk_size)
    mismatches: list[str] = []
    fetched: list[tuple[str, pa.Table]] = []
    rows = 0
    for c in chunks:
        tables = read_chunk_tables(client, network, chain.chain_id, [src], c.start, c.end,
                                   max_span=max_span)
        for ds in src.datasets:
            theirs = tables[ds].filter(pc.equal(tables[ds]["source"], src.name))
            ours = _lake_rows(con, ds, network, chain.chain_id, src.name, c.start, c.end)
            fetched.append((ds, theirs))
            rows += theirs.num_rows
            a, b = rows_digest(ours, ds), rows_digest(theirs, ds)
            if a != b:
                mismatches.append(
                    f"chunk {c.start}-{c.end} {ds}: lake {ours.num_rows} rows (sha256 {a[:16]}), "
                    f"second endpoint {theirs.num_rows} rows (sha256 {b[:16]})"
                )
    flow = _net_flow(fetched, src, first, last) if CATALOGUE[src.kind].flows else None
    return EndpointComparison(len(chunks), rows, mismatches, flow)


def _lake_rows(
    con: duckdb.DuckDBPyConnection, dataset: str, network: str, chain_id: int, source: str,
    start: int, end: int,
) -> pa.Table:
    cols = ", ".join(DATASETS[dataset].names)
    # A cursor of its own: the relation is read lazily and must not hold the audit's connection.
    return con.cursor().sql(
        f"select {cols} from raw.{dataset} where network = ? and chain_id = ? and source = ? "
        "and block_number between ? and ?",
        params=[network, chain_id, source, start, end],
    ).to_arrow_table()


def mismatch_summary(mismatches: list[str]) -> str:
    listed = "; ".join(mismatches[:MAX_LISTED])
    more = len(mismatches) - MAX_LISTED
    return listed + (f"; and {more} more chunk(s)" if more > 0 else "")
