"""Keep an indexing process's resident memory close to what it actually holds.

The indexer moves multi-megabyte buffers through several threads (response bodies, their
NDJSON copies, Arrow and Parquet buffers). glibc's malloc serves a buffer above its mmap
threshold with mmap and returns it on free, but it raises that threshold after such a free
(up to 32 MiB), after which the same buffers come from per-thread heap arenas whose freed
pages stay resident. On the bench chain that kept a 1M-log run at about 1.0-1.1 GiB of peak
RSS; with a fixed 1 MiB threshold, 1 MiB trim threshold and two arenas it stayed near
750-830 MiB (docs/benchmarks.md), for a few percent of CPU spent in mmap/munmap.

Arrow's buffers (the decoded tables, the Parquet writer's) come from Arrow's default memory
pool, its bundled jemalloc, which keeps freed pages resident for a while and is not bound by
these settings. Once glibc is tuned, Arrow allocates from glibc as well (its system pool): on
the dense bench chain (240,000 logs, four 16,000-log chunks in flight) peak RSS went from
538-548 MiB to 410-424 MiB for the same CPU time.
"""

from __future__ import annotations

import ctypes
import functools
import logging

log = logging.getLogger(__name__)

# mallopt(3) parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
LARGE_BUFFER = 1 << 20
ARENAS = 2


@functools.cache
def bound_heap_growth() -> bool:
    """Tune glibc malloc once per process (see the module doc); False where it is not glibc
    (mallopt missing, e.g. macOS, or refusing, e.g. musl), which changes nothing else."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    settings = ((M_MMAP_THRESHOLD, LARGE_BUFFER), (M_TRIM_THRESHOLD, LARGE_BUFFER),
                (M_ARENA_MAX, ARENAS))
    ok = all(mallopt(param, value) == 1 for param, value in settings)
    if not ok:
        log.debug("mallopt refused a setting; the allocator keeps its defaults")
        return False
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
    return True
