"""How a depinrev program starts and ends: process-wide settings that only an entry point
may make (the CLI's `main`, the bench's workers, and the `pipelines` package, which is
Dagster's code location), never a library module.

Measured on the bench's dense chain (docs/benchmarks.md, "What changed on 2026-12-01"):
numpy's OpenBLAS starts a thread per core when numpy is imported, and they spin for a while
(~0.15 CPU-s of a 2.4 s indexing run, on the cores the node also needs), though nothing in
depinrev does linear algebra; Arrow's C++ default pool is its bundled mimalloc unless the
environment says otherwise before pyarrow loads (indexers.memory); and at exit the
interpreter's collector walks every object the imports made (~0.09 s with polars, pyarrow
and pydantic loaded).
"""

from __future__ import annotations

import gc
import os
import sys


def start() -> None:
    """Before anything imports numpy or pyarrow (a user's own settings win): one BLAS
    thread; and Arrow's C++ default pool on the system allocator, which indexers.memory
    bounds (Arrow's bundled mimalloc keeps freed pages resident: the Parquet writer's
    buffers alone added ~80-100 MiB to the dense chain's peak RSS)."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")


def end() -> None:
    """Just before the process exits: leave the objects to the OS instead of the collector
    (output is already flushed and files closed; finalizers still run). Not once DuckDB is
    loaded: its bindings (nanobind) count instances left at exit and print them to stderr as
    leaks, which a user would read as a bug."""
    if "duckdb" not in sys.modules:
        gc.freeze()
