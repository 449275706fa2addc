"""Edit lake files the way a tampered or re-indexed chunk would differ: one amount changed."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from depinrev.lake import ChunkFile, Lake


def rewrite_amount(path: Path, row: int, delta: int) -> tuple[int, int]:
    """Rewrite a lake Parquet file with one amount changed (both amount and amount_str);
    returns the old and new amount."""
    t = pq.read_table(path)
    strs = t.column("amount_str").to_pylist()
    old = int(strs[row])
    strs[row] = str(old + delta)
    decs = t.column("amount").to_pylist()
    decs[row] = Decimal(old + delta)
    t = t.set_column(t.schema.get_field_index("amount_str"), t.schema.field("amount_str"),
                     pa.array(strs, pa.string()))
    t = t.set_column(t.schema.get_field_index("amount"), t.schema.field("amount"),
                     pa.array(decs, t.schema.field("amount").type))
    pq.write_table(t, path)
    return old, old + delta


def alter_first_amount(
    lake_root: Path, dataset: str, network: str, delta: int
) -> tuple[ChunkFile, int]:
    """Change the first amount of the network's first `dataset` file holding rows; returns
    that file and the new amount."""
    for c in Lake(lake_root).chunk_files(dataset, network):
        if pq.read_metadata(c.path).num_rows:
            _, new = rewrite_amount(c.path, 0, delta)
            return c, new
    raise AssertionError(f"no {dataset} rows of {network} to alter in {lake_root}")
