"""Warehouse domain: audit, dbt models, quarterly tables, closing."""

import dagster as dg

from pipelines.warehouse.assets import (
    chain_audit,
    quarter_audit,
    quarterly_revenue,
    warehouse_dbt,
)
from pipelines.warehouse.dbt_project import dbt_resource
from pipelines.warehouse.schedules import (
    close_quarter_job,
    quarterly_close,
    quarterly_job,
    rebuild_after_ingest,
    warehouse_job,
)


def definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[chain_audit, warehouse_dbt, quarter_audit, quarterly_revenue],
        jobs=[warehouse_job, quarterly_job, close_quarter_job],
        schedules=[quarterly_close],
        sensors=[rebuild_after_ingest],
        resources={"dbt": dbt_resource()},
    )
