"""The process settings of depinrev's entry points (depinrev.process): set before pyarrow and
numpy load, a user's own values kept, the heap left to the OS at exit unless DuckDB is loaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from depinrev import process

REPO_ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, **env: str) -> str:
    full = {k: v for k, v in os.environ.items()
            if k not in ("OPENBLAS_NUM_THREADS", "ARROW_DEFAULT_MEMORY_POOL")}
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env={**full, **env},
                          capture_output=True, text=True, timeout=120, check=True)
    assert proc.stderr == "", proc.stderr
    return proc.stdout.strip()


def test_start_sets_one_blas_thread_and_arrows_system_pool_unless_the_user_chose(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "")  # restored after the test, set or not
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
    process.start()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert os.environ["ARROW_DEFAULT_MEMORY_POOL"] == "jemalloc"  # the user's choice


def test_arrows_c_plus_plus_pool_is_the_system_allocator_in_an_entry_points_process():
    code = (
        "from depinrev import process; process.start()\n"
        "import pyarrow as pa; print(pa.default_memory_pool().backend_name)"
    )
    assert _run(code) == "system"
    # without it, pyarrow's own default (what the Parquet writer's encoders used to take)
    assert _run("import pyarrow as pa; print(pa.default_memory_pool().backend_name)") != "system"


@pytest.mark.parametrize("load_duckdb, frozen", [(False, True), (True, False)])
def test_end_freezes_the_heap_unless_duckdb_would_report_it_as_leaks(load_duckdb, frozen):
    code = (
        ("import duckdb; duckdb.connect().execute('select 1').fetchall()\n" if load_duckdb else "")
        + "import gc; from depinrev import process; process.end(); print(gc.get_freeze_count())"
    )
    count = int(_run(code))  # and nothing on stderr (nanobind's leak report)
    assert (count > 0) is frozen
