"""Ingest automation: keep network partitions in sync with the configuration, and index
newly finalized blocks of the current day every hour (off by default)."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from pipelines.ingest.assets import index_lake
from pipelines.ingest.partitions import days, network_day_key, networks
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
) -> list[dg.RunRequest] | dg.SkipReason:
    when = context.scheduled_execution_time or datetime.now(UTC)
    return hourly_requests(when, sorted(network_config.load().networks), days)


def hourly_requests(
    when: datetime, names: list[str], day_def: dg.DailyPartitionsDefinition
) -> list[dg.RunRequest] | dg.SkipReason:
    """A run per network for the day of `when` (UTC), keyed by the hour so each hour runs once;
    a skip, saying why, when that day is not a partition (a devnet location's days end with
    its simulated history: DEPINREV_LAST_DAY)."""
    day = when.astimezone(UTC).strftime("%Y-%m-%d")
    hour = when.astimezone(UTC).strftime("%Y-%m-%dT%H")
    start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    end = day_def.end
    if start < day_def.start or (end is not None and start >= end):
        last = (end - timedelta(days=1)).strftime("%Y-%m-%d") if end is not None else "today"
        return dg.SkipReason(
            f"{day} is not a day partition here (the days run from "
            f"{day_def.start.strftime('%Y-%m-%d')} to {last})"
        )
    return [
        dg.RunRequest(run_key=f"{network}:{hour}", partition_key=network_day_key(network, day))
        for network in names
    ]
