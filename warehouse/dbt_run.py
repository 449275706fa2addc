"""Run `dbt build` on the repo's dbt project against a given warehouse file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
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


# The dbt of the environment that runs depinrev, beside its interpreter (.venv/bin/dbt): found
# without PATH, so `.venv/bin/depinrev build` works from any shell.
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"

DbtProgress = Callable[[int, int], None]
"""(nodes finished, nodes selected), after each model, test, seed or snapshot."""


def run_dbt_build(
    db_path: Path,
    work_dir: Path,
    select: list[str] | None = None,
    *,
    full_refresh: bool = False,
    command: Literal["build", "test"] = "build",
    progress: DbtProgress | None = None,
) -> DbtResult:
    """`dbt build` in a child process; target and log paths live beside the warehouse file.

    `command="test"` runs only the data tests of the selection on the tables as they are
    (unlike build, a failing test does not skip the tests of downstream models).

    Incremental models (fct_revenue_events) only process changed lake files unless
    `full_refresh` (the caller decides: warehouse.build.start_build).

    A child process, not dbtRunner in-process: dbt-duckdb keeps its DuckDB connection open
    for the life of the process, which would lock the file against the audit, closing and
    read-only readers that follow in the caller's process. Its log comes as JSON lines, read
    as they arrive: the node counts for `progress`, the error messages for DbtResult.error.
    """
    env = dict(os.environ)
    env["DEPINREV_WAREHOUSE"] = str(db_path.resolve())
    # no telemetry: the machine is offline and dbt would wait on the blocked host
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    env["PYTHONUNBUFFERED"] = "1"  # each log line when it happens, not per pipe buffer
    work_dir.mkdir(parents=True, exist_ok=True)
    target = work_dir / "target"
    results_file = target / "run_results.json"
    results_file.unlink(missing_ok=True)
    args = [
        str(DBT_EXECUTABLE),
        command,
        "--project-dir", str(DBT_DIR),
        "--profiles-dir", str(DBT_DIR),
        "--target-path", str(target),
        "--log-path", str(work_dir / "logs"),
        "--log-format", "json",
        "--no-use-colors",
    ]
    if select:
        args += ["--select", *select]
    if full_refresh:
        args.append("--full-refresh")
    log = _DbtLog(progress)
    with subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        for line in proc.stdout:
            log.read(line)
        stderr = proc.stderr.read()
    returncode = proc.wait()
    nodes = node_results(results_file)
    error = None
    if returncode != 0 and not any(n.status in ("fail", "error") for n in nodes):
        error = ("\n".join(log.errors) + "\n" + stderr).strip()[-4000:] or (
            f"dbt exited {returncode}")
    return DbtResult(success=returncode == 0, nodes=nodes, error=error)


class _DbtLog:
    """dbt's JSON log lines: counts finished nodes and keeps the error-level messages."""

    def __init__(self, progress: DbtProgress | None) -> None:
        self.progress = progress
        self.total = 0
        self.finished: set[str] = set()
        self.errors: list[str] = []

    def read(self, line: str) -> None:
        try:
            event = json.loads(line)
            info, data = event["info"], event["data"]
        except (ValueError, KeyError, TypeError):
            if line.strip():  # not a log event (a crash before logging started): keep it
                self.errors.append(line.rstrip())
            return
        if info.get("level") == "error" and info.get("msg"):
            self.errors.append(str(info["msg"]))
        total = data.get("total") or data.get("num_models")
        if isinstance(total, int) and total > self.total:
            self.total = total
        node = data.get("node_info") or {}
        # LogModelResult, LogTestResult (data and unit tests), LogSeedResult, ...: one a node
        done = str(info.get("name", "")).endswith("Result") and "status" in data
        if done and node.get("unique_id") and node["unique_id"] not in self.finished:
            self.finished.add(node["unique_id"])
            if self.progress is not None:
                self.progress(len(self.finished), max(self.total, len(self.finished)))


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
