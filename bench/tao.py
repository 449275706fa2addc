"""Bittensor volume: a synthetic Finney year, indexed from a replay node and built.

Finney has ~190,000 fee events a day (~70M a year) in ~7,200 blocks: ~26 fee-paying extrinsics
a block. Every generated block has 26 signed extrinsics (TransactionFeePaid with its Withdraw,
Deposit and ExtrinsicSuccess; one in eight a stake with its swap fee in TAO, one in eight an
unstake with its swap fee in alpha; ~104 event records a block, the real blocks in
shared/fixtures have 166-182), SCALE-encoded with the real spec-393 metadata by
tests/support/subtensor_node.py. The replay node (`YearChain`, in its own process, so the
peak RSS measured is the indexer's) serves any block of the year without holding it: 16 event
blobs pre-encoded once (block n has template n mod 16), block hashes that carry their number,
extrinsic bytes made from (block, index), over the keep-alive JSON-RPC server of the tests.

Three parts, each printed with what was measured and what is extrapolated:

1. **Indexing** (measured): `--days` days (7,200-block chunks) indexed from the node by the real
   reader (indexers.dispatch.index_network), one day after another in one process; wall, CPU
   and RSS after each day, so a flat throughput and a flat RSS across the range show.
2. **A year-sized lake** (written): the 365 days of the year written directly in the lake's
   exact schema (`synth_day`: the first indexed day's rows with each day's block numbers,
   times, block hashes and extrinsic hashes, which is what the reader writes for it because
   7,200 is a multiple of the 16 templates); every day indexed in part 1 is compared with its
   synthetic twin, and they must be equal.
3. **Warehouse** (measured): the build (dbt + audit against the same node) from scratch on the
   year lake, then one more day indexed from the node by the reader and an incremental build;
   time and peak RSS (bench/launch.py), per million rows.

    uv run python bench/tao.py --days 3 [--year-days 365] [--no-build]
"""

# ruff: noqa: E402  (depinrev.process.start() must run before pyarrow is imported)
from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from depinrev import process

process.start()  # as the CLI does, before pyarrow loads (Arrow's pool, one BLAS thread)

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from chains.substrate import SYSTEM_EVENTS_KEY, compact_encode
from depinrev.config import load_config
from depinrev.lake import Checkpoint, ChunkRecord, Lake
from indexers.dispatch import index_network
from tests.support.jsonrpc_server import JsonRpcServer, RpcFault
from tests.support.subtensor_node import SPEC, Extrinsic, SubtensorChain, write_config

REPO = Path(__file__).resolve().parents[1]
METADATA = REPO.parent / "shared" / "fixtures" / "bittensor" / "finney-metadata-v15-spec393.hex"
CACHE = REPO / "bench" / ".cache" / "tao"
BLOCKS_PER_DAY = 7_200
FEES_PER_BLOCK = 26
TEMPLATES = 16  # divides BLOCKS_PER_DAY: every day has the same events
T0 = 1_735_689_600  # 2025-01-01T00:00:00Z = block 0
ENV = "DEPINREV_BENCH_TAO"
SALT = hashlib.sha256(b"depinrev bench subtensor").hexdigest()[:48]
CHAIN_ID = 900002  # the mainnet file's bittensor chain id
NETWORK = "bittensor"


def bench_hash(n: int) -> str:
    """Block n's hash: a salt and n in 16 decimal digits (so the node needs no table)."""
    return f"0x{SALT}{n:016d}"


def bench_extrinsic(n: int, i: int) -> bytes:
    """Extrinsic i of block n (SCALE bytes with their compact length), unique per (n, i)."""
    body = b"\x84" + n.to_bytes(8, "little") + i.to_bytes(4, "little") + bytes(52)
    return compact_encode(len(body)) + body


def day_range(d: int) -> tuple[int, int]:
    """Day d (from 1) of the year: blocks d x 7,200 to d x 7,200 + 7,199 (one chunk)."""
    return d * BLOCKS_PER_DAY, (d + 1) * BLOCKS_PER_DAY - 1


def _block_schedule(n: int) -> list[Extrinsic]:
    out = []
    for i in range(FEES_PER_BLOCK):
        if i % 8 == 0:
            out.append(Extrinsic("stake", f"s{n}-{i}", 250_000 + i, netuid=i % 64 + 1,
                                 amount=10**9, stake_fee=500_000 + i))
        elif i % 8 == 4:
            out.append(Extrinsic("unstake", f"u{n}-{i}", 260_000 + i, netuid=i % 64 + 1,
                                 amount=4 * 10**10, stake_fee=2_016_000 + i))
        else:
            out.append(Extrinsic("fee", f"f{n}-{i}", 100_000 + i, tip=i % 3))
    return out


class YearChain(SubtensorChain):
    """A Subtensor node serving blocks 0..head of one runtime (spec 393) without storing them:
    System.Events of block n is template n mod 16 (events carry no block number), its hash
    and extrinsic bytes are made from n."""

    def __post_init__(self) -> None:
        from tests.support.scale_encode import Registry

        self.registries = {SPEC: Registry(self.metadata)}
        self.old_metadata = self.metadata
        self.recycled = {}
        self.templates: list[tuple[str, int]] = []
        for k in range(TEMPLATES):
            events, exts = SubtensorChain._generate(self, k)
            self.templates.append(("0x" + events.hex(), len(exts)))

    def _number(self, h: str) -> int:
        if len(h) == 66 and h.startswith("0x" + SALT) and h[-16:].isdigit():
            n = int(h[-16:])
            if n <= self.head:
                return n
        raise RpcFault(-32000, f"Unknown block {h}")

    def _header(self, n: int) -> dict[str, Any]:
        logs = []
        if n > 0:
            slot = self.time_of(n) // 12
            logs = ["0x06" + b"aura".hex() + "20" + slot.to_bytes(8, "little").hex()]
        return {
            "parentHash": bench_hash(n - 1) if n > 0 else "0x" + "00" * 32,
            "number": hex(n),
            "stateRoot": "0x" + "11" * 32,
            "extrinsicsRoot": "0x" + "22" * 32,
            "digest": {"logs": logs},
        }

    def rpc_chain_getBlockHash(self, n: int | None = None) -> str | None:
        n = self.head if n is None else int(n)
        return bench_hash(n) if 0 <= n <= self.head else None

    def rpc_chain_getFinalizedHead(self) -> str:
        return bench_hash(self.head)

    def rpc_chain_getBlock(self, h: str) -> dict[str, Any]:
        n = self._number(h)
        count = self.templates[n % TEMPLATES][1]
        exts = ["0x" + bench_extrinsic(n, i).hex() for i in range(count)]
        return {"block": {"header": self._header(n), "extrinsics": exts}, "justifications": None}

    def rpc_state_getStorage(self, key: str, h: str) -> str | None:
        n = self._state(h)
        if key == SYSTEM_EVENTS_KEY:
            return self.templates[n % TEMPLATES][0]
        return None  # no registrations: every counter reads as its default


def _time_of(n: int) -> int:
    return T0 + 12 * n


def _serve(head: int, q: Any, stop: Any) -> None:
    metadata = bytes.fromhex(METADATA.read_text().strip()[2:])
    schedule = {k: _block_schedule(k) for k in range(TEMPLATES)}
    chain = YearChain(metadata, head, schedule, _time_of, upgrade_at=0)
    server = JsonRpcServer(chain)
    server.dispatch = _quiet_dispatch(chain)  # type: ignore[method-assign]
    with server:
        q.put(server.url)
        stop.wait()


def _quiet_dispatch(chain: YearChain) -> Any:
    """JsonRpcServer.dispatch without its call log (a year of calls would fill the node)."""
    def dispatch(req: dict[str, Any]) -> dict[str, Any]:
        fn = getattr(chain, f"rpc_{req.get('method', '')}", None)
        try:
            if fn is None:
                raise RpcFault(-32601, f"Method not found: {req.get('method')}")
            return {"jsonrpc": "2.0", "id": req.get("id"), "result": fn(*(req.get("params") or []))}
        except RpcFault as exc:
            return {"jsonrpc": "2.0", "id": req.get("id"),
                    "error": {"code": exc.code, "message": exc.message}}
    return dispatch


def _config(root: Path, url: str) -> Path:
    os.environ[ENV] = url
    cfg = write_config(root / "networks.yaml", REPO / "config" / "networks.mainnet.yaml", ENV,
                       root / "metadata-cache")
    doc = yaml.safe_load(cfg.read_text())
    doc["chains"]["bittensor"].update(chunk_size=BLOCKS_PER_DAY, genesis_hash=bench_hash(0))
    doc["networks"]["bittensor"]["sources"][0]["start_block"] = BLOCKS_PER_DAY
    cfg.write_text(yaml.safe_dump(doc, sort_keys=False))
    return cfg


def _rss_now() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _rss_range(days: list[dict[str, Any]]) -> str:
    if len(days) <= 10:
        return str([mib(d["rss_now"]) for d in days])
    return f"{mib(min(d['rss_now'] for d in days))} to {mib(max(d['rss_now'] for d in days))}"


def mib(b: float) -> str:
    return f"{b / 2**20:,.0f} MiB"


# --- part 1: indexing from the replay ---------------------------------------------------------
def index_days(cfg_path: Path, lake: Path, days: int) -> list[dict[str, Any]]:
    config = load_config(cfg_path)
    out = []
    for d in range(1, days + 1):
        lo, hi = day_range(d)
        cpu0, t0 = time.process_time(), time.perf_counter()
        report = index_network(config, NETWORK, lake, from_block=lo, to_block=hi)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        (rep,) = report.chains
        rows = sum(rep.rows.values())
        r = {"day": d, "blocks": hi - lo + 1, "records": rep.logs, "rows": rows, "wall": wall,
             "cpu": cpu, "rss_now": _rss_now(),
             "rss_peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
             "requests": rep.rpc.get("requests", 0)}
        out.append(r)
        print(f"day {d}: {r['blocks']} blocks, {rep.logs:,} records, {rows:,} rows in "
              f"{wall:.1f} s wall / {cpu:.1f} s CPU ({r['blocks'] / wall:,.0f} blocks/s, "
              f"{rows / wall:,.0f} rows/s); RSS now {mib(r['rss_now'])}, peak "
              f"{mib(r['rss_peak'])}", flush=True)
    return out


# --- part 2: the year-sized lake ------------------------------------------------------------
def _hash_column(numbers: pa.Array) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(numbers, pa.string()), width=16, padding="0")
    return pc.binary_join_element_wise(pa.scalar("0x" + SALT), digits, "")


class DaySynth:
    """Day d's lake chunk from day 1's (as the reader wrote it): shifted block numbers and
    times, the node's block hashes, each row's extrinsic hash recomputed."""

    def __init__(self, lake: Lake) -> None:
        lo, hi = day_range(1)
        self.events = pq.read_table(lake.chunk_path("tao_events", NETWORK, CHAIN_ID, lo, hi))
        self.blocks = pq.read_table(lake.chunk_path("blocks", NETWORK, CHAIN_ID, lo, hi))
        self.schema_events = self.events.schema
        self.schema_blocks = self.blocks.schema
        self.tx_index = self.events["extrinsic_index"].to_pylist()
        self.ev_offsets = (pc.subtract(self.events["block_number"], lo)).to_numpy()

    def day(self, d: int) -> tuple[pa.Table, pa.Table]:
        shift = (d - 1) * BLOCKS_PER_DAY
        ev = self.events
        nums = pc.add(ev["block_number"], shift)
        base = day_range(d)[0]
        tx = [
            "0x" + hashlib.blake2b(bench_extrinsic(base + int(off), i), digest_size=32).hexdigest()
            if i is not None else None
            for off, i in zip(self.ev_offsets, self.tx_index, strict=True)
        ]
        tx_col = pc.if_else(pc.is_null(ev["extrinsic_index"]), ev["transaction_hash"],
                            pa.array(tx, pa.string()))
        ev = (ev.set_column(ev.schema.get_field_index("block_number"), "block_number", nums)
              .set_column(ev.schema.get_field_index("block_hash"), "block_hash",
                          _hash_column(nums.combine_chunks()))
              .set_column(ev.schema.get_field_index("block_timestamp"), "block_timestamp",
                          pc.add(ev["block_timestamp"], shift * 12))
              .set_column(ev.schema.get_field_index("transaction_hash"), "transaction_hash",
                          tx_col))
        bl = self.blocks
        bnums = pc.add(bl["block_number"], shift).combine_chunks()
        bl = (bl.set_column(bl.schema.get_field_index("block_number"), "block_number", bnums)
              .set_column(bl.schema.get_field_index("block_hash"), "block_hash",
                          _hash_column(bnums))
              .set_column(bl.schema.get_field_index("parent_hash"), "parent_hash",
                          _hash_column(pc.subtract(bnums, 1)))
              .set_column(bl.schema.get_field_index("block_timestamp"), "block_timestamp",
                          pc.add(bl["block_timestamp"], shift * 12)))
        return ev.cast(self.schema_events), bl.cast(self.schema_blocks)


def write_year(indexed: Lake, year: Path, days: int) -> dict[str, Any]:
    shutil.rmtree(year, ignore_errors=True)
    out = Lake(year)
    synth = DaySynth(indexed)
    cp = Checkpoint(network=NETWORK, chain_id=CHAIN_ID)
    rows = 0
    t0 = time.perf_counter()
    for d in range(1, days + 1):
        lo, hi = day_range(d)
        ev, bl = synth.day(d)
        out.write_chunk("tao_events", NETWORK, CHAIN_ID, lo, hi, ev)
        out.write_chunk("blocks", NETWORK, CHAIN_ID, lo, hi, bl)
        cp.put(ChunkRecord(lo, hi, bench_hash(lo), bench_hash(hi), {"tao_events": ev.num_rows}))
        rows += ev.num_rows
    out.save_checkpoint(cp)
    size = sum(p.stat().st_size for p in year.rglob("*.parquet"))
    return {"days": days, "rows": rows, "seconds": time.perf_counter() - t0, "bytes": size}


def check_synth_equals_indexed(indexed: Lake, days: int) -> None:
    """Every indexed day equals its synthetic twin, row for row (the year is what the reader
    would write)."""
    synth = DaySynth(indexed)
    for d in range(1, days + 1):
        lo, hi = day_range(d)
        ev, bl = synth.day(d)
        got_ev = pq.read_table(indexed.chunk_path("tao_events", NETWORK, CHAIN_ID, lo, hi))
        got_bl = pq.read_table(indexed.chunk_path("blocks", NETWORK, CHAIN_ID, lo, hi))
        if not (got_ev.equals(ev) and got_bl.equals(bl)):
            raise SystemExit(f"day {d}: the synthetic chunk differs from the indexed one")
    print(f"synthetic days 1-{days} equal the indexed ones, row for row", flush=True)


# --- part 3: warehouse ----------------------------------------------------------------------
def measure_build(cfg: Path, lake: Path, db: Path, fresh: bool, name: str) -> dict[str, Any]:
    CACHE.mkdir(parents=True, exist_ok=True)
    spec = CACHE / f"spec-{name}.json"
    spec.write_text(json.dumps({"config": str(cfg), "lake": str(lake), "db": str(db),
                                "fresh": fresh}))
    launcher = [sys.executable, "-S", str(REPO / "bench" / "launch.py")]
    worker = [sys.executable, str(REPO / "bench" / "workers.py"), "warehouse", str(spec)]
    t0 = time.perf_counter()
    with (CACHE / f"log-{name}.txt").open("w") as log:
        proc = subprocess.run([*launcher, *worker], stdout=subprocess.PIPE, stderr=log,
                              check=False)
    wall = time.perf_counter() - t0
    out = proc.stdout.decode()
    res = [ln for ln in out.splitlines() if ln.startswith("BENCH-RESULT ")]
    rss = [int(ln.split()[1]) for ln in out.splitlines() if ln.startswith("BENCH-RSS ")]
    cpu = [float(ln.split()[1]) for ln in out.splitlines() if ln.startswith("BENCH-CPU ")]
    if proc.returncode != 0 or not res:
        raise SystemExit(f"{name} failed ({proc.returncode}); see {CACHE / f'log-{name}.txt'}")
    result = json.loads(res[-1].removeprefix("BENCH-RESULT "))
    return {**result, "wall": wall, "rss": rss[-1] if rss else 0, "cpu": cpu[-1] if cpu else 0.0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=3, help="days indexed from the replay node")
    ap.add_argument("--year-days", type=int, default=365, help="days of the year-sized lake")
    ap.add_argument("--no-build", action="store_true", help="index only (part 1)")
    ap.add_argument("--work", type=Path, default=CACHE / "run",
                    help="working folder (emptied first): lakes, warehouse, config")
    args = ap.parse_args()
    if args.days < 1:
        raise SystemExit("--days: at least 1 (the year is made from the first indexed day)")

    year_days = max(args.year_days, args.days)
    head = day_range(year_days + 1)[1]  # the year and one day more (the incremental day)
    ctx = mp.get_context("fork")
    q, stop = ctx.Queue(), ctx.Event()
    node = ctx.Process(target=_serve, args=(head, q, stop), daemon=True)
    node.start()
    url = q.get(timeout=600)
    root = args.work
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    try:
        cfg = _config(root, url)
        print(f"node up: blocks 0-{head:,}, 16 templates", flush=True)
        days = index_days(cfg, root / "lake", args.days)
        steady = days[1:] or days
        wall = sum(d["wall"] for d in steady)
        rows = sum(d["rows"] for d in steady)
        blocks = sum(d["blocks"] for d in steady)
        cpu = sum(d["cpu"] for d in steady)
        print(f"indexing, measured over days {steady[0]['day']}-{steady[-1]['day']}: "
              f"{blocks / wall:,.0f} blocks/s, {rows / wall:,.0f} rows/s, "
              f"{wall / rows * 1e6:.1f} s wall and {cpu / rows * 1e6:.1f} s CPU per million "
              f"rows; RSS after each day {_rss_range(days)}, peak "
              f"{mib(max(d['rss_peak'] for d in days))}", flush=True)
        year_blocks = 365 * BLOCKS_PER_DAY
        print(f"a year ({year_blocks:,} blocks) at this rate (extrapolated): "
              f"{year_blocks / (blocks / wall) / 3600:.2f} h", flush=True)
        if args.no_build:
            return
        lake = Lake(root / "lake")
        check_synth_equals_indexed(lake, args.days)
        wy = write_year(lake, root / "year", year_days)
        print(f"year lake: {wy['days']} days, {wy['rows']:,} rows, {mib(wy['bytes'])} "
              f"({wy['bytes'] / wy['rows'] * 1e6 / 2**20:.1f} MiB per million rows), written "
              f"in {wy['seconds']:.0f} s", flush=True)
        db = root / "wh" / "warehouse.duckdb"
        db.parent.mkdir()
        b1 = measure_build(cfg, root / "year", db, True, "tao-year-build")
        m = wy["rows"] / 1e6
        print(f"build from scratch: {b1['seconds']:.0f} s ({b1['seconds'] / m:.1f} s per "
              f"million rows), {b1['cpu']:.0f} s CPU, peak RSS {mib(b1['rss'])}, ok={b1['ok']} "
              f"{b1['problems'][:3] if not b1['ok'] else ''}", flush=True)
        lo, hi = day_range(year_days + 1)
        t0 = time.perf_counter()
        index_network(load_config(cfg), NETWORK, root / "year", from_block=lo, to_block=hi)
        print(f"day {year_days + 1} indexed into the year lake in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        b2 = measure_build(cfg, root / "year", db, False, "tao-year-incremental")
        print(f"incremental build, one day added: {b2['seconds']:.0f} s, {b2['cpu']:.0f} s CPU, "
              f"peak RSS "
              f"{mib(b2['rss'])}, ok={b2['ok']} {b2['problems'][:3] if not b2['ok'] else ''}",
              flush=True)
    finally:
        stop.set()
        node.join(timeout=10)


if __name__ == "__main__":
    main()
