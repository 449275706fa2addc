"""Warehouse bench: builds from scratch and with nothing changed, on the devnet and on a
synthetic 10M-event lake. Run alone or by `make bench`:

    python3 -m uv run python bench/warehouse_builds.py [--events 10000000] [--reps 3]

1. The devnet of `make demo` (config/networks.devnet.yaml, seed 7, scale 1) on free ports,
   indexed into a fresh lake, the warehouse built from scratch (audit included), then built
   again `--reps` times with nothing changed (median).
2. The synthetic lake of bench/synth.py (cached in bench/.cache/lake-synth), the warehouse
   built from scratch, again with nothing changed (`--reps`, median), then after one lake file
   was rewritten with one amount changed; the quarterly query. Its audit runs against the
   devnet above (same chain ids): the synthetic block hashes fail the chain checks, so the run
   measures the work, not the figures.

Every build is its own process (bench/launch.py): peak RSS is wait4's ru_maxrss, which
counts the dbt child too. Results go between the bench:warehouse markers of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.run import CACHE, CONFIG, DOC, NODE_PIDS, Run, machine, measure, py_worker, say  # noqa: E402

DEVNET_CONFIG = REPO / "config" / "networks.devnet.yaml"
START, END = "<!-- bench:warehouse:start -->", "<!-- bench:warehouse:end -->"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _mib(b: int) -> str:
    return f"{b / 2**20:,.0f} MiB"


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=10_000_000, help="synthetic lake events")
    ap.add_argument("--reps", type=int, default=3, help="no-change builds (median)")
    ap.add_argument("--devnet-scale", type=float, default=1.0)
    ap.add_argument("--no-synth", action="store_true", help="only the devnet builds")
    ap.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    args = ap.parse_args()

    from devnet import devnet_down, devnet_up

    work = CACHE / "wh-bench"
    work.mkdir(parents=True, exist_ok=True)
    os.environ.update({
        "DEPINREV_RPC_ETHEREUM_DEVNET": f"http://127.0.0.1:{_free_port()}",
        "DEPINREV_RPC_ARBITRUM_DEVNET": f"http://127.0.0.1:{_free_port()}",
    })
    os.environ.setdefault("DO_NOT_TRACK", "1")
    data = work / "devnet"
    state = devnet_up(DEVNET_CONFIG, data, seed=7, scale=args.devnet_scale, log=say)
    NODE_PIDS[:] = [c.pid for c in state.chains.values() if c.pid is not None]
    loads = [_load()]
    try:
        res = {"devnet": _devnet(args, work), "synth": {} if args.no_synth else
               _synth(args, work)}
        loads.append(_load())
    finally:
        devnet_down(data)
    text = _report(args, res, loads)
    say("\n" + text)
    if not args.no_doc:
        doc = DOC.read_text()
        if START in doc and END in doc:
            doc = doc[: doc.index(START) + len(START)] + "\n" + text + "\n" + doc[doc.index(END):]
        else:
            doc += f"\n## Warehouse builds\n\n{START}\n{text}\n{END}\n"
        DOC.write_text(doc)
        say(f"wrote {DOC}")


def _builds(spec: dict[str, Any], name: str, reps: int) -> tuple[Run, list[Run]]:
    """One build from scratch, then `reps` with nothing changed."""
    scratch = measure(py_worker("warehouse"), spec, f"{name}-scratch")
    say(f"{name} from scratch: {scratch.result['seconds']:.1f} s, {_mib(scratch.rss)}, "
        f"ok={scratch.result['ok']}")
    again = []
    for i in range(reps):
        again.append(measure(py_worker("warehouse"), {**spec, "fresh": False}, f"{name}-again"))
        say(f"{name} nothing changed #{i + 1}: {again[-1].result['seconds']:.2f} s")
    return scratch, again


def _devnet(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    lake = work / "lake-devnet"
    from depinrev.config import load_config

    networks = sorted(load_config(DEVNET_CONFIG).networks)
    index = measure(py_worker("depinrev"), {"config": str(DEVNET_CONFIG), "lake": str(lake),
                                            "networks": networks}, "wh-devnet-index")
    say(f"devnet indexed: {index.result['rows']:,} rows in {index.result['seconds']:.1f} s")
    spec = {"config": str(DEVNET_CONFIG), "lake": str(lake),
            "db": str(work / "wh-devnet" / "warehouse.duckdb")}
    Path(spec["db"]).parent.mkdir(parents=True, exist_ok=True)
    scratch, again = _builds(spec, "devnet", args.reps)
    return {"index": index, "scratch": scratch, "again": again}


def _synth(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    slake = CACHE / "lake-synth"
    stamp = slake / f".events-{args.events}"
    out: dict[str, Any] = {}
    if not stamp.exists():
        shutil.rmtree(slake, ignore_errors=True)
        out["write"] = measure(py_worker("synth"), {"config": str(CONFIG), "lake": str(slake),
                                                    "events": args.events}, "wh-synth-write")
        stamp.touch()
        say(f"synthetic lake written: {out['write'].result['rows']:,} rows")
    else:
        # the touched file of an earlier run is rewritten from its own content: equal rows
        say(f"synthetic lake reused from {slake}")
    db = work / "wh-synth" / "warehouse.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    spec = {"config": str(CONFIG), "lake": str(slake), "db": str(db)}
    out["scratch"], out["again"] = _builds(spec, "synth", args.reps)
    out["touched"] = measure(py_worker("touch"), {"lake": str(slake),
                                                  "dataset": "lease_payments"}, "wh-synth-touch")
    out["one"] = measure(py_worker("warehouse"), {**spec, "fresh": False}, "wh-synth-one")
    say(f"synth one file changed: {out['one'].result['seconds']:.1f} s")
    out["query"] = measure(py_worker("query"), {"db": str(db)}, "wh-synth-query")
    return out


def _med(runs: list[Run]) -> float:
    return statistics.median(float(r.result["seconds"]) for r in runs)


def _report(args: argparse.Namespace, res: dict[str, Any], loads: list[str]) -> str:
    d = res["devnet"]
    lines = [
        f"Last run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, on {machine()}; "
        f"load average (1/5/15 min) {loads[0]} at the start, {loads[-1]} at the end "
        "(the machine is shared with other jobs, so absolute times are inflated).",
        "",
        f"Command: `python3 -m uv run python bench/warehouse_builds.py --events {args.events} "
        f"--reps {args.reps}{' --no-synth' if args.no_synth else ''}` (`make bench` runs it "
        "without --no-synth)",
        "",
        "| build | seconds | peak RSS | process CPU s | target | met |",
        "|---|---:|---:|---:|---|---|",
    ]

    def row(name: str, secs: float, run: Run, target: str, ok: bool | None) -> None:
        met = "" if ok is None else ("yes" if ok else "**no**")
        lines.append(f"| {name} | {secs:.2f} | {_mib(run.rss)} | {run.cpu:.1f} | {target} | "
                     f"{met} |")

    row(f"devnet ({d['index'].result['rows']:,} lake rows), from scratch",
        d["scratch"].result["seconds"], d["scratch"], "", None)
    dm = _med(d["again"])
    row(f"devnet, nothing changed (median of {len(d['again'])})", dm,
        max(d["again"], key=lambda r: r.rss), "< 5 s", dm < 5)
    s = res["synth"]
    if s:
        sc = s["scratch"]
        row(f"synthetic {args.events:,} events, from scratch", sc.result["seconds"], sc,
            "< 120 s, < 2 GiB", sc.result["seconds"] < 120 and sc.rss < 2 * 2**30)
        sm = _med(s["again"])
        row(f"synthetic, nothing changed (median of {len(s['again'])})", sm,
            max(s["again"], key=lambda r: r.rss), "< 10 s", sm < 10)
        row(f"synthetic, one file changed ({s['touched'].result['rows']:,} rows)",
            s["one"].result["seconds"], s["one"], "", None)
        lines.append("")
        lines.append(f"Quarterly query on the synthetic warehouse: "
                     f"{s['query'].result['seconds'] * 1000:.0f} ms. Audit status: devnet "
                     f"ok={d['scratch'].result['ok']}, synthetic ok={sc.result['ok']} "
                     "(its block hashes are synthetic, so its chain checks fail by design).")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
