"""A lake file of another lake format (an older depinrev's columns) is refused by the build's
inventory, naming the file, the missing columns and how to re-index it, instead of failing
later inside DuckDB or dbt with a binder error."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from depinrev.lake import DATASETS, Lake, LakeError
from warehouse.raw import inventory


def _write(lake: Lake, names_dropped: tuple[str, ...], start: int, end: int) -> Path:
    schema = DATASETS["tao_events"]
    for name in names_dropped:
        schema = schema.remove(schema.get_field_index(name))
    path = lake.chunk_path("tao_events", "bittensor", 9, start, end)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(schema.empty_table(), path)
    return path


def test_a_file_of_the_current_format_is_listed(tmp_path: Path):
    lake = Lake(tmp_path / "lake")
    path = _write(lake, (), 1, 50)
    (f,) = inventory(lake)
    assert (f.abs_path, f.rows) == (str(path.resolve()), 0)


def test_a_tao_events_file_without_min_lock_is_refused_naming_what_to_do(tmp_path: Path):
    lake = Lake(tmp_path / "lake")
    _write(lake, (), 1, 50)
    old = _write(lake, ("min_lock", "min_lock_str"), 51, 100)
    with pytest.raises(LakeError) as exc:
        inventory(lake)
    msg = str(exc.value)
    assert str(old) in msg
    assert "missing columns ['min_lock', 'min_lock_str']" in msg
    assert "--network bittensor --from-block 51 --to-block 100 --overwrite" in msg
