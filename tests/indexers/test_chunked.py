"""Chunk planning: a fixed grid, so files are the same whatever range was asked for."""

from __future__ import annotations

from indexers.chunked import aligned_range, plan_chunks


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
