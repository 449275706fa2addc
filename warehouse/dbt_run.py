"""Run `dbt build` on the repo's dbt project against a given warehouse file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

DBT_DIR = Path(__file__).resolve().parent.parent / "dbt"


@dataclass(frozen=True)
class DbtNodeResult:
    unique_id: str
    resource_type: str
    status: str
    failures: int | None
    message: str | None


@dataclass
class DbtResult:
    success: bool
    nodes: list[DbtNodeResult] = field(default_factory=list)
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        """Deterministic digest for manifests: counts by status and every non-passing node."""
        counts: dict[str, int] = {}
        for n in self.nodes:
            key = f"{n.resource_type}:{n.status}"
            counts[key] = counts.get(key, 0) + 1
        return {
            "success": self.success,
            "counts": dict(sorted(counts.items())),
            "not_passing": sorted(
                f"{n.unique_id}: {n.status} ({n.failures} failing rows)"
                for n in self.nodes
                if n.status not in ("pass", "success")
            ),
            "error": self.error,
        }

    @property
    def failed_tests(self) -> list[DbtNodeResult]:
        return [n for n in self.nodes if n.status in ("fail", "error")]


def run_dbt_build(
    db_path: Path,
    work_dir: Path,
    select: list[str] | None = None,
    *,
    full_refresh: bool = False,
    command: Literal["build", "test"] = "build",
) -> DbtResult:
    """`dbt build` in a child process; target and log paths live beside the warehouse file.

    `command="test"` runs only the data tests of the selection on the tables as they are
    (unlike build, a failing test does not skip the tests of downstream models).

    Incremental models (fct_revenue_events) only process changed lake files unless
    `full_refresh` (the caller decides: warehouse.build.start_build).

    A child process, not dbtRunner in-process: dbt-duckdb keeps its DuckDB connection open
    for the life of the process, which would lock the file against the audit, closing and
    read-only readers that follow in the caller's process.
    """
    env = dict(os.environ)
    env["DEPINREV_WAREHOUSE"] = str(db_path.resolve())
    # no telemetry: the machine is offline and dbt would wait on the blocked host
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    work_dir.mkdir(parents=True, exist_ok=True)
    target = work_dir / "target"
    results_file = target / "run_results.json"
    results_file.unlink(missing_ok=True)
    args = [
        sys.executable, "-c", "from dbt.cli.main import cli; cli()",
        command,
        "--project-dir", str(DBT_DIR),
        "--profiles-dir", str(DBT_DIR),
        "--target-path", str(target),
        "--log-path", str(work_dir / "logs"),
        "--quiet",
    ]
    if select:
        args += ["--select", *select]
    if full_refresh:
        args.append("--full-refresh")
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    nodes = node_results(results_file)
    error = None
    if proc.returncode != 0 and not any(n.status in ("fail", "error") for n in nodes):
        error = (proc.stdout + proc.stderr).strip()[-4000:] or f"dbt exited {proc.returncode}"
    return DbtResult(success=proc.returncode == 0, nodes=nodes, error=error)


def node_results(run_results: Path) -> list[DbtNodeResult]:
    """The per-node outcome of a dbt invocation from its run_results.json (none if absent)."""
    nodes: list[DbtNodeResult] = []
    if run_results.exists():
        for r in json.loads(run_results.read_text()).get("results", []):
            uid = str(r["unique_id"])
            nodes.append(
                DbtNodeResult(
                    unique_id=uid,
                    resource_type=uid.split(".", 1)[0],
                    status=str(r["status"]),
                    failures=r.get("failures"),
                    message=r.get("message"),
                )
            )
    return sorted(nodes, key=lambda n: n.unique_id)
