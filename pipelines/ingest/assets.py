"""Ingest: the lake datasets, one multi-asset partitioned by network and UTC day.

A day maps to a block range on each of the network's chains by binary search over block
timestamps (recorded as metadata). The indexer widens it to whole chunks of its fixed file
grid, so a backfill of days writes exactly the files one full run writes; a partition's
re-run rewrites the same bytes.
"""

from collections import defaultdict
from collections.abc import Iterator

import dagster as dg
import pyarrow.compute as pc
import pyarrow.parquet as pq

from depinrev.catalogue import BLOCKS_DATASET, BLOCKS_DESCRIPTION, EVENT_DATASETS
from depinrev.lake import file_sha256
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

    day_blocks: dict[str, object] = {}
    files: dict[str, list[dict[str, object]]] = defaultdict(list)
    rows: dict[str, int] = defaultdict(int)
    checks: list[dg.AssetCheckResult] = []
    for network, days in sorted(by_network.items()):
        config.network(network)  # a partition of a network no longer configured fails clearly
        start_ts, end_ts = day_window(min(days))[0], day_window(max(days))[1]
        for chain_name in config.chains_of(network):
            chain = config.any_chain(chain_name)
            first = min(
                s.start_block for s in config.network(network).sources if s.chain == chain_name
            )
            with chain_clock(config, chain_name) as (final, clock):
                rng = clock.range_for(start_ts, end_ts, first, final)
            where = f"{network}/{chain_name} {min(days)}..{max(days)}"
            day_blocks[where] = list(rng) if rng else "no finalized block in these days"
            if rng is None:
                context.log.info(f"{where}: no finalized block in the window")
                continue
            report = index_chain(
                config, network, chain_name, lk, from_block=rng[0], to_block=rng[1]
            )
            context.log.info(
                f"{where}: blocks {rng[0]}-{rng[1]} -> chunks written {report.chunks_indexed}, "
                f"skipped {report.chunks_skipped}, logs {report.logs}"
            )
            indexed = range_indexed(lk, network, chain.chain_id, rng)
            checks.append(
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
                checks.append(
                    dg.AssetCheckResult(
                        check_name=ROWS_CHECK,
                        asset_key=lake_key("blocks"),
                        passed=False,
                        description=f"{where}: {outcome.description}",
                        metadata=outcome.metadata,
                    )
                )
            for dataset in INGEST_DATASETS:
                for c in lk.chunk_files(dataset, network, chain.chain_id):
                    if c.end < rng[0] or c.start > rng[1]:
                        continue
                    blocks = pq.read_table(c.path, columns=["block_number"])["block_number"]
                    inside = pc.and_(
                        pc.greater_equal(blocks, rng[0]), pc.less_equal(blocks, rng[1])
                    )
                    n = pc.sum(inside).as_py() or 0
                    rows[dataset] += n
                    files[dataset].append(
                        {
                            "path": str(c.path),
                            "blocks": f"{c.start}-{c.end}",
                            "rows_in_days": n,
                            "sha256": file_sha256(c.path),
                            "chain_id": c.chain_id,
                        }
                    )
        cov = coverage_contiguous(config, lk, network)
        checks.append(
            dg.AssetCheckResult(
                check_name=COVERAGE_CHECK,
                asset_key=lake_key("blocks"),
                passed=cov.passed,
                severity=dg.AssetCheckSeverity.WARN,
                description=cov.description,
                metadata=cov.metadata,
            )
        )

    for name in (ROWS_CHECK, PARTITION_CHECK):  # nothing to index: no final block in the days
        if not any(c.check_name == name for c in checks):
            checks.append(
                dg.AssetCheckResult(
                    check_name=name,
                    asset_key=lake_key("blocks"),
                    passed=True,
                    description="nothing to index",
                )
            )
    for dataset in INGEST_DATASETS:
        yield dg.MaterializeResult(
            asset_key=lake_key(dataset),
            metadata={
                "dagster/row_count": rows[dataset],
                "day_to_blocks": dg.MetadataValue.json(day_blocks),
                "files": dg.MetadataValue.json(files[dataset]),
                "parquet_dir": dg.MetadataValue.path(str(lk.root / dataset)),
            },
        )
    merged: dict[str, dg.AssetCheckResult] = {}
    for c in checks:  # one result per check: a failure anywhere fails the check
        prev = merged.get(c.check_name)
        if prev is None or (prev.passed and not c.passed):
            merged[c.check_name] = c
    yield from merged.values()
