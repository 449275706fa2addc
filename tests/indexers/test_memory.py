"""The glibc malloc tuning the indexer applies before it reads a chain."""

from __future__ import annotations

import platform

import pytest

from indexers.memory import bound_heap_growth


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt tuning is glibc's")
def test_glibc_accepts_the_heap_bounds_once_per_process() -> None:
    assert bound_heap_growth() is True
    assert bound_heap_growth() is True  # cached: applying it again changes nothing


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt tuning is glibc's")
def test_arrow_allocates_from_the_tuned_glibc_heap_not_its_own_jemalloc() -> None:
    import pyarrow as pa

    bound_heap_growth()
    assert pa.default_memory_pool().backend_name == "system"
