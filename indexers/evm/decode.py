"""Bulk decoding of eth_getLogs responses into typed Arrow tables.

No Python object is built per log on the hot path: a compact response body is turned into
newline-delimited JSON and parsed by Arrow's C++ JSON reader; hex fields are parsed by
polars; ABI words are decoded with numpy over whole columns. uint256 values land exactly in
decimal128(38,0) when they fit, and always as a decimal string; a value that does not fit is
NULL in the decimal column and exact in the string column, never truncated or rounded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from chains.transport import BadResponse
from depinrev.catalogue import dataset_of
from depinrev.config import SourceConfig, SourceKind
from depinrev.lake import AMOUNT, DATASETS
from indexers.evm.events import EVENTS, ZERO_TOPIC, EventSpec

RAW_LOG_SCHEMA = pa.schema(
    [
        ("address", pa.string()),
        ("topics", pa.list_(pa.string())),
        ("data", pa.string()),
        ("blockNumber", pa.string()),
        ("blockHash", pa.string()),
        ("transactionHash", pa.string()),
        ("transactionIndex", pa.string()),
        ("logIndex", pa.string()),
        ("removed", pa.bool_()),
        ("blockTimestamp", pa.string()),
    ]
)

# An eth_getLogs answer as Arrow reads it: its logs are the result array's structs.
_BODY_SCHEMA = pa.schema([("result", pa.list_(pa.struct(list(RAW_LOG_SCHEMA))))])
# Arrow's JSON block size is an int32: a larger body (never seen) takes the exact path.
_MAX_BLOCK = 2**31 - 2

# 10**38 as two big-endian uint64 halves: the bound of decimal128(38, 0).
_D38 = 10**38
_D38_HI = np.uint64(_D38 >> 64)
_D38_LO = np.uint64(_D38 & ((1 << 64) - 1))


class DecodeError(BadResponse):
    """A response or log that is not what the JSON-RPC spec says it must be (a BadResponse:
    inside the transport's retry loop it is a transient fault)."""


class ReorgDuringRun(RuntimeError):
    """Logs and headers disagree on a block hash: the chain changed under us; retry."""


# --- parsing ------------------------------------------------------------------------------
_WS = b" \t\r\n"


def parse_logs_body(body: bytes, request_id: int | None = None) -> pa.Table:
    """Parse an eth_getLogs response body into a raw log table (hex strings as sent).

    The body must be one complete JSON-RPC answer: the envelope outside the result array is
    parsed (with the array emptied) and must hold exactly jsonrpc "2.0", the request's id (when
    `request_id` is given) and the result; the array must close where the envelope resumes,
    and every element of it must be a log object. A body cut anywhere,
    an HTML page, or another request's answer is a DecodeError (a BadResponse: retried).

    The fast path reads the body in place with Arrow's C++ reader, with no Python object per
    log, whatever its spacing or key order; what it cannot take (an object or list in a log
    field, a field of the wrong JSON type, a null in the array) is parsed with orjson: slower,
    same result or the same error.
    """
    key = body.find(b'"result"')
    if key < 0:
        doc = _loads(body)
        raise DecodeError(f"eth_getLogs response has no result: {str(doc)[:200]}")
    start = body.find(b"[", key)
    end = body.rfind(b"]")
    if start < 0 or end < start or body[key + 8 : start].strip(_WS) != b":":
        return _parse_logs_slow(body, request_id)
    # The envelope around the array, with the array emptied: small, parsed exactly.
    try:
        envelope = orjson.loads(body[:start] + b"[]" + body[end + 1 :])
    except orjson.JSONDecodeError:
        return _parse_logs_slow(body, request_id)  # raises for a cut or garbled body
    if not isinstance(envelope, dict) or set(envelope) - {"jsonrpc", "id", "result"}:
        # e.g. a body cut right after a log's "}": the tail reads as extra members
        return _parse_logs_slow(body, request_id)
    _check_envelope(envelope, request_id)
    if end - start < 64 and not body[start + 1 : end].strip(_WS):
        return RAW_LOG_SCHEMA.empty_table()
    if len(body) >= _MAX_BLOCK:
        return _parse_logs_slow(body, request_id)
    # The whole body is one JSON document, {"result": [log, ...]} to Arrow's reader: one
    # block, read in place (no copy, no rewrite of the array into NDJSON: ~30% less CPU and
    # page faults on a dense chunk's 10 MB, docs/benchmarks.md); the logs are the struct
    # array inside, taken as a table without a copy.
    opts = pj.ParseOptions(explicit_schema=_BODY_SCHEMA, unexpected_field_behavior="ignore")
    try:
        doc = pj.read_json(
            pa.BufferReader(pa.py_buffer(body)), parse_options=opts,
            read_options=pj.ReadOptions(block_size=len(body) + 1, use_threads=False),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return _parse_logs_slow(body, request_id)
    # Arrow parsed the document whole and strictly: one row whose result is a list, every
    # element an object (a number, string or list is a type error above; null is a null
    # struct, refused here), so the structs are exactly the logs, one each.
    if doc.num_rows != 1 or doc.column("result").null_count:
        return _parse_logs_slow(body, request_id)
    logs = next(c for c in doc.column("result").chunks if len(c) == 1).flatten()
    if logs.null_count:
        return _parse_logs_slow(body, request_id)  # raises: a null where a log must be
    return pa.Table.from_struct_array(logs)


def _loads(body: bytes) -> object:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        if not body.strip():
            raise DecodeError("eth_getLogs answer is an empty body") from None
        if body.lstrip()[:1] == b"<":
            raise DecodeError("eth_getLogs answer is an HTML page, not JSON") from None
        raise DecodeError(
            f"eth_getLogs answer is not complete JSON (cut or garbled, {len(body)} bytes)"
        ) from None


def _check_envelope(doc: dict[str, object], request_id: int | None) -> None:
    if request_id is None:
        return
    if doc.get("jsonrpc") != "2.0":
        raise DecodeError(f"eth_getLogs answer has jsonrpc {doc.get('jsonrpc')!r}, not '2.0'")
    if doc.get("id") != request_id or isinstance(doc.get("id"), bool):
        raise DecodeError(f"eth_getLogs answer has id {doc.get('id')!r}, asked {request_id}")


def _parse_logs_slow(body: bytes, request_id: int | None) -> pa.Table:
    doc = _loads(body)
    if not isinstance(doc, dict) or "result" not in doc:
        raise DecodeError(f"eth_getLogs response has no result: {str(doc)[:200]}")
    _check_envelope(doc, request_id)
    logs = doc["result"]
    if not isinstance(logs, list) or not all(isinstance(lg, dict) for lg in logs):
        raise DecodeError(f"eth_getLogs result is not a list of objects: {str(logs)[:200]}")
    try:
        return logs_from_dicts(logs)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
        raise DecodeError(f"eth_getLogs result holds a log of the wrong shape: {exc}") from None


def logs_from_dicts(logs: list[dict[str, object]]) -> pa.Table:
    """Raw log table from already-parsed log objects (small or pretty-printed responses)."""
    cols = {f.name: [lg.get(f.name) for lg in logs] for f in RAW_LOG_SCHEMA}
    return pa.table(cols, schema=RAW_LOG_SCHEMA)


def normalize(raw: pa.Table) -> pl.DataFrame:
    """Hex numbers to integers, topics to columns, addresses to lowercase."""
    df = pl.from_arrow(raw)
    assert isinstance(df, pl.DataFrame)

    def hexint(col: str, dtype: pl.DataType) -> pl.Expr:
        return pl.col(col).str.strip_prefix("0x").str.to_integer(base=16).cast(dtype)

    topics = pl.col("topics")
    return df.select(
        pl.col("address").str.to_lowercase().alias("address"),
        *[
            topics.list.get(i, null_on_oob=True).str.to_lowercase().alias(f"topic{i}")
            for i in range(4)
        ],
        topics.list.len().cast(pl.Int32).alias("n_topics"),
        pl.col("data").str.to_lowercase().alias("data"),
        hexint("blockNumber", pl.Int64).alias("block_number"),
        pl.col("blockHash").str.to_lowercase().alias("block_hash"),
        pl.col("transactionHash").str.to_lowercase().alias("transaction_hash"),
        hexint("transactionIndex", pl.Int32).alias("transaction_index"),
        hexint("logIndex", pl.Int32).alias("log_index"),
        pl.col("removed").fill_null(False).alias("removed"),
        hexint("blockTimestamp", pl.Int64).alias("log_block_timestamp"),
    )


# --- ABI words ----------------------------------------------------------------------------
def words(hex64: pl.Series) -> np.ndarray:
    """A column of 64-hex-digit strings (no 0x) as an (n, 32) uint8 array."""
    if hex64.len() == 0:
        return np.zeros((0, 32), dtype=np.uint8)
    binary = hex64.str.decode("hex", strict=True).to_arrow()
    fixed = pc.cast(binary.cast(pa.large_binary()), pa.binary(32))
    if isinstance(fixed, pa.ChunkedArray):
        fixed = fixed.combine_chunks()
    buf = fixed.buffers()[1]
    assert buf is not None
    return np.frombuffer(
        buf, dtype=np.uint8, count=len(fixed) * 32, offset=fixed.offset * 32
    ).reshape(-1, 32)


def uint256_columns(w: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Exact uint256 words -> (decimal128(38,0) or NULL where too large, decimal string)."""
    n = len(w)
    if n == 0:
        return pa.array([], AMOUNT), pa.array([], pa.string())
    low = np.ascontiguousarray(w[:, 16:])
    hi64 = low[:, :8].copy().view(">u8").ravel()
    lo64 = low[:, 8:].copy().view(">u8").ravel()
    fits = ~w[:, :16].any(axis=1) & ((hi64 < _D38_HI) | ((hi64 == _D38_HI) & (lo64 < _D38_LO)))
    le = np.ascontiguousarray(low[:, ::-1])
    le[~fits] = 0
    validity = pa.py_buffer(np.packbits(fits, bitorder="little").tobytes())
    dec = pa.Array.from_buffers(AMOUNT, n, [validity, pa.py_buffer(le.tobytes())], null_count=-1)
    strings = pc.cast(dec, pa.string())
    if not fits.all():
        big = {int(i): str(int.from_bytes(w[i].tobytes(), "big")) for i in np.flatnonzero(~fits)}
        strings = pa.array([big.get(i, s) for i, s in enumerate(strings.to_pylist())], pa.string())
    return dec, strings


def int256_columns(w: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Exact int256 words (two's complement); few rows (price feeds), so per value."""
    values = [int.from_bytes(row.tobytes(), "big", signed=True) for row in w]
    dec = pa.array([v if -_D38 < v < _D38 else None for v in values], AMOUNT)
    return dec, pa.array([str(v) for v in values], pa.string())


def uint64_column(w: np.ndarray, what: str) -> pa.Array:
    if w[:, :24].any():
        raise DecodeError(f"{what}: value does not fit uint64")
    return pa.array(np.ascontiguousarray(w[:, 24:]).view(">u8").ravel().astype(np.uint64))


def address_column(topic: pl.Series, what: str) -> pa.Array:
    if not (topic.str.slice(2, 24) == "0" * 24).all():
        raise DecodeError(f"{what}: an indexed address topic has non-zero high bytes")
    return ("0x" + topic.str.slice(26, 40)).to_arrow().cast(pa.string())


# --- routing ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    source: SourceConfig
    spec: EventSpec
    dataset: str
    event: str


@dataclass
class DecodeStats:
    logs: int = 0
    decoded: int = 0
    ignored_shape: int = 0  # e.g. ERC-721 Transfer logs sharing the ERC-20 topic
    ignored_unrouted: int = 0


def routes_for(sources: list[SourceConfig]) -> list[Route]:
    return [
        Route(src, spec, dataset_of(src.kind, event), event)
        for src in sources
        for spec, event in EVENTS[src.kind]
    ]


def datasets_for(sources: list[SourceConfig]) -> list[str]:
    """The lake datasets a set of sources writes (every chunk writes each of them)."""
    return sorted({d for src in sources for d in src.datasets})


def decode_logs(
    logs: pl.DataFrame,
    headers: pl.DataFrame,
    sources: list[SourceConfig],
    *,
    network: str,
    chain_id: int,
    stats: DecodeStats | None = None,
) -> dict[str, pa.Table]:
    """Decode normalized logs of one chain into the network's lake datasets.

    `headers` has block_number, block_hash, block_timestamp for every block holding a log;
    a log whose blockHash differs from its header's hash means the chain moved: ReorgDuringRun.
    """
    stats = stats if stats is not None else DecodeStats()
    stats.logs += logs.height
    logs = _with_header_times(logs, headers)

    parts: dict[str, list[pa.Table]] = {d: [] for d in datasets_for(sources)}
    routed = 0
    for route in routes_for(sources):
        spec = route.spec
        sel = logs.filter(
            (pl.col("address") == route.source.address) & (pl.col("topic0") == spec.topic0)
        )
        if sel.height == 0:
            continue
        routed += sel.height
        ok = (pl.col("n_topics") == spec.n_topics) & (
            pl.col("data").str.len_bytes() == 2 + 64 * spec.n_words
        )
        good = sel.filter(ok)
        stats.ignored_shape += sel.height - good.height
        if good.height == 0:
            continue
        table = _decode_group(good, route, network=network, chain_id=chain_id)
        if route.source.kind is SourceKind.erc20:
            frm = pc.equal(table["from_address"], "0x" + "0" * 40)
            to = pc.equal(table["to_address"], "0x" + "0" * 40)
            if (burns := table.filter(to)).num_rows:
                parts["token_burns"].append(_with_event(burns, "burn"))
            if (mints := table.filter(frm)).num_rows:
                parts["token_mints"].append(_with_event(mints, "mint"))
            if route.source.index_transfers:
                parts["token_transfers"].append(table)
        else:
            parts[route.dataset].append(table)
        stats.decoded += good.height
    stats.ignored_unrouted += logs.height - routed

    return {dataset: _sorted(dataset, tables) for dataset, tables in parts.items()}


def _with_header_times(logs: pl.DataFrame, headers: pl.DataFrame) -> pl.DataFrame:
    """Each log with its block's timestamp from the headers; a log whose block hash is not
    its header's means the chain moved under the run (ReorgDuringRun, retried)."""
    if logs.height == 0:
        return logs.with_columns(pl.lit(None, pl.Int64).alias("block_timestamp"))
    if logs["removed"].any():
        raise ReorgDuringRun("the node returned logs flagged removed")
    joined = logs.join(
        headers.select(
            "block_number", pl.col("block_hash").alias("header_hash"), "block_timestamp"
        ),
        on="block_number",
        how="left",
    )
    missing = joined.filter(pl.col("header_hash").is_null())
    if missing.height:
        raise DecodeError(f"no header fetched for block {missing['block_number'][0]}")
    bad = joined.filter(pl.col("header_hash") != pl.col("block_hash"))
    if bad.height:
        raise ReorgDuringRun(
            f"log in block {bad['block_number'][0]} has hash {bad['block_hash'][0]} but the "
            f"header says {bad['header_hash'][0]}"
        )
    return joined.drop("header_hash")


def _sorted(dataset: str, tables: list[pa.Table]) -> pa.Table:
    """A dataset's decoded parts as one table in lake order (block, log index)."""
    if not tables:
        return DATASETS[dataset].empty_table()
    t = pa.concat_tables(tables)
    keys = [("block_number", "ascending"), ("log_index", "ascending")]
    return t.take(pc.sort_indices(t, sort_keys=keys))


def _with_event(t: pa.Table, event: str) -> pa.Table:
    i = t.schema.get_field_index("event")
    return t.set_column(i, t.schema.field(i), _const(event, t.num_rows))


def _typed(arr: pa.Array, typ: pa.DataType) -> pa.Array:
    return arr if arr.type == typ else arr.cast(typ)


def _const(value: str, n: int) -> pa.Array:
    """A string column holding one value n times (built in C++, no Python list)."""
    return pa.repeat(pa.scalar(value, pa.string()), n)


def _decode_group(df: pl.DataFrame, route: Route, *, network: str, chain_id: int) -> pa.Table:
    n = df.height
    schema = DATASETS[route.dataset]
    cols: dict[str, pa.Array] = {
        "chain_id": pa.array(np.full(n, chain_id, dtype=np.int64)),
        "network": _const(network, n),
        "source": _const(route.source.name, n),
        "token": _const(route.source.token, n),
        "address": df["address"].to_arrow().cast(pa.string()),
        "event": _const(route.event, n),
        "block_number": df["block_number"].to_arrow(),
        "block_hash": df["block_hash"].to_arrow().cast(pa.string()),
        "block_timestamp": df["block_timestamp"].to_arrow(),
        "transaction_hash": df["transaction_hash"].to_arrow().cast(pa.string()),
        "transaction_index": df["transaction_index"].to_arrow(),
        "log_index": df["log_index"].to_arrow(),
    }
    what = f"{route.source.name} {route.spec.name}"
    for param, where, pos in route.spec.located():
        if where == "topic":
            hexcol = df[f"topic{pos}"]
            if param.type == "address":
                cols[param.column] = address_column(hexcol, what)
                continue
            w = words(hexcol.str.slice(2, 64))
        else:
            w = words(df["data"].str.slice(2 + 64 * pos, 64))
        if param.type == "uint256":
            cols[param.column], cols[f"{param.column}_str"] = uint256_columns(w)
        elif param.type == "int256":
            cols[param.column], cols[f"{param.column}_str"] = int256_columns(w)
        elif param.type == "uint64":
            cols[param.column] = uint64_column(w, what)
        elif param.type == "address":
            cols[param.column] = pa.array(["0x" + r[12:].tobytes().hex() for r in w], pa.string())
    if "updated_at" in cols:
        # A uint256 timestamp: exact int64 or an error, never a wrapped value.
        s = cols.pop("updated_at_str").to_pylist()
        cols.pop("updated_at")
        vals = [int(v) for v in s]
        if any(v >= 2**63 for v in vals):
            raise DecodeError(f"{what}: updatedAt does not fit int64")
        cols["updated_at"] = pa.array(vals, pa.int64())
    arrays = [
        _typed(cols[f.name], f.type) if f.name in cols else pa.nulls(n, f.type) for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


# Re-exported for tests that check the sentinel.
__all__ = [
    "ZERO_TOPIC",
    "DecodeError",
    "DecodeStats",
    "ReorgDuringRun",
    "datasets_for",
    "decode_logs",
    "normalize",
    "parse_logs_body",
    "uint256_columns",
    "words",
]
