"""The benchmark: `make bench` (or `uv run python bench/run.py`).

Builds or reuses a deterministic devnet (bench/devnet.yaml: the devnet networks with every
token Transfer indexed, anvil on 127.0.0.1:29545/29546, state cached under bench/.cache),
then on that one chain, alternating the tools run by run, measures in separate processes:

(a) the raw eth_getLogs ceiling (the indexer's own requests, bodies read, not parsed; and
    orjson-parsed, for reference), (b) cryo decoding the same events into Parquet (PyPI cryo
    in an isolated venv), (c) depinrev's indexer into its lake, (d) the warehouse build
    (dbt + audit) on that lake, (e) the quarterly-revenue query on the DuckDB file.

The dense single-event chain (bench/dense.py, bench/dense.yaml: one ERC-20 with 80 Transfer
logs in each of 3,000 blocks) is measured the same way for (a), (b) and (c), alternating too.
Ratios against cryo are taken from the same round's runs (paired), whole process (start to
exit, imports included) and inside the measured call, and their median reported.

Then the memory runs (a third of the range, the whole range, the whole range three times in
one process). The warehouse on a synthetic 10M-event lake is bench/warehouse_builds.py. Prints
the figures and writes
docs/benchmarks.md; `--results-json` also writes them as JSON (the smoke test of `make test`
runs the whole bench on a tiny chain that way).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CACHE = REPO / "bench" / ".cache"
CONFIG = REPO / "bench" / "devnet.yaml"
DENSE_CONFIG = REPO / "bench" / "dense.yaml"
CRYO_VENV = CACHE / "cryo-venv"
CRYO_VERSION = "0.3.2"
# Below the ephemeral port range (32768+), so a TIME-WAIT socket never holds them.
_BASE = int(os.environ.get("BENCH_PORT", "29545"))
PORTS = {
    "DEPINREV_RPC_ETHEREUM_DEVNET": _BASE,
    "DEPINREV_RPC_ARBITRUM_DEVNET": _BASE + 1,
    "DEPINREV_RPC_DENSE_DEVNET": _BASE + 2,
}
DOC = REPO / "docs" / "benchmarks.md"


@dataclass
class Run:
    result: dict[str, Any]
    rss: int  # bytes
    wall: float
    cpu: float = 0.0  # the measured process's user + system seconds
    node_cpu: float = 0.0  # the anvil nodes' user + system seconds meanwhile


# The devnet's anvil processes, whose CPU time each measurement also reads (set by main).
NODE_PIDS: list[int] = []


def node_cpu_seconds() -> float:
    """User + system CPU seconds the anvil nodes have used so far (/proc/<pid>/stat)."""
    total = 0
    for pid in NODE_PIDS:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class Series:
    runs: list[Run] = field(default_factory=list)

    def med(self, key: str) -> float:
        return statistics.median(float(r.result[key]) for r in self.runs)

    @property
    def rss(self) -> int:
        return max(r.rss for r in self.runs)

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def node_cpu(self) -> float:
        return statistics.median(r.node_cpu for r in self.runs)


def say(msg: str) -> None:
    print(msg, flush=True)


def measure(cmd: list[str], spec: dict[str, Any], name: str) -> Run:
    """Run one measured process via bench/launch.py; peak RSS is wait4's ru_maxrss of it."""
    spec_path = CACHE / f"spec-{name}.json"
    spec_path.write_text(json.dumps(spec))
    log_path = CACHE / f"log-{name}.txt"
    t0 = time.perf_counter()
    n0 = node_cpu_seconds()
    with log_path.open("w") as log:
        launcher = [sys.executable, "-S", str(REPO / "bench" / "launch.py")]
        proc = subprocess.run(
            [*launcher, *cmd, str(spec_path)], stdout=subprocess.PIPE, stderr=log, check=False
        )
    wall = time.perf_counter() - t0
    node = node_cpu_seconds() - n0
    out = proc.stdout.decode()
    lines = [ln for ln in out.splitlines() if ln.startswith("BENCH-RESULT ")]
    rss = [int(ln.split()[1]) for ln in out.splitlines() if ln.startswith("BENCH-RSS ")]
    if proc.returncode != 0 or not lines or not rss:
        tail = log_path.read_text()[-3000:]
        raise RuntimeError(f"{name} failed ({proc.returncode}):\n{out[-2000:]}\n{tail}")
    cpu = [float(ln.split()[1]) for ln in out.splitlines() if ln.startswith("BENCH-CPU ")]
    result = json.loads(lines[-1].removeprefix("BENCH-RESULT "))
    return Run(result, rss[-1], wall, cpu[-1] if cpu else 0.0, node)


def py_worker(kind: str) -> list[str]:
    return [sys.executable, str(REPO / "bench" / "workers.py"), kind]


def ensure_cryo() -> Path:
    py = CRYO_VENV / "bin" / "python"
    probe = [str(py), "-c", "import cryo, pyarrow"]
    if py.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return py
    say(f"installing cryo {CRYO_VERSION} into {CRYO_VENV}")
    # `uv run` exports its own path as UV; the target interpreter is named explicitly, since
    # inside `uv run` a bare `uv pip install` installs into the base interpreter instead.
    uv = os.environ.get("UV") or shutil.which("uv")
    cmd = [uv] if uv else [sys.executable, "-m", "uv"]
    subprocess.run([*cmd, "venv", "-q", "-p", sys.executable, str(CRYO_VENV)], check=True)
    subprocess.run(
        [*cmd, "pip", "install", "-q", "--python", str(py),
         f"cryo=={CRYO_VERSION}", "pyarrow", "polars"],
        check=True,
    )
    if subprocess.run(probe, capture_output=True).returncode != 0:
        raise SystemExit(f"cryo is not importable from {py} after installing it")
    return py


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem = int(line.split()[1]) // (1024 * 1024)
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem} GiB RAM, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def plan(cfg: Any, state: Any, chunk_size: int) -> dict[str, Any]:
    """The requests the indexer makes, cryo's jobs, and the block range of each chain.

    `state` is a DevnetState, or anything whose `chains[name]` has `head_block` and
    `rpc_url` (the dense chain's)."""
    from depinrev.config import SourceKind
    from indexers.chunked import aligned_range, plan_chunks
    from indexers.evm.events import EVENTS, TRANSFER
    from indexers.evm.extract import log_filters

    ranges: dict[str, tuple[int, int]] = {}
    requests: list[tuple[str, list[dict[str, Any]]]] = []
    for name in cfg.networks:
        for chain_name in cfg.chains_of(name):
            ch = cfg.chain(chain_name)
            srcs = [s for s in cfg.network(name).sources if s.chain == chain_name]
            final = state.chains[chain_name].head_block - ch.finality_depth
            rng = aligned_range(min(s.start_block for s in srcs), final, chunk_size, None, None)
            assert rng is not None
            ranges[chain_name] = rng
            url = state.chains[chain_name].rpc_url
            span = min(ch.max_blocks_per_request, chunk_size)
            for s, e in plan_chunks(rng[0], rng[1], chunk_size):
                for flt in log_filters(srcs):
                    for a in range(s, e + 1, span):
                        b = min(e, a + span - 1)
                        requests.append((url, [{**flt, "fromBlock": hex(a), "toBlock": hex(b)}]))
    groups: dict[tuple[str, str], tuple[str, set[str]]] = {}
    for net in cfg.networks.values():
        for src in net.sources:
            if src.kind is SourceKind.erc20:
                specs = [TRANSFER]
            else:
                specs = [spec for spec, _ in EVENTS[src.kind]]
            for spec in specs:
                key = (src.chain, spec.signature)
                groups.setdefault(key, (spec.topic0, set()))[1].add(src.address)
    jobs = [
        {
            "rpc": state.chains[chain].rpc_url,
            "start": ranges[chain][0],
            "end": ranges[chain][1],
            "contracts": sorted(addrs),
            "signature": _event_abi(sig),
            "topic0": topic0,
        }
        for (chain, sig), (topic0, addrs) in sorted(groups.items())
    ]
    return {"ranges": ranges, "requests": requests, "cryo_jobs": jobs}


def _event_abi(signature: str) -> str:
    """cryo wants a human-readable event with indexed markers and names."""
    from indexers.evm.events import EVENTS

    for specs in EVENTS.values():
        for spec, _ in specs:
            if spec.signature == signature:
                args = ", ".join(
                    f"{p.type}{' indexed' if p.indexed else ''} {p.column}" for p in spec.params
                )
                return f"{spec.name}({args})"
    raise KeyError(signature)


def paired(tool: Series, other: Series, *, whole: bool) -> float | None:
    """The median over rounds of tool's throughput / other's in the same round (the two ran
    one after the other, so load from other processes falls on both alike): whole process
    (start to exit) or inside the measured call."""
    n = min(len(tool.runs), len(other.runs))
    if n == 0:
        return None

    def rate(r: Run) -> float:
        return float(r.result["logs"]) / (r.wall if whole else float(r.result["seconds"]))

    return statistics.median(rate(tool.runs[i]) / rate(other.runs[i]) for i in range(n))


def _series_json(ser: Series) -> dict[str, Any]:
    return {
        "logs": ser.med("logs") if "logs" in ser.runs[0].result else None,
        "seconds": ser.med("seconds"),
        "wall": ser.wall,
        "rss": ser.rss,
        "cpu": ser.cpu,
        "node_cpu": ser.node_cpu,
    }


def fmt_rate(x: float) -> str:
    return f"{x / 1000:,.1f}k"


def mib(b: int) -> str:
    return f"{b / 2**20:,.0f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=42.0, help="devnet scale (42: ~1.1M logs)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--chunk-size", type=int, default=128, help="blocks per chunk (bench chain)")
    ap.add_argument("--concurrency", type=int, default=4, help="chunks / requests in flight")
    ap.add_argument(
        "--memory-budget-mib", type=int, default=0,
        help="EVM chains' memory_budget_mib for the indexer (default: the config's)",
    )
    ap.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    ap.add_argument("--data-dir", type=Path, default=CACHE / "devnet", help="devnet dir")
    ap.add_argument(
        "--only", default="", help="comma list of a,b,c,d,e,mem,dense (default: all)"
    )
    ap.add_argument("--dense-blocks", type=int, default=3_000, help="dense chain: token blocks")
    ap.add_argument("--dense-per-block", type=int, default=80, help="dense chain: logs a block")
    ap.add_argument("--dense-other", type=int, default=600, help="dense chain: other blocks")
    ap.add_argument(
        "--dense-chunk-size", type=int, default=200, help="blocks per chunk (dense chain)"
    )
    ap.add_argument("--cache-dir", type=Path, default=CACHE, help="bench cache (chains, lakes)")
    ap.add_argument(
        "--ports", default="", help="eth,arb,dense anvil ports (default: BENCH_PORT + 0, 1, 2)"
    )
    ap.add_argument("--results-json", type=Path, help="also write the figures here as JSON")
    ap.add_argument(
        "--dense-only", action="store_true",
        help="the dense chain alone: (a), (b), (c) of --only on it, no devnet (prints, no doc)",
    )
    args = ap.parse_args()
    if args.dense_only:
        args.no_doc = True  # the doc's table is the whole bench's
    only = (
        set(args.only.split(","))
        if args.only
        else {"a", "b", "c", "d", "e", "mem", "dense"}
    )
    _set_cache(args.cache_dir)
    if args.ports:
        for k, port in zip(PORTS, args.ports.split(","), strict=True):
            PORTS[k] = int(port)
    if args.data_dir == REPO / "bench" / ".cache" / "devnet":
        args.data_dir = CACHE / "devnet"
    if args.dense_only:
        only = (only & {"a", "b", "c"}) | {"dense"}

    from depinrev.config import load_config
    from devnet import api as devnet_api
    from devnet import devnet_down, devnet_up

    # A restored bench chain answers only once anvil has read its dump (1.9 GB of JSON for
    # ethereum-devnet): over a minute on a loaded machine, past start_anvil's usual 30 s wait.
    devnet_api.START_TIMEOUT = max(devnet_api.START_TIMEOUT, 600.0)
    os.environ.update({k: f"http://127.0.0.1:{p}" for k, p in PORTS.items()})
    os.environ.setdefault("DO_NOT_TRACK", "1")
    cryo_py = ensure_cryo() if "b" in only else None
    data = args.data_dir
    t0 = time.perf_counter()
    state = None
    if not args.dense_only:
        # Latest-state cache: a dump with every block's state is too big at this scale (see
        # devnet_up). The run that replays keeps its chains, with their history, for the audit.
        state = devnet_up(
            CONFIG, data, seed=7, scale=args.scale, use_cache=True, keep_history=False, log=say
        )
        say(f"devnet ready ({state.source}) in {time.perf_counter() - t0:.1f}s")
        NODE_PIDS[:] = [c.pid for c in state.chains.values() if c.pid is not None]
    dense = None
    try:
        if "dense" in only:
            from bench.dense import dense_up

            t0 = time.perf_counter()
            dense = dense_up(
                CACHE / "dense", PORTS["DEPINREV_RPC_DENSE_DEVNET"], blocks=args.dense_blocks,
                per_block=args.dense_per_block, other_blocks=args.dense_other,
            )
            NODE_PIDS.append(dense.pid)  # its CPU counts with the nodes' in every measurement
            say(f"dense chain ready ({dense.source}, {dense.head} blocks) in "
                f"{time.perf_counter() - t0:.1f}s")
        results = _bench(args, only, load_config(CONFIG), state, cryo_py, dense)
    finally:
        if dense is not None:
            from devnet.api import stop_pid

            stop_pid(dense.pid)
        if state is not None:
            devnet_down(data)
    _report(args, results)


def _set_cache(path: Path) -> None:
    global CACHE, CRYO_VENV
    CACHE = path.resolve()
    CRYO_VENV = CACHE / "cryo-venv"
    CACHE.mkdir(parents=True, exist_ok=True)


@dataclass
class _Head:
    head_block: int
    rpc_url: str


@dataclass
class _DenseState:
    chains: dict[str, _Head]


def _bench(
    args: argparse.Namespace,
    only: set[str],
    cfg: Any,
    state: Any,
    cryo_py: Path | None,
    dense: Any = None,
) -> dict[str, Any]:
    from depinrev.config import load_config

    # Without the devnet (--dense-only) the rounds measure the dense chain alone.
    p = plan(cfg, state, args.chunk_size) if state is not None else None
    dp: dict[str, Any] | None = None
    if dense is not None:
        dense_cfg = load_config(DENSE_CONFIG)
        dstate = _DenseState({"dense-devnet": _Head(dense.head, dense.url)})
        dp = plan(dense_cfg, dstate, args.dense_chunk_size)
    networks = list(cfg.networks)
    lake = CACHE / "lake"
    db = CACHE / "wh" / "warehouse.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    base = {
        "config": str(CONFIG), "chunk_size": args.chunk_size, "concurrency": args.concurrency,
        "memory_budget_mib": args.memory_budget_mib,
    }
    keys = ("ceiling", "ceiling_parsed", "cryo", "depinrev", "warehouse", "query",
            "dense_ceiling", "dense_cryo", "dense_depinrev")  # fmt: skip
    series: dict[str, Series] = {k: Series() for k in keys}
    dense_base = {
        "config": str(DENSE_CONFIG),
        "chunk_size": args.dense_chunk_size,
        "concurrency": args.concurrency,
    }
    for rep in range(args.reps):
        say(f"--- run {rep + 1}/{args.reps}")
        if "a" in only and p is not None:
            for key, parse in (("ceiling", False), ("ceiling_parsed", True)):
                spec = {"requests": p["requests"], "in_flight": args.concurrency, "parse": parse}
                r = measure(py_worker("ceiling"), spec, key)
                series[key].runs.append(r)
                say(f"{key}: {r.result['logs']} logs in {r.result['seconds']:.2f}s, {mib(r.rss)}")
        if "b" in only and cryo_py is not None and p is not None:
            spec = {
                "jobs": p["cryo_jobs"],
                "output_dir": str(CACHE / "cryo-out"),
                "chunk_size": args.chunk_size,
            }
            r = measure([str(cryo_py), str(REPO / "bench" / "cryo_worker.py")], spec, "cryo")
            series["cryo"].runs.append(r)
            say(f"cryo: {r.result['logs']} logs in {r.result['seconds']:.2f}s, {mib(r.rss)}")
        if "c" in only and p is not None:
            spec = {**base, "lake": str(lake), "networks": networks}
            r = measure(py_worker("depinrev"), spec, "depinrev")
            series["depinrev"].runs.append(r)
            say(f"depinrev: {r.result['logs']} logs in {r.result['seconds']:.2f}s, {mib(r.rss)}")
        if dp is not None:
            _dense_round(args, only, dp, dense_base, series, cryo_py)
        if "d" in only:
            spec = {"config": str(CONFIG), "lake": str(lake), "db": str(db)}
            r = measure(py_worker("warehouse"), spec, "warehouse")
            series["warehouse"].runs.append(r)
            say(f"warehouse: ok={r.result['ok']} in {r.result['seconds']:.1f}s, {mib(r.rss)}")
            for problem in r.result.get("problems", [])[:5]:
                say(f"  warehouse problem: {problem}")
        if "e" in only:
            r = measure(py_worker("query"), {"db": str(db)}, "query")
            series["query"].runs.append(r)
            say(f"query: {r.result['rows']} rows in {r.result['seconds'] * 1000:.0f} ms")

    mem: dict[str, Run] = {}
    if "mem" in only and p is not None:
        rng = p["ranges"]["ethereum-devnet"]
        third = rng[0] + (rng[1] - rng[0]) // 3
        variants = {
            "third": {"to_block": third},
            "full": {},
            "full_x3": {"passes": 3},
        }
        for key, extra in variants.items():
            spec = {**base, "lake": str(CACHE / "lake-mem"), "networks": networks, **extra}
            mem[key] = measure(py_worker("depinrev"), spec, f"mem-{key}")
            say(f"memory {key}: {mem[key].result['logs']} logs, peak RSS {mib(mem[key].rss)}")

    return {
        "series": series, "mem": mem, "plan": p, "state": state,
        "dense_plan": dp, "dense": dense,
    }  # fmt: skip


def _dense_round(
    args: argparse.Namespace,
    only: set[str],
    dp: dict[str, Any],
    base: dict[str, Any],
    series: dict[str, Series],
    cryo_py: Path | None,
) -> None:
    """One round on the dense chain: the ceiling, cryo (one job, its default chunk size, as
    a user would call it) and depinrev, one after another in their own processes."""
    if "a" in only:
        spec = {"requests": dp["requests"], "in_flight": args.concurrency, "parse": False}
        r = measure(py_worker("ceiling"), spec, "dense-ceiling")
        series["dense_ceiling"].runs.append(r)
        say(f"dense ceiling: {r.result['logs']} logs in {r.result['seconds']:.2f}s")
    if "b" in only and cryo_py is not None:
        spec = {"jobs": dp["cryo_jobs"], "output_dir": str(CACHE / "cryo-out-dense")}
        r = measure([str(cryo_py), str(REPO / "bench" / "cryo_worker.py")], spec, "dense-cryo")
        series["dense_cryo"].runs.append(r)
        say(f"dense cryo: {r.result['logs']} logs in {r.result['seconds']:.2f}s "
            f"(process {r.wall:.2f}s), {mib(r.rss)}")
    if "c" in only:
        spec = {**base, "lake": str(CACHE / "lake-dense"), "networks": ["dense-devnet"]}
        r = measure(py_worker("depinrev"), spec, "dense-depinrev")
        series["dense_depinrev"].runs.append(r)
        say(f"dense depinrev: {r.result['logs']} logs in {r.result['seconds']:.2f}s "
            f"(process {r.wall:.2f}s), {mib(r.rss)}")


def _report(args: argparse.Namespace, res: dict[str, Any]) -> None:
    s: dict[str, Series] = res["series"]
    lines: list[str] = []

    def rate(key: str) -> float | None:
        if not s[key].runs:
            return None
        return s[key].med("logs") / s[key].med("seconds")

    rows = []
    for key, label in [
        ("ceiling", "(a) raw eth_getLogs ceiling (bodies read, not parsed)"),
        ("ceiling_parsed", "(a') eth_getLogs + orjson parse (reference)"),
        ("cryo", "(b) cryo 0.3.2, decoded events -> Parquet"),
        ("depinrev", "(c) depinrev indexer, decoded -> lake (Parquet)"),
        ("dense_ceiling", "dense chain (a) raw eth_getLogs ceiling"),
        ("dense_cryo", "dense chain (b) cryo 0.3.2, one job, its default chunks"),
        ("dense_depinrev", "dense chain (c) depinrev indexer"),
    ]:
        r = rate(key)
        if r is None:
            continue
        ser = s[key]
        rows.append(
            f"| {label} | {int(ser.med('logs')):,} | {ser.med('seconds'):.2f} | {fmt_rate(r)} "
            f"| {mib(ser.rss)} | {ser.wall:.1f} | {ser.cpu:.1f} | {ser.node_cpu:.1f} |"
        )
    lines += [
        "| measure | logs | seconds (median) | logs/s | peak RSS | process wall s "
        "| process CPU s | anvil CPU s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
    ]
    ratios = []
    figures: dict[str, Any] = {k: _series_json(v) for k, v in s.items() if v.runs}
    cores = os.cpu_count() or 1
    for prefix, chain, target in (("", "multi-event devnet", 1.0), ("dense_", "dense chain", 0.8)):
        whole = paired(s[f"{prefix}depinrev"], s[f"{prefix}cryo"], whole=True)
        call = paired(s[f"{prefix}depinrev"], s[f"{prefix}cryo"], whole=False)
        if whole is not None and call is not None:
            figures[f"{prefix}vs_cryo"] = {"whole_process": whole, "in_call": call}
            ratios.append(
                f"{chain}: depinrev / cryo whole process (start to exit) = **{whole:.2f}** "
                f"(target >= {target}; {'met' if whole >= target else 'not met'}); inside "
                f"the measured call {call:.2f} (medians of the paired rounds' ratios)"
            )
        d, c = s[f"{prefix}depinrev"], s[f"{prefix}ceiling"]
        ceil = paired(d, c, whole=False)
        if ceil is None:
            continue
        figures[f"{prefix}vs_ceiling"] = ceil
        ratios.append(
            f"{chain}: depinrev / raw ceiling = **{ceil:.2f}** (target >= 0.6; "
            f"{'met' if ceil >= 0.6 else 'not met'}). CPU accounting (the tool and anvil share "
            f"{cores} cores): the ceiling run used {c.cpu:.1f} s of its own CPU and "
            f"{c.node_cpu:.1f} s of anvil's; depinrev used {d.cpu:.1f} s and {d.node_cpu:.1f} s,"
            f" so its wall time cannot fall below ({d.cpu:.1f} + {d.node_cpu:.1f}) / {cores} = "
            f"{(d.cpu + d.node_cpu) / cores:.1f} s (process wall {d.wall:.1f} s, ceiling "
            f"{c.med('seconds'):.1f} s) unless it spends less CPU"
        )
    if s["warehouse"].runs:
        w = s["warehouse"]
        ratios.append(
            f"(d) warehouse build (dbt + audit) on that lake: {w.med('seconds'):.1f} s median, "
            f"peak RSS {mib(w.rss)}, ok={all(r.result['ok'] for r in w.runs)}"
        )
    if s["query"].runs:
        q = s["query"]
        ratios.append(
            f"(e) quarterly-revenue query on the DuckDB file (connect + query): "
            f"{q.med('seconds') * 1000:.0f} ms median, {int(q.med('rows'))} rows"
        )
    if s["depinrev"].runs and s["warehouse"].runs:
        demo = s["depinrev"].med("seconds") + s["warehouse"].med("seconds")
        ratios.append(f"index + build + audit of the 1M-log devnet: {demo:.1f} s (target < 60 s)")
    mem: dict[str, Run] = res["mem"]
    if mem:
        worst = max(v.rss for v in mem.values())
        ratios.append(
            "peak RSS of indexing by range (target < 512 MiB; "
            + ("met" if worst < 512 * 2**20 else "not met")
            + "): "
            + ", ".join(
                f"{k}: {int(v.result['logs']):,} logs -> {mib(v.rss)}" for k, v in mem.items()
            )
        )
    if mem:
        figures["mem"] = {
            k: {"logs": v.result["logs"], "rss": v.rss, "wall": v.wall, "cpu": v.cpu}
            for k, v in mem.items()
        }
    text = "\n".join(lines + [""] + [f"- {r}" for r in ratios])
    say("\n" + text)
    if args.results_json is not None:
        args.results_json.write_text(json.dumps(figures, indent=1))
        say(f"wrote {args.results_json}")
    if not args.no_doc:
        _write_doc(args, res, text)


def _write_doc(args: argparse.Namespace, res: dict[str, Any], table: str) -> None:
    cmd = "make bench" + (
        f"  # = uv run python bench/run.py --scale {args.scale:g} --reps {args.reps} "
        f"--chunk-size {args.chunk_size} --concurrency {args.concurrency}"
    )
    state = res["state"]
    heads = ", ".join(f"{k}: {c.head_block} blocks" for k, c in state.chains.items())
    cryo_cols = ""
    if res["series"]["cryo"].runs:
        cryo_cols = ", ".join(res["series"]["cryo"].runs[-1].result.get("columns", []))
    generated = RESULTS_TEMPLATE.format(
        machine=machine(),
        cmd=cmd,
        when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        scale=f"{args.scale:g}",
        heads=heads,
        chain_source=(
            "replayed in this run, so the audit in (d) reconciles against past blocks."
            if state.source == "replay"
            else "restored from the bench cache (latest state only), so the audit in (d) "
            "cannot read past blocks and reports its reconciliation as errors."
        ),
        reps=args.reps,
        table=table,
        requests=len(res["plan"]["requests"]),
        cryo_jobs=len(res["plan"]["cryo_jobs"]),
        cryo_cols=cryo_cols,
        chunk=args.chunk_size,
        conc=args.concurrency,
        dense=(
            f"`bench/dense.yaml` ({res['dense'].head:,} blocks, {res['dense'].source}; "
            f"{res['dense'].logs_a:,} Transfer logs of the indexed token, {args.dense_blocks:,} "
            f"blocks x {args.dense_per_block} after {args.dense_other} blocks of another "
            f"token's), depinrev in chunks of {args.dense_chunk_size} blocks, {args.concurrency}"
            " in flight; cryo one `freeze(\"logs\", contract=[token], event_signature=...)` job "
            "with its default chunk size."
            if res.get("dense") is not None
            else "not measured in this run."
        ),
    )
    text = DOC.read_text() if DOC.exists() else ""
    start, end = "<!-- bench:results:start -->", "<!-- bench:results:end -->"
    if start in text and end in text:
        text = text[: text.index(start)] + start + "\n" + generated + text[text.index(end) :]
    else:
        text = f"# Benchmarks\n\n{start}\n{generated}{end}\n"
    DOC.write_text(text)
    say(f"wrote {DOC}")


RESULTS_TEMPLATE = """\
Last run: {when}, on {machine}.

Command: `{cmd}`

Chain: the bench devnet (`bench/devnet.yaml`, seed 7, scale {scale}; {heads}), anvil on
127.0.0.1 sharing the cores with the measured process; {chain_source}
Medians of {reps} alternating runs; peak RSS is the largest of the runs (wait4 `ru_maxrss`
of the measured process).
Chunks of {chunk} blocks, {conc} in flight; {requests} eth_getLogs requests per pass;
cryo ran {cryo_jobs} `freeze("logs", event_signature=...)` jobs (one per chain and event).
Dense chain: {dense}

{table}

cryo's output columns: {cryo_cols}.
"""


if __name__ == "__main__":
    main()
