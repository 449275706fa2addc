"""Ingest partitions: one per network and UTC day.

Networks are a dynamic dimension filled from the configuration file (by the
`sync_network_partitions` sensor or `depinrev ui`/`backfill`), so adding a network to the
YAML needs no code change and nothing is read at import time.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

HISTORY_START = "2025-01-01"

networks = dg.DynamicPartitionsDefinition(name="network")
days = dg.DailyPartitionsDefinition(start_date=HISTORY_START, timezone="UTC")
network_day = dg.MultiPartitionsDefinition({"network": networks, "day": days})


def network_day_key(network: str, day: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"network": network, "day": day})


def day_window(day: str) -> tuple[int, int]:
    """[start, end) of a UTC day as unix seconds."""
    start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    return int(start.timestamp()), int(start.timestamp()) + 86_400
