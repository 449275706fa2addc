"""Chunk planning: a fixed grid, so files are the same whatever range was asked for; chunks
in flight bounded by their rows."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pyarrow as pa
import pytest

from depinrev.lake import DATASETS, Lake
from indexers.chunked import (
    admissible,
    aligned_range,
    amount_columns,
    amount_fields,
    plan_chunks,
    run_budgeted,
    sorted_table,
    writer_lock,
)


def test_chunks_follow_the_grid():
    assert plan_chunks(5, 25, 10) == [(5, 9), (10, 19), (20, 25)]
    assert plan_chunks(10, 10, 10) == [(10, 10)]
    assert plan_chunks(11, 10, 10) == []


def test_requested_range_is_widened_to_whole_chunks_inside_start_and_final():
    assert aligned_range(3, 95, 10, 42, 57) == (40, 59)
    assert aligned_range(3, 95, 10, None, None) == (3, 95)
    assert aligned_range(3, 95, 10, 0, 200) == (3, 95)
    assert aligned_range(50, 40, 10, None, None) is None


def test_any_split_of_a_range_gives_the_same_chunks():
    whole = plan_chunks(*aligned_range(7, 999, 50, None, None), 50)
    parts = []
    for lo, hi in [(0, 123), (124, 600), (601, 999)]:
        rng = aligned_range(7, 999, 50, lo, hi)
        parts += plan_chunks(*rng, 50)
    assert sorted(set(parts)) == whole


def test_taking_the_writer_lock_removes_temp_files_a_killed_writer_left(tmp_path):
    lake = Lake(tmp_path)
    table = DATASETS["token_burns"].empty_table()
    kept = lake.write_chunk("token_burns", "net-a", 1, 0, 9, table)
    # what a writer killed before its rename leaves: half a chunk file, half a checkpoint
    half_chunk = kept.with_name(f".{kept.name.replace('0009', '0019')}.tmp-4242")
    half_chunk.write_bytes(b"PAR1 half")
    cp = lake.checkpoint_path("net-a", 1)
    cp.parent.mkdir(parents=True)
    half_cp = cp.with_name(f".{cp.name}.tmp-4242")
    half_cp.write_text('{"chunks": [')
    # another network's chain has its own writer: its temporary file is not ours to remove
    other = lake.chunk_path("token_burns", "net-b", 1, 0, 9)
    other.parent.mkdir(parents=True)
    theirs = other.with_name(f".{other.name}.tmp-4243")
    theirs.write_bytes(b"PAR1 in progress")

    with writer_lock(lake, "net-a", 1):
        assert not half_chunk.exists() and not half_cp.exists()
    assert kept.exists() and theirs.exists()


def test_admission_keeps_the_rows_in_flight_within_the_budget():
    # (in flight, workers, budget, estimate) -> may one more start
    assert admissible(0, 4, 100, None)  # nothing runs: the first chunk always starts
    assert not admissible(1, 4, 100, None)  # size unknown: the first chunk runs alone
    assert admissible(1, 4, 100, 50)  # 2 x 50 <= 100
    assert not admissible(2, 4, 100, 50)  # 3 x 50 > 100
    assert admissible(3, 4, 1_000, 10)
    assert not admissible(4, 4, 1_000, 10)  # never more than the workers
    assert admissible(0, 4, 100, 5_000)  # larger than the whole budget: it runs, alone
    assert not admissible(1, 4, 100, 5_000)
    assert not admissible(1, 4, 1, 0)  # empty chunks count as one row each


class _Tracker:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak_rows = 0
        self.peak_count = 0

    def __call__(self, rows: int) -> int:
        with self.lock:
            self.now += 1
            self.peak_count = max(self.peak_count, self.now)
        time.sleep(0.02)
        with self.lock:
            self.now -= 1
        return rows


def test_budgeted_pool_runs_equal_chunks_as_many_as_the_budget_holds():
    t = _Tracker()
    got = list(run_budgeted(t, [10] * 12, workers=4, budget=25, cost=lambda r: r))
    assert sorted(got) == [10] * 12
    assert t.peak_count == 2  # 25 rows hold two 10-row chunks, not three, not four


def test_a_chunk_larger_than_the_budget_runs_alone_and_never_blocks_the_rest():
    t = _Tracker()
    costs = [3, 500, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]
    got = list(run_budgeted(t, costs, workers=4, budget=10, cost=lambda r: r))
    assert sorted(got) == sorted(costs)
    assert t.peak_count <= 3  # 3 x 3 <= 10 < 4 x 3


def test_budgeted_pool_raises_the_first_error():
    def fn(i: int) -> int:
        if i == 3:
            raise ValueError("chunk 3 failed")
        return i

    with pytest.raises(ValueError, match="chunk 3 failed"):
        list(run_budgeted(fn, range(8), workers=2, budget=100, cost=lambda r: 1))


def test_amount_columns_keep_exact_integers_and_null_what_decimal38_cannot_hold():
    values = [0, 5, None, -7, 10**38 - 1, 10**38, -(10**38), 2**64 - 1]
    amount, text = amount_columns(values)
    assert amount.type == pa.decimal128(38, 0)
    assert amount.to_pylist() == [Decimal(0), Decimal(5), None, Decimal(-7),
                                  Decimal("99999999999999999999999999999999999999"), None, None,
                                  Decimal("18446744073709551615")]
    assert text.to_pylist() == ["0", "5", None, "-7", "9" * 38, "1" + "0" * 38,
                                "-1" + "0" * 38, "18446744073709551615"]
    # what the row-by-row form gives
    rows = [amount_fields("a", v) for v in values]
    assert amount.to_pylist() == [r["a"] for r in rows]
    assert text.to_pylist() == [r["a_str"] for r in rows]


def test_a_table_already_in_lake_order_is_kept_and_another_is_sorted_stably():
    ordered = pa.table({"block_number": [3, 3, 5, 9], "log_index": [0, 4, 1, 1],
                        "tag": ["a", "b", "c", "d"]})
    assert sorted_table(ordered) is ordered
    mixed = pa.table({"block_number": [5, 3, 5, 3], "log_index": [1, 2, 0, 2],
                      "tag": ["a", "b", "c", "d"]})
    assert sorted_table(mixed).to_pydict() == {
        "block_number": [3, 3, 5, 5], "log_index": [2, 2, 0, 1], "tag": ["b", "d", "c", "a"]}
