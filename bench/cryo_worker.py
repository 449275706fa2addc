"""cryo (PyPI `cryo`, run from the bench's isolated venv): decode the bench's events to Parquet.

    bench/.cache/cryo-venv/bin/python bench/cryo_worker.py <spec.json>

One `cryo.freeze("logs", event_signature=...)` per (chain, event signature) with the
contracts that emit it, over the same block range the indexer covers; prints one JSON line.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any


def main() -> None:
    import cryo
    import pyarrow.parquet as pq

    spec: dict[str, Any] = json.loads(Path(sys.argv[1]).read_text())
    out = Path(spec["output_dir"])
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    for i, job in enumerate(spec["jobs"]):
        d = out / f"{i:02d}"
        d.mkdir(parents=True)
        kwargs: dict[str, Any] = {
            "rpc": job["rpc"],
            "blocks": [f"{job['start']}:{job['end'] + 1}"],
            "contract": job["contracts"],
            "event_signature": job["signature"],
            "output_dir": str(d),
            "verbose": False,
        }
        if spec.get("chunk_size"):  # else cryo's own default, as a user would call it
            kwargs["chunk_size"] = spec["chunk_size"]
        if not spec.get("decode", True):
            kwargs.pop("event_signature")
            kwargs["topic0"] = [job["topic0"]]
        kwargs.update(spec.get("extra", {}))
        cryo.freeze("logs", **kwargs)
    seconds = time.perf_counter() - t0
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in out.rglob("*.parquet"))
    files = list(out.rglob("*.parquet"))
    cols = sorted(pq.ParquetFile(files[0]).schema_arrow.names) if files else []
    print(
        "BENCH-RESULT "
        + json.dumps({"logs": rows, "seconds": seconds, "files": len(files), "columns": cols}),
        flush=True,
    )


if __name__ == "__main__":
    main()
