"""The run queue of the cluster: Dagster's QueuedRunCoordinator, which also tags each ingest
run with the networks whose lake it writes, so that a tag concurrency limit per network
(`depinrev/lake-writer/<network>`, limit 1, written into dagster.yaml by `depinrev cluster up`)
lets one run at a time write a network's lake, whichever worker or host runs its step.

The per-network file lock of the indexer stays behind it, for writers on one host that do not
go through the queue (`depinrev index`, a backfill through `dagster dev`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dagster as dg
from dagster._core.run_coordinator import QueuedRunCoordinator, SubmitRunContext
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    get_multidimensional_partition_tag,
)

from pipelines.ingest.assets import INGEST_DATASETS, lake_key
from pipelines.ingest.partitions import network_day, networks

WRITER_TAG_PREFIX = "depinrev/lake-writer/"
_INGEST_KEYS = frozenset(lake_key(d) for d in INGEST_DATASETS)


def writer_tag(network: str) -> str:
    return f"{WRITER_TAG_PREFIX}{network}"


def networks_of_run(
    tags: Mapping[str, str], known: Sequence[str]
) -> list[str]:
    """The networks whose lake partitions a run writes, from its partition tags.

    A single partition names its network; a range (a backfill's run) spans the networks from its
    start key's to its end key's in the order of the `network` partitions (`known`): Dagster
    makes ranges of a multi-partition along one dimension, so that is one network, or, for a
    range over networks on one day, those between. An unknown name widens to every network.
    """
    one = tags.get(get_multidimensional_partition_tag("network"))
    if one:
        return [one]
    start, end = tags.get(ASSET_PARTITION_RANGE_START_TAG), tags.get(ASSET_PARTITION_RANGE_END_TAG)
    if not (start and end):
        return []
    first = network_day.get_partition_key_from_str(start).keys_by_dimension["network"]
    last = network_day.get_partition_key_from_str(end).keys_by_dimension["network"]
    if first == last:
        return [first]
    order = list(known)
    if first not in order or last not in order:
        return sorted(set(order) | {first, last})
    lo, hi = sorted((order.index(first), order.index(last)))
    return order[lo : hi + 1]


class NetworkRunCoordinator(QueuedRunCoordinator):
    """QueuedRunCoordinator whose submitted ingest runs carry a writer tag per network."""

    def submit_run(self, context: SubmitRunContext) -> dg.DagsterRun:
        run = context.dagster_run
        selection = run.asset_selection or frozenset()
        if selection & _INGEST_KEYS:
            known = self._instance.get_dynamic_partitions(networks.name or "network")
            names = networks_of_run(run.tags, known)
            if names:
                self._instance.add_run_tags(run.run_id, {writer_tag(n): "1" for n in names})
                fresh = self._instance.get_run_by_id(run.run_id)
                if fresh is not None:
                    context = SubmitRunContext(fresh, context.workspace)
        return super().submit_run(context)
