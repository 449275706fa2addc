"""Warehouse automation: rebuild after each successful ingest run, close each quarter.
Both are off by default (turn them on in the UI: Automation)."""

from datetime import UTC, datetime

import dagster as dg
import duckdb
from pydantic import Field

from depinrev.quarters import Quarter
from pipelines.ingest.schedules import ingest_job
from pipelines.resources import WarehouseResource
from pipelines.warehouse.assets import chain_audit, quarter_audit, quarterly_revenue, warehouse_dbt
from warehouse.closing import CloseError, close_quarter

warehouse_job = dg.define_asset_job(
    "warehouse_job",
    selection=dg.AssetSelection.assets(chain_audit, warehouse_dbt),
    description="Audit the lake against the chains, then dbt build the warehouse.",
)

quarterly_job = dg.define_asset_job(
    "quarterly_job",
    selection=dg.AssetSelection.assets(quarter_audit, quarterly_revenue),
    description="A quarter's audit evidence, then (if its audit passes) its quarterly table and "
    "the HTML report.",
)


@dg.run_status_sensor(
    name="rebuild_after_ingest",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_job],
    request_job=warehouse_job,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="After each successful ingest run, rebuild the warehouse (audit + dbt).",
)
def rebuild_after_ingest(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=f"after-{context.dagster_run.run_id}")


class CloseQuarterConfig(dg.Config):
    quarter: str = ""  # e.g. 2025Q3
    networks: list[str] = Field(default_factory=list)
    force: bool = False
    note: str | None = None


@dg.op(pool="duckdb", description="Freeze a quarter's figures as a new closed version.")
def close_quarter_op(
    context: dg.OpExecutionContext, config: CloseQuarterConfig, warehouse: WarehouseResource
) -> None:
    if not config.quarter:
        raise dg.Failure("close_quarter_job needs a quarter, e.g. 2025Q3")
    with duckdb.connect(warehouse.db_path) as con:
        try:
            done = close_quarter(
                con, config.quarter, config.networks or None, force=config.force, note=config.note
            )
        except CloseError as exc:
            raise dg.Failure(str(exc)) from exc
    for network, version in done:
        context.log.info(f"closed {network} {config.quarter} as version {version}")


@dg.job(description="Close a quarter: freeze its audited figures (later changes are restatements).")
def close_quarter_job() -> None:
    close_quarter_op()


@dg.schedule(
    name="quarterly_close",
    cron_schedule="0 6 15 1,4,7,10 *",
    job=close_quarter_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="On the 15th day after a quarter ends, close it (refused if its audit fails).",
)
def quarterly_close(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    when = context.scheduled_execution_time or datetime.now(UTC)
    quarter = Quarter.of_date(when).previous().label
    return dg.RunRequest(
        run_key=f"close-{quarter}",
        run_config={"ops": {"close_quarter_op": {"config": {"quarter": quarter}}}},
    )
