"""Keep an indexing process's resident memory close to what it actually holds.

The indexer moves multi-megabyte buffers through several threads (response bodies, Arrow
tables, polars frames, Parquet buffers). glibc's malloc serves a buffer above its mmap
threshold with mmap and returns it on free, but it raises that threshold after such a free
(up to 32 MiB), after which the same buffers come from per-thread heap arenas whose freed
pages stay resident. On the bench chain that kept a 1M-log run at about 1.0-1.1 GiB of peak
RSS. Fixed settings (two arenas, freed heap tops above 1 MiB trimmed) bound it.

The mmap threshold itself is a trade: at 1 MiB every chunk's large buffers are fresh
mappings, so every page of them is faulted in and zeroed again (~200,000 faults, ~30% of the
indexer's CPU on the dense bench chain); fixed at 32 MiB (glibc's own ceiling) the heap
reuses them: ~80,000 faults, ~0.25 CPU-s less on the dense chain, for ~60 MiB more peak RSS
(docs/benchmarks.md, "What changed on 2026-12-01").

Arrow's buffers (the decoded tables, the Parquet writer's) come from Arrow's default memory
pool, its bundled mimalloc (jemalloc in older versions), which keeps freed pages resident
for a while and is not bound by these settings. Once glibc is tuned, Arrow allocates from
glibc as well (its system pool) for what pyarrow allocates; the Parquet writer's encoders
take Arrow's C++ default pool, which only ARROW_DEFAULT_MEMORY_POOL=system set before pyarrow
loads changes (depinrev.process.start does, in every entry point): on the dense chain ~80-100 MiB
less peak RSS.
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
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 1 << 20
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
    settings = ((M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
                (M_ARENA_MAX, ARENAS))
    ok = all(mallopt(param, value) == 1 for param, value in settings)
    if not ok:
        log.debug("mallopt refused a setting; the allocator keeps its defaults")
        return False
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
    return True
