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

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from depinrev.lake import ALL_SCHEMAS, ChunkFile, Lake, file_sha256


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


def inventory(lake: Lake) -> list[LakeFile]:
    """Every chunk file of the lake, with its SHA-256 and row count (Parquet metadata)."""
    root = lake.root.resolve()
    out: list[LakeFile] = []
    for dataset in sorted(ALL_SCHEMAS):
        for c in lake.chunk_files(dataset):
            out.append(_describe(c, root))
    return out


def _describe(c: ChunkFile, root: Path) -> LakeFile:
    path = c.path.resolve()
    return LakeFile(
        dataset=c.dataset,
        network=c.network,
        chain_id=c.chain_id,
        start_block=c.start,
        end_block=c.end,
        path=path.relative_to(root).as_posix(),
        abs_path=str(path),
        sha256=file_sha256(path),
        rows=pq.ParquetFile(path).metadata.num_rows,
        size_bytes=path.stat().st_size,
    )


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
    con.executemany(
        "insert into audit.lake_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [f.dataset, f.network, f.chain_id, f.start_block, f.end_block, f.path, f.sha256,
             f.rows, f.size_bytes, root]
            for f in files
        ],
    )
