"""`depinrev demo` through the Dagster definitions, in-process, into a persistent DAGSTER_HOME.

The demo materializes every asset of the code location the way the UI would, so that `make ui`
afterwards shows each asset materialized, with its metadata and its checks' results:

1. `ingest_job`: one run per network over a partition range of days (the caller's first and
   last day), so the range of a network is written and checked in one run. `depinrev demo`
   indexes the whole history first with the indexer (the same files, byte for byte, as the
   ingest asset writes: tests/pipelines/test_materialize.py) and gives the range of the last
   day only: Dagster stores one event per asset and day partition (10 assets x 366 days a
   network), over 0.07 s each with the SQLite storage of a local DAGSTER_HOME, i.e. minutes per
   network for a whole year against about a second for the indexer. The last day's run still
   checks the whole lake's coverage (`block_coverage_contiguous`);
2. `warehouse_job`: the chain audit and the dbt build (models, seeds and tests);
3. `quarterly_job`: one run per quarter of the quarterly table (the quarter's audit, then
   behind its blocking check the audited table and the HTML report).

Runs go to the instance in `Paths.dagster_home` (the one `depinrev ui` opens) and log only
warnings; each step is reported back to the caller with counts and seconds.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from depinrev.quarters import Quarter
from pipelines.definitions import with_resources
from pipelines.ingest.partitions import network_day_key
from pipelines.launcher import Paths, prepare_instance
from pipelines.resources import LakeResource, NetworkConfigResource, WarehouseResource

# Runs log errors only: the demo prints its own lines.
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


class PipelineRunError(RuntimeError):
    """A run of the demo failed; the message names the run, its failed steps and their errors."""


@dataclass
class StepRun:
    """One Dagster run of the demo: what it materialized and how its checks came out."""

    name: str
    run_id: str
    seconds: float
    materialized: int
    rows: int
    checks_passed: int
    checks_failed: list[str] = field(default_factory=list)

    def line(self) -> str:
        rate = f", {self.rows / self.seconds:,.0f} rows/s" if self.rows and self.seconds else ""
        failed = f", FAILED: {'; '.join(self.checks_failed)}" if self.checks_failed else ""
        return (
            f"{self.name}: {self.materialized} asset materializations"
            + (f", {self.rows:,} rows" if self.rows else "")
            + f", {self.checks_passed} checks passed{failed}; {self.seconds:.1f} s{rate}"
            + f" (run {self.run_id[:8]})"
        )


def demo_definitions(paths: Paths) -> dg.Definitions:
    """The code location's definitions, bound to the demo's files instead of the variables."""
    return with_resources(
        {
            "network_config": NetworkConfigResource(path=str(paths.config)),
            "lake": LakeResource(uri=str(paths.lake)),
            "warehouse": WarehouseResource(
                db_path=str(paths.warehouse), reported_csv=[str(p) for p in paths.reported]
            ),
        }
    )


def materialize_everything(
    paths: Paths,
    ingest_days: dict[str, tuple[str, str]],
    log: Callable[[str], None],
) -> list[StepRun]:
    """Ingest each network of `ingest_days` over its (first, last) days in one run, build the
    warehouse, then every quarter of the quarterly table; `log` gets a line per run. Raises
    PipelineRunError on a failed run (what ran before it stays materialized)."""
    prepare_instance(paths)
    defs = demo_definitions(paths)
    steps: list[StepRun] = []
    with dg.DagsterInstance.from_config(str(paths.dagster_home)) as instance:
        ingest = defs.resolve_job_def("ingest_job")
        for network, (first_day, last_day) in sorted(ingest_days.items()):
            tags = {
                "dagster/asset_partition_range_start": str(network_day_key(network, first_day)),
                "dagster/asset_partition_range_end": str(network_day_key(network, last_day)),
            }
            steps.append(_run(ingest, instance, f"ingest {network} {first_day}..{last_day}",
                              log, tags=tags))
        steps.append(_run(defs.resolve_job_def("warehouse_job"), instance, "warehouse", log))
        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            labels = [r[0] for r in con.execute(
                "select distinct quarter from marts.fct_network_revenue_quarterly order by 1"
            ).fetchall()]
        quarterly = defs.resolve_job_def("quarterly_job")
        for label in labels:
            steps.append(_run(quarterly, instance, f"quarterly {label}", log,
                              partition_key=Quarter.parse(label).key))
    return steps


def _run(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    name: str,
    log: Callable[[str], None],
    **kwargs: Any,
) -> StepRun:
    t0 = time.monotonic()
    # dagster-dbt echoes dbt's log on stdout and Dagster's loggers reach the root logger: both
    # go to DAGSTER_HOME/demo.log (the runs' events are in the instance, shown by the UI)
    dagster_logger = logging.getLogger("dagster")
    propagate = dagster_logger.propagate
    dagster_logger.propagate = False
    log_path = Path(instance.root_directory) / "demo.log"
    try:
        with log_path.open("a") as sink, contextlib.redirect_stdout(sink):
            result = job.execute_in_process(
                run_config=QUIET, instance=instance, raise_on_error=False, **kwargs
            )
    finally:
        dagster_logger.propagate = propagate
    mats = result.get_asset_materialization_events()
    rows = 0
    for event in mats:
        mat = event.materialization
        if mat is not None and mat.asset_key.path[0] == "lake":
            value = mat.metadata.get("dagster/row_count")
            rows += int(getattr(value, "value", 0) or 0)
    checks = result.get_asset_check_evaluations()
    step = StepRun(
        name=name,
        run_id=result.run_id,
        seconds=time.monotonic() - t0,
        materialized=len(mats),
        rows=rows,
        checks_passed=sum(1 for c in checks if c.passed),
        checks_failed=[
            f"{c.asset_key.to_user_string()}:{c.check_name}" for c in checks if not c.passed
        ],
    )
    log(step.line())
    if not result.success:
        errors = [
            f"{e.step_key}: {err.message.strip() if (err := e.step_failure_data.error) else '?'}"
            for e in result.get_step_failure_events()
        ]
        raise PipelineRunError(
            f"{name}: Dagster run {result.run_id} failed: "
            + ("; ".join(errors) or "no step failed (see the run in the UI)")
        )
    return step
