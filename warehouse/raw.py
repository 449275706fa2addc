"""The `raw` schema: views over the Parquet lake, and `audit.lake_files`, the lake inventory.

Each view lists the lake's files by absolute path at build time, so that
* the warehouse can be opened from any directory (no cwd-relative paths),
* the rows the marts were built from are exactly the files of the manifest (a file the indexer
  adds later is not silently picked up until the next build).

What the views and `audit.lake_files` expose as a row's file (`lake_file`, `path`) is the path
relative to the lake root, e.g. `token_burns/network=x/chain_id=1/x__token_burns__..parquet`:
the same lake gives the same marts wherever it sits (`audit.lake_files.lake_root` says where it
was for this build).

Hive partitioning is off on purpose: `network` and `chain_id` are columns inside every file,
and DuckDB lets a partition directory name silently override them when it is on. The in-file
columns are authoritative (typed by the writer); the audit checks the directory agrees.
A dataset without files is an empty view with the lake schema, so dbt still builds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from depinrev.lake import ALL_SCHEMAS, ChunkFile, Lake, LakeError, file_sha256


@dataclass(frozen=True)
class LakeFile:
    dataset: str
    network: str
    chain_id: int
    start_block: int
    end_block: int
    path: str  # relative to the lake root, '/'-separated
    abs_path: str
    sha256: str
    rows: int
    size_bytes: int


def _duck_type(t: pa.DataType) -> str:
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    mapping = {
        pa.int64(): "BIGINT",
        pa.int32(): "INTEGER",
        pa.uint64(): "UBIGINT",
        pa.string(): "VARCHAR",
    }
    if t not in mapping:
        raise TypeError(f"no DuckDB type for {t}")
    return mapping[t]


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


@dataclass(frozen=True)
class FileStamp:
    """What identifies one version of a file on disk without reading it: a rewrite (the lake
    writes a temporary file and renames it over the old one) gives a new inode; an edit in
    place changes the size, the mtime or, even when those are set back, the ctime."""

    size_bytes: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileStamp:
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


@dataclass(frozen=True)
class VerifiedHash:
    """A file's SHA-256 and row count, as read while the file had `stamp`."""

    stamp: FileStamp
    sha256: str
    rows: int


HashCache = dict[str, VerifiedHash]
"""Absolute path -> its last verified hash (audit.lake_file_hashes)."""


def inventory(lake: Lake, cache: HashCache | None = None) -> list[LakeFile]:
    """Every chunk file of the lake, with its SHA-256 and row count (Parquet metadata).

    With `cache`, a file whose stamp (size, mtime and ctime in ns, inode, device) equals its
    cached entry's keeps the cached hash and row count instead of being read again; every
    other file is hashed and `cache` is updated in place (entries of files no longer in the
    lake are dropped). Without it every file is read (what `close` relies on)."""
    root = lake.root.resolve()
    out: list[LakeFile] = []
    seen: set[str] = set()
    for dataset in sorted(ALL_SCHEMAS):
        for c in lake.chunk_files(dataset):
            f = _describe(c, root, cache)
            seen.add(f.abs_path)
            out.append(f)
    if cache is not None:
        for gone in set(cache) - seen:
            del cache[gone]
    return out


def verified_hash(path: Path, cache: HashCache | None = None) -> VerifiedHash:
    """The file's SHA-256 and rows, from `cache` while its stamp is unchanged, else read
    (and put into `cache`). The stamp is taken before reading: a write during the read
    changes the stamp, so the next call reads the file again."""
    stamp = FileStamp.of(path.stat())
    key = str(path)
    hit = None if cache is None else cache.get(key)
    if hit is not None and hit.stamp == stamp:
        return hit
    fresh = VerifiedHash(stamp, file_sha256(path), pq.ParquetFile(path).metadata.num_rows)
    if cache is not None:
        cache[key] = fresh
    return fresh


def check_format(c: ChunkFile) -> None:
    """A lake file's columns are its dataset's, in order (its Parquet footer, read on every
    build: a file whose hash is cached may still predate a column). A file of another lake
    format (e.g. tao_events before min_lock) would fail inside DuckDB with a binder error, or
    worse, the raw view would take the first file's columns: refused here, naming it."""
    names = pq.read_schema(c.path).names
    want = ALL_SCHEMAS[c.dataset].names
    if names != want:
        missing = [n for n in want if n not in names]
        unknown = [n for n in names if n not in want]
        raise LakeError(
            f"{c.path}: not in the lake format of {c.dataset} (missing columns {missing}, "
            f"unknown {unknown}, or another order): written by another depinrev version; "
            f"index its blocks again (`depinrev index --network {c.network} --from-block "
            f"{c.start} --to-block {c.end} --overwrite`)"
        )


def _describe(c: ChunkFile, root: Path, cache: HashCache | None = None) -> LakeFile:
    path = c.path.resolve()
    check_format(c)
    v = verified_hash(path, cache)
    return LakeFile(
        dataset=c.dataset,
        network=c.network,
        chain_id=c.chain_id,
        start_block=c.start,
        end_block=c.end,
        path=path.relative_to(root).as_posix(),
        abs_path=str(path),
        sha256=v.sha256,
        rows=v.rows,
        size_bytes=v.stamp.size_bytes,
    )


_HASHES_DDL = """
create table if not exists audit.lake_file_hashes (
    abs_path varchar primary key, size_bytes bigint not null, mtime_ns bigint not null,
    ctime_ns bigint not null, inode bigint not null, device bigint not null,
    sha256 varchar not null, row_count bigint not null)
"""


def load_hash_cache(con: duckdb.DuckDBPyConnection) -> HashCache:
    """audit.lake_file_hashes as a HashCache (empty on a new warehouse)."""
    con.execute("create schema if not exists audit")
    con.execute(_HASHES_DDL)
    rows = con.execute(
        "select abs_path, size_bytes, mtime_ns, ctime_ns, inode, device, sha256, row_count "
        "from audit.lake_file_hashes").fetchall()
    return {r[0]: VerifiedHash(FileStamp(r[1], r[2], r[3], r[4], r[5]), r[6], r[7])
            for r in rows}


def save_hash_cache(con: duckdb.DuckDBPyConnection, cache: HashCache) -> None:
    """Replace audit.lake_file_hashes with `cache`."""
    con.execute(_HASHES_DDL)
    con.execute("delete from audit.lake_file_hashes")
    insert_rows(con, "audit.lake_file_hashes", [
        [k, v.stamp.size_bytes, v.stamp.mtime_ns, v.stamp.ctime_ns, v.stamp.inode,
         v.stamp.device, v.sha256, v.rows] for k, v in sorted(cache.items())])


def create_raw_views(
    con: duckdb.DuckDBPyConnection, lake_root: str | Path, files: list[LakeFile]
) -> None:
    """(Re)create one `raw.<dataset>` view per lake dataset, plus `audit.lake_files`."""
    con.execute("create schema if not exists raw")
    con.execute("create schema if not exists audit")
    for dataset, schema in sorted(ALL_SCHEMAS.items()):
        chosen = [f for f in files if f.dataset == dataset]
        if chosen:
            listing = ", ".join(_sql_str(f.abs_path) for f in chosen)
            # DuckDB's `filename` is the absolute path as listed: `<root>/<relative path>`.
            cut = len(chosen[0].abs_path) - len(chosen[0].path) + 1
            assert all(len(f.abs_path) - len(f.path) + 1 == cut for f in chosen)
            body = (
                f"select * exclude (filename), substr(filename, {cut}) as lake_file "
                f"from read_parquet([{listing}], hive_partitioning = false, filename = true)"
            )
        else:
            cols = ", ".join(
                f"cast(null as {_duck_type(f.type)}) as {f.name}" for f in schema
            )
            body = f"select {cols}, cast(null as varchar) as lake_file where false"
        con.execute(f"create or replace view raw.{dataset} as {body}")
    con.execute(
        """
        create or replace table audit.lake_files (
            dataset varchar not null, network varchar not null, chain_id bigint not null,
            start_block bigint not null, end_block bigint not null, path varchar primary key,
            sha256 varchar not null, row_count bigint not null, size_bytes bigint not null,
            lake_root varchar not null)
        """
    )
    root = str(Path(lake_root).resolve())
    insert_rows(con, "audit.lake_files", [
        [f.dataset, f.network, f.chain_id, f.start_block, f.end_block, f.path, f.sha256,
         f.rows, f.size_bytes, root]
        for f in files
    ])


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[list[object]]) -> None:
    """Insert rows (in the table's column order) in one statement: DuckDB's executemany runs
    one statement a row, ~1 ms each."""
    if not rows:
        return
    names = [d[0] for d in con.execute(f"select * from {table} limit 0").description or []]
    batch = pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})
    con.register("_depinrev_rows", batch)
    try:
        con.execute(f"insert into {table} by name select * from _depinrev_rows")
    finally:
        con.unregister("_depinrev_rows")
