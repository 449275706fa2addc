"""CLI start-up against `python -c "import duckdb"`: medians of interleaved runs.

    python3 -m uv run python bench/cli_startup.py [--runs 15] [--db data/warehouse.duckdb]

Runs the venv's own executables by full path (what a user's shell runs), each command once per
round so that load from other processes falls on all of them alike; prints the median wall time
of each and its ratio to the `import duckdb` baseline. The targets (docs/benchmarks.md):
`depinrev --help` within 3x the baseline, `depinrev report` within 6x.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--db", type=Path, default=Path("data/warehouse.duckdb"))
    args = ap.parse_args()
    bindir = Path(sys.executable).parent
    cmds = {
        "python -c 'import duckdb'": [str(bindir / "python"), "-c", "import duckdb"],
        "depinrev --help": [str(bindir / "depinrev"), "--help"],
    }
    if args.db.is_file():
        cmds["depinrev report"] = [str(bindir / "depinrev"), "report", "--db", str(args.db)]
    else:
        print(f"(no warehouse at {args.db}: `depinrev report` not measured)")
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(args.runs):
        for name, cmd in cmds.items():
            t = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - t)
    base = statistics.median(times["python -c 'import duckdb'"])
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:28s} median {med * 1000:6.0f} ms  min {min(ts) * 1000:6.0f} ms  "
              f"{med / base:4.1f}x")


if __name__ == "__main__":
    main()
