"""The hourly ingest schedule asks for partitions that exist: today's on a live location (the
day dimension includes the running day), none on a devnet location whose days have ended."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from pipelines.ingest.partitions import day_partitions
from pipelines.ingest.schedules import hourly_requests

NOW = datetime(2026, 11, 30, 0, 5, tzinfo=UTC)


def test_a_live_location_runs_todays_partition_for_every_network_once_an_hour():
    live = day_partitions(None)
    assert live.end is None and live.end_offset == 1
    # today is a partition while it runs (Dagster's own clock)
    before = datetime.now(UTC).strftime("%Y-%m-%d")
    last = live.get_last_partition_key()
    assert last in {before, datetime.now(UTC).strftime("%Y-%m-%d")}
    reqs = hourly_requests(NOW, ["akash", "render"], live)
    assert isinstance(reqs, list)
    assert [(r.partition_key, r.run_key) for r in reqs] == [
        (dg.MultiPartitionKey({"network": "akash", "day": "2026-11-30"}), "akash:2026-11-30T00"),
        (dg.MultiPartitionKey({"network": "render", "day": "2026-11-30"}),
         "render:2026-11-30T00"),
    ]


def test_a_location_whose_days_ended_skips_and_says_why():
    ended = day_partitions("2026-01-01")
    skip = hourly_requests(NOW, ["akash-devnet"], ended)
    assert isinstance(skip, dg.SkipReason)
    assert "2026-11-30 is not a day partition" in (skip.skip_message or "")
    assert "2026-01-01" in (skip.skip_message or "")
    # the last day itself still runs
    last = datetime(2026, 1, 1, 12, 5, tzinfo=UTC)
    assert isinstance(hourly_requests(last, ["akash-devnet"], ended), list)


def test_the_schedule_evaluates_against_the_configuration():
    from pipelines.ingest.schedules import hourly_ingest
    from pipelines.resources import NetworkConfigResource
    from tests.support.devnet import DEVNET_CONFIG

    ctx = dg.build_schedule_context(
        scheduled_execution_time=NOW,
        resources={"network_config": NetworkConfigResource(path=str(DEVNET_CONFIG))},
    )
    from depinrev.config import load_config
    from pipelines.ingest.partitions import days

    result = hourly_ingest(ctx)
    # what the loaded location's day dimension says: live (today is a partition) unless this
    # process set DEPINREV_LAST_DAY before `pipelines` was imported
    if days.end is None:
        assert isinstance(result, list)
        assert sorted(r.run_key for r in result) == [
            f"{n}:2026-11-30T00" for n in sorted(load_config(DEVNET_CONFIG).networks)]
        assert {r.partition_key.keys_by_dimension["day"] for r in result} == {"2026-11-30"}
    else:
        assert isinstance(result, dg.SkipReason)
