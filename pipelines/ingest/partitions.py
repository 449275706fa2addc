"""Ingest partitions: one per network and UTC day.

Networks are a dynamic dimension filled from the configuration file (by the
`sync_network_partitions` sensor or `depinrev ui`/`backfill`), so adding a network to the
YAML needs no code change.

Days run from HISTORY_START to today, or to the day named by DEPINREV_LAST_DAY, read once
when the code location loads: `depinrev ui` and `depinrev demo` set it when every configured
network is a devnet stand-in (a simulated history that ends), to the last day indexed (the
day of the last final block), so the UI does not offer hundreds of days no chain has. The day
dimension is shared by the networks of a code location (Dagster has no per-key window), so
a location holding a live network keeps days up to today.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta

import dagster as dg

HISTORY_START = "2025-01-01"
LAST_DAY_ENV = "DEPINREV_LAST_DAY"


def day_partitions(last_day: str | None) -> dg.DailyPartitionsDefinition:
    """UTC days from HISTORY_START through `last_day` (YYYY-MM-DD), or through today if None.

    Today is a partition while it runs (`end_offset=1`; Dagster's default stops at yesterday):
    its run indexes the day's blocks final so far, which is what `hourly_ingest` asks for
    every hour, and a later run of the same day resumes from them."""
    if not last_day:
        return dg.DailyPartitionsDefinition(start_date=HISTORY_START, timezone="UTC", end_offset=1)
    end = date.fromisoformat(last_day) + timedelta(days=1)  # end_date is exclusive
    return dg.DailyPartitionsDefinition(
        start_date=HISTORY_START, end_date=end.isoformat(), timezone="UTC"
    )


networks = dg.DynamicPartitionsDefinition(name="network")
days = day_partitions(os.environ.get(LAST_DAY_ENV))
network_day = dg.MultiPartitionsDefinition({"network": networks, "day": days})


def network_day_key(network: str, day: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"network": network, "day": day})


def day_window(day: str) -> tuple[int, int]:
    """[start, end) of a UTC day as unix seconds."""
    start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    return int(start.timestamp()), int(start.timestamp()) + 86_400
