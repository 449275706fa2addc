"""Ingest automation: keep network partitions in sync with the configuration, and index
newly finalized blocks of the current day every hour (off by default)."""

from datetime import UTC, datetime

import dagster as dg

from pipelines.ingest.assets import index_lake
from pipelines.ingest.partitions import network_day_key, networks
from pipelines.resources import NetworkConfigResource

ingest_job = dg.define_asset_job("ingest_job", selection=dg.AssetSelection.assets(index_lake))


@dg.sensor(
    name="sync_network_partitions",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a `network` partition for every network in the configuration file.",
)
def sync_network_partitions(
    context: dg.SensorEvaluationContext, network_config: NetworkConfigResource
) -> dg.SensorResult:
    wanted = sorted(network_config.load().networks)
    have = set(context.instance.get_dynamic_partitions(networks.name or "network"))
    new = [n for n in wanted if n not in have]
    if not new:
        return dg.SensorResult(skip_reason="network partitions up to date")
    return dg.SensorResult(dynamic_partitions_requests=[networks.build_add_request(new)])


@dg.schedule(
    name="hourly_ingest",
    cron_schedule="5 * * * *",
    job=ingest_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every hour: index newly finalized blocks of today's partition, every network.",
)
def hourly_ingest(
    context: dg.ScheduleEvaluationContext, network_config: NetworkConfigResource
) -> list[dg.RunRequest]:
    when = context.scheduled_execution_time or datetime.now(UTC)
    day = when.astimezone(UTC).strftime("%Y-%m-%d")
    hour = when.astimezone(UTC).strftime("%Y-%m-%dT%H")
    return [
        dg.RunRequest(run_key=f"{network}:{hour}", partition_key=network_day_key(network, day))
        for network in sorted(network_config.load().networks)
    ]
