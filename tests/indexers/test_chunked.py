"""Chunk planning: a fixed grid, so files are the same whatever range was asked for."""

from __future__ import annotations

from depinrev.lake import DATASETS, Lake
from indexers.chunked import aligned_range, plan_chunks, writer_lock


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
