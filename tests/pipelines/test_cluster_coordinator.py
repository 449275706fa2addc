"""Which networks' lakes a run writes, as the cluster's run queue reads it from the run's
partition tags (pipelines/cluster/coordinator.py), and the CLI without a cluster."""

from __future__ import annotations

import subprocess
import sys

from pipelines.cluster.coordinator import networks_of_run, writer_tag
from tests.support.paths import REPO

ORDER = ["render-devnet", "akash-devnet", "ionet-devnet", "aethir-devnet"]  # insertion order
START, END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def test_a_single_partition_names_its_network():
    tags = {"dagster/partition": "2025-01-03|ionet-devnet",
            "dagster/partition/network": "ionet-devnet", "dagster/partition/day": "2025-01-03"}
    assert networks_of_run(tags, ORDER) == ["ionet-devnet"]


def test_a_range_of_days_of_one_network_is_that_network():
    tags = {START: "2025-01-01|akash-devnet", END: "2025-03-31|akash-devnet"}
    assert networks_of_run(tags, ORDER) == ["akash-devnet"]


def test_a_range_over_networks_on_one_day_spans_those_between_in_partition_order():
    tags = {START: "2025-01-01|akash-devnet", END: "2025-01-01|aethir-devnet"}
    assert networks_of_run(tags, ORDER) == ["akash-devnet", "ionet-devnet", "aethir-devnet"]


def test_an_unknown_network_widens_to_every_network():
    tags = {START: "2025-01-01|gone-devnet", END: "2025-01-01|akash-devnet"}
    assert networks_of_run(tags, ORDER) == sorted([*ORDER, "gone-devnet"])


def test_a_run_without_partitions_writes_no_network():
    assert networks_of_run({"dagster/backfill": "abc"}, ORDER) == []
    assert writer_tag("akash-devnet") == "depinrev/lake-writer/akash-devnet"


def test_cluster_status_without_a_cluster_says_so(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "depinrev.cli", "cluster", "status", "--dir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 1
    assert f"no cluster runs from {tmp_path}" in run.stdout.replace("\n", "")
