"""Ingest: the lake datasets, one multi-asset partitioned by network and UTC day.

A day maps to a block range on each of the network's chains by binary search over block
timestamps (recorded as metadata). The indexer widens it to whole chunks of its fixed file
grid, so a backfill of days writes exactly the files one full run writes; a partition's
re-run rewrites the same bytes.
"""

import os
import socket
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import dagster as dg

from depinrev.catalogue import BLOCKS_DATASET, BLOCKS_DESCRIPTION, EVENT_DATASETS
from depinrev.config import Config
from depinrev.lake import Lake
from indexers.dispatch import chain_clock, index_chain
from pipelines.ingest.checks import coverage_contiguous, range_indexed, rows_written_match
from pipelines.ingest.partitions import day_window, network_day
from pipelines.resources import LakeResource, NetworkConfigResource

# One ingest asset per lake dataset of the catalogue, and the blocks.
INGEST_DATASETS: dict[str, str] = {**EVENT_DATASETS, BLOCKS_DATASET: BLOCKS_DESCRIPTION}


def lake_key(dataset: str) -> dg.AssetKey:
    return dg.AssetKey(["lake", dataset])


COVERAGE_CHECK = "block_coverage_contiguous"
PARTITION_CHECK = "partition_blocks_indexed"
ROWS_CHECK = "rows_read_equal_rows_written"


@dg.multi_asset(
    name="index_lake",
    specs=[
        dg.AssetSpec(lake_key(d), description=desc, group_name="ingest", kinds={"parquet"})
        for d, desc in INGEST_DATASETS.items()
    ],
    check_specs=[
        dg.AssetCheckSpec(
            PARTITION_CHECK,
            asset=lake_key("blocks"),
            blocking=True,
            description="the blocks of the partitions' days are all indexed",
        ),
        # A warning, not a blocker: partitions of a backfill finish in any order, so the lake
        # has gaps until the backfill is done; the quarter audit requires contiguity.
        dg.AssetCheckSpec(
            COVERAGE_CHECK,
            asset=lake_key("blocks"),
            description="block coverage from the start block has no gap",
        ),
        dg.AssetCheckSpec(
            ROWS_CHECK,
            asset=lake_key("blocks"),
            description="rows the indexer wrote = rows read back from its files",
        ),
    ],
    partitions_def=network_day,
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=92),
    can_subset=False,
)
def index_lake(
    context: dg.AssetExecutionContext,
    network_config: NetworkConfigResource,
    lake: LakeResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Index the finalized blocks of the partitions' days for their networks."""
    config = network_config.load()
    lk = lake.lake()
    by_network: dict[str, list[str]] = defaultdict(list)
    for key in context.partition_keys:
        dims = network_day.get_partition_key_from_str(key).keys_by_dimension
        by_network[dims["network"]].append(dims["day"])

    run = _IngestRun()
    for network, days in sorted(by_network.items()):
        config.network(network)  # a partition of a network no longer configured fails clearly
        for chain_name in config.chains_of(network):
            _index_days(context, config, lk, network, chain_name, min(days), max(days), run)
        cov = coverage_contiguous(config, lk, network)
        run.checks.append(
            dg.AssetCheckResult(
                check_name=COVERAGE_CHECK,
                asset_key=lake_key("blocks"),
                passed=cov.passed,
                severity=dg.AssetCheckSeverity.WARN,
                description=cov.description,
                metadata=cov.metadata,
            )
        )
    ran_on = where_it_runs()
    context.log.info(f"index_lake ran on {ran_on}")
    for dataset in INGEST_DATASETS:
        yield dg.MaterializeResult(
            asset_key=lake_key(dataset),
            metadata={
                "ran_on": dg.MetadataValue.json(ran_on),
                "dagster/row_count": run.rows[dataset],
                "day_to_blocks": dg.MetadataValue.json(run.day_blocks),
                "files": dg.MetadataValue.json(run.files[dataset]),
                "parquet_dir": dg.MetadataValue.path(str(lk.root / dataset)),
            },
        )
    yield from _one_result_per_check(run.checks)


def where_it_runs() -> dict[str, object]:
    """The host, process and (on a Celery worker of the cluster) the worker's node name that
    runs this step."""
    node = None
    celery = sys.modules.get("celery")  # imported only by a Celery worker or executor
    if celery is not None:
        task = celery.current_task
        node = getattr(getattr(task, "request", None), "hostname", None) if task else None
    return {"host": socket.gethostname(), "pid": os.getpid(), "celery_node": node}


@dataclass
class _IngestRun:
    """What an ingest run reports: per chain and days the block range, per dataset the files
    and rows inside the range, and the check results."""

    day_blocks: dict[str, object] = field(default_factory=dict)
    files: dict[str, list[dict[str, object]]] = field(default_factory=lambda: defaultdict(list))
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    checks: list[dg.AssetCheckResult] = field(default_factory=list)


def _index_days(
    context: dg.AssetExecutionContext,
    config: Config,
    lk: Lake,
    network: str,
    chain_name: str,
    first_day: str,
    last_day: str,
    run: _IngestRun,
) -> None:
    """Index one chain of a network over whole UTC days, and check what was written."""
    chain = config.any_chain(chain_name)
    first = min(s.start_block for s in config.network(network).sources if s.chain == chain_name)
    with chain_clock(config, chain_name) as (final, clock):
        rng = clock.range_for(day_window(first_day)[0], day_window(last_day)[1], first, final)
    where = f"{network}/{chain_name} {first_day}..{last_day}"
    run.day_blocks[where] = list(rng) if rng else "no finalized block in these days"
    if rng is None:
        context.log.info(f"{where}: no finalized block in the window")
        return
    report = index_chain(config, network, chain_name, lk, from_block=rng[0], to_block=rng[1])
    if report.identity:
        context.log.info(f"{where}: {report.identity}")
    context.log.info(
        f"{where}: blocks {rng[0]}-{rng[1]} -> chunks written {report.chunks_indexed}, "
        f"skipped {report.chunks_skipped}, logs {report.logs}"
    )
    indexed = range_indexed(lk, network, chain.chain_id, rng)
    run.checks.append(
        dg.AssetCheckResult(
            check_name=PARTITION_CHECK,
            asset_key=lake_key("blocks"),
            passed=indexed.passed,
            description=f"{where}: {indexed.description}",
            metadata=indexed.metadata,
        )
    )
    outcome = rows_written_match(lk, network, chain.chain_id, report.written, report.rows)
    if not outcome.passed:
        run.checks.append(
            dg.AssetCheckResult(
                check_name=ROWS_CHECK,
                asset_key=lake_key("blocks"),
                passed=False,
                description=f"{where}: {outcome.description}",
                metadata=outcome.metadata,
            )
        )
    for dataset in INGEST_DATASETS:
        for f in lk.files_in_range(dataset, network, chain.chain_id, rng[0], rng[1]):
            run.rows[dataset] += f.rows_in_range
            run.files[dataset].append(
                {
                    "path": str(f.chunk.path),
                    "blocks": f"{f.chunk.start}-{f.chunk.end}",
                    "rows_in_days": f.rows_in_range,
                    "sha256": f.sha256,
                    "chain_id": f.chunk.chain_id,
                }
            )


def _one_result_per_check(checks: list[dg.AssetCheckResult]) -> list[dg.AssetCheckResult]:
    """One result per check (a failure anywhere fails it); a check nothing ran passes with
    'nothing to index' (no final block in the days)."""
    merged: dict[str, dg.AssetCheckResult] = {}
    for c in checks:
        prev = merged.get(c.check_name)
        if prev is None or (prev.passed and not c.passed):
            merged[c.check_name] = c
    for name in (ROWS_CHECK, PARTITION_CHECK):
        merged.setdefault(
            name,
            dg.AssetCheckResult(
                check_name=name,
                asset_key=lake_key("blocks"),
                passed=True,
                description="nothing to index",
            ),
        )
    return list(merged.values())
