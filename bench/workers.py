"""Measured workloads of the bench, each run in its own process by `bench/run.py`.

    python bench/workers.py <kind> <spec.json>

prints one JSON line with what it did (logs, rows, seconds of the measured section). The
parent reads the process's peak RSS with wait4(2). Kinds:

- `ceiling`: the raw eth_getLogs ceiling: the same requests the indexer makes, N in flight,
  bodies read (and optionally orjson-parsed) but nothing else done with them;
- `depinrev`: `indexers.evm.extract.index_network` for every network into a fresh lake;
- `warehouse`: `warehouse.build.build_warehouse` (dbt build + audit) on a lake;
- `query`: the audited quarterly-revenue table read from the DuckDB file;
- `synth`: write a synthetic lake of N revenue events with `Lake.write_chunk` (for the
  warehouse scaling run);
- `touch`: change one amount in one lake file (one changed partition for an incremental
  build).
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
from pathlib import Path
from queue import Queue
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _config(spec: dict[str, Any]) -> Any:
    """The bench config with the bench's chunk size and concurrency on every EVM chain."""
    from depinrev.config import ChainConfig, load_config

    cfg = load_config(spec["config"])
    chains = dict(cfg.chains)
    for name, ch in chains.items():
        if isinstance(ch, ChainConfig):
            upd: dict[str, Any] = {}
            if spec.get("chunk_size"):
                upd["chunk_size"] = int(spec["chunk_size"])
            if spec.get("concurrency"):
                upd["concurrency"] = int(spec["concurrency"])
            if spec.get("memory_budget_mib"):
                upd["memory_budget_mib"] = int(spec["memory_budget_mib"])
            chains[name] = ch.model_copy(update=upd)
    return cfg.model_copy(update={"chains": chains})


def ceiling(spec: dict[str, Any]) -> dict[str, Any]:
    """POST every request, `in_flight` at a time; count logs by scanning the bytes."""
    import httpx
    import orjson

    parse = bool(spec.get("parse"))
    work: Queue[tuple[str, bytes] | None] = Queue()
    for url, params in spec["requests"]:
        body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": params})
        work.put((url, body))
    n = int(spec.get("in_flight", 4))
    for _ in range(n):
        work.put(None)
    totals = {"logs": 0, "bytes": 0, "requests": 0}
    lock = threading.Lock()

    def run() -> None:
        with httpx.Client(timeout=120.0, headers={"content-type": "application/json"}) as c:
            while (item := work.get()) is not None:
                resp = c.post(item[0], content=item[1])
                body = resp.content
                # parse: what a client pays to get Python objects; else just count.
                logs = len(orjson.loads(body)["result"]) if parse else body.count(b'"logIndex"')
                with lock:
                    totals["logs"] += logs
                    totals["bytes"] += len(body)
                    totals["requests"] += 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {**totals, "seconds": time.perf_counter() - t0}


def depinrev(spec: dict[str, Any]) -> dict[str, Any]:
    from depinrev.lake import Lake
    from indexers.dispatch import index_network

    cfg = _config(spec)
    lake_dir = Path(spec["lake"])
    out: dict[str, Any] = {"logs": 0, "rows": 0, "chunks": 0, "passes": []}
    t0 = time.perf_counter()
    for _ in range(int(spec.get("passes", 1))):
        tp = time.perf_counter()
        shutil.rmtree(lake_dir, ignore_errors=True)
        lake = Lake(lake_dir)
        logs = 0
        for network in spec["networks"]:
            rep = index_network(
                cfg,
                network,
                lake,
                from_block=spec.get("from_block"),
                to_block=spec.get("to_block"),
                overwrite=True,
            )
            for c in rep.chains:
                logs += c.logs
                out["rows"] += sum(c.rows.values())
                out["chunks"] += c.chunks_indexed
        out["logs"] += logs
        out["passes"].append({"logs": logs, "seconds": time.perf_counter() - tp})
    out["seconds"] = time.perf_counter() - t0
    return out


def warehouse(spec: dict[str, Any]) -> dict[str, Any]:
    from warehouse.build import build_warehouse

    db = Path(spec["db"])
    if spec.get("fresh", True):  # else an incremental build on the warehouse already there
        for p in [db, db.with_suffix(".duckdb.wal")]:
            p.unlink(missing_ok=True)
        shutil.rmtree(db.parent / "dbt_work", ignore_errors=True)
    t0 = time.perf_counter()
    res = build_warehouse(spec["config"], spec["lake"], db, audit=bool(spec.get("audit", True)))
    secs = time.perf_counter() - t0
    return {
        "seconds": secs,
        "ok": res.ok,
        "dbt_success": res.dbt.success,
        "problems": res.problems()[:10],
    }


def query(spec: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    from warehouse.reports import report_rows

    times = []
    rows: list[dict[str, Any]] = []
    for _ in range(int(spec.get("repeat", 5))):
        t0 = time.perf_counter()
        with duckdb.connect(spec["db"], read_only=True) as con:
            rows = report_rows(con)
        times.append(time.perf_counter() - t0)
    times.sort()
    return {"seconds": times[len(times) // 2], "first_seconds": times[0], "rows": len(rows)}


def touch(spec: dict[str, Any]) -> dict[str, Any]:
    """Change one amount in the first lake file of `dataset` holding rows (a re-indexed chunk,
    as after a reorg), so the next incremental build has exactly one changed partition."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from depinrev.lake import Lake

    lake = Lake(spec["lake"])
    for c in lake.chunk_files(spec["dataset"]):
        t = pq.read_table(c.path)
        if t.num_rows:
            strs = t.column("amount_str").to_pylist()
            strs[0] = str(int(strs[0]) + 1)
            i = t.schema.get_field_index("amount_str")
            t = t.set_column(i, t.schema.field(i), pa.array(strs, pa.string()))
            i = t.schema.get_field_index("amount")
            t = t.set_column(i, t.schema.field(i), pa.array(strs).cast(t.schema.field(i).type))
            lake.write_chunk(c.dataset, c.network, c.chain_id, c.start, c.end, t)
            return {"file": str(c.path.relative_to(lake.root)), "rows": t.num_rows}
    raise SystemExit(f"no {spec['dataset']} file with rows in {spec['lake']}")


def synth(spec: dict[str, Any]) -> dict[str, Any]:
    """A lake of `events` valid revenue rows in the lake's exact schemas, plus blocks files.

    Rows are spread over the sources' real revenue event kinds and over 2025, chunk by
    chunk like the indexer writes them; amounts are exact decimals with their strings.
    """
    from bench.synth import write_synthetic_lake

    t0 = time.perf_counter()
    n = write_synthetic_lake(_config(spec), Path(spec["lake"]), int(spec["events"]))
    return {"rows": n, "seconds": time.perf_counter() - t0}


KINDS = {
    "ceiling": ceiling,
    "depinrev": depinrev,
    "warehouse": warehouse,
    "query": query,
    "synth": synth,
    "touch": touch,
}


def main() -> None:
    from depinrev import process

    process.start()  # as the CLI's main does
    kind, spec_path = sys.argv[1], sys.argv[2]
    spec = json.loads(Path(spec_path).read_text())
    result = KINDS[kind](spec)
    print("BENCH-RESULT " + json.dumps(result), flush=True)
    process.end()


if __name__ == "__main__":
    main()
