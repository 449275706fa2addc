"""Reading a whole lake dataset back, for assertions (the product reads the lake with DuckDB)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from depinrev.lake import ALL_SCHEMAS, Lake


def read_dataset(lake: Lake, dataset: str, network: str | None = None) -> pa.Table:
    """Every file of a dataset (of one network, or all), concatenated in file order."""
    files = [c.path for c in lake.chunk_files(dataset, network)]
    schema = ALL_SCHEMAS[dataset]
    if not files:
        return schema.empty_table()
    return pa.concat_tables([pq.read_table(f, schema=schema) for f in files])
