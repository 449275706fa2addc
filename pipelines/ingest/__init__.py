"""Ingest domain: chains into the Parquet lake."""

import dagster as dg

from pipelines.ingest.assets import index_lake
from pipelines.ingest.schedules import hourly_ingest, ingest_job, sync_network_partitions


def definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[index_lake],
        jobs=[ingest_job],
        schedules=[hourly_ingest],
        sensors=[sync_network_partitions],
    )
