"""The pipelines on a real cluster: PostgreSQL, Redis, two Celery workers, the Dagster daemon
and webserver, started by `pipelines.cluster.servers.up` (what `depinrev cluster up` runs) on
free ports and stopped by `down` at the end.

`make test` runs one case: a short backfill of every devnet network whose steps land on both
workers and whose lake is byte for byte the single-process run's. `make soak` runs the rest:
two backfills of one network at once (the per-network limit keeps their runs apart in the
timeline), and a worker SIGKILLed in a quarter's backfill (its step goes to the other worker;
the lake and the quarterly table are still those of the single-process path).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.events import DagsterEventType

from depinrev.config import load_config
from depinrev.lake import Lake
from indexers.chunked import writer_lock
from indexers.dispatch import index_network
from pipelines.cluster.coordinator import writer_tag
from pipelines.cluster.servers import Layout, State, cluster_env, down, up
from pipelines.ingest.assets import index_lake, lake_key
from pipelines.launcher import DagsterWeb, partition_keys
from pipelines.resources import LakeResource, NetworkConfigResource, WarehouseResource
from tests.support.devnet import DEVNET_CONFIG
from tests.support.paths import REPO
from warehouse.build import build_warehouse

pytestmark = pytest.mark.integration

NAMES = sorted(load_config(DEVNET_CONFIG).networks)
REDELIVER_AFTER = 20  # seconds: the step of a killed worker goes to the other one after this


@dataclass
class Cluster:
    layout: Layout
    state: State
    web: DagsterWeb
    instance: dg.DagsterInstance
    startup_seconds: float


@pytest.fixture(scope="module")
def cluster(shared_devnet) -> Iterator[Cluster]:
    # PostgreSQL runs as an unprivileged user, which must be able to enter the directory
    # (pytest's own tmp directory is private to root).
    base = Path(tempfile.mkdtemp(prefix="depinrev-cluster-"))
    base.chmod(0o711)
    layout = Layout.under(base / "cluster", DEVNET_CONFIG)
    t0 = time.monotonic()
    try:
        state = up(layout, redeliver_after=REDELIVER_AFTER)
        startup = time.monotonic() - t0
        with pytest.MonkeyPatch.context() as mp:
            for k, v in cluster_env(layout, state).items():
                mp.setenv(k, v)
            instance = dg.DagsterInstance.from_config(str(layout.dagster_home))
            try:
                yield Cluster(layout, state, DagsterWeb(state.url, timeout=120), instance,
                              startup)
            finally:
                instance.dispose()
    finally:
        started = State.load(layout.state_file)
        down(layout)
        left = [p for p in (started.processes if started else []) if p.alive()]
        shutil.rmtree(base, ignore_errors=True)
        assert not left, f"cluster down left processes running: {left}"


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.parquet"))}


def _fresh_lake(c: Cluster) -> None:
    """An empty lake and no warehouse, between two trials on the same cluster."""
    for p in c.layout.lake.iterdir():
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    c.layout.warehouse.unlink(missing_ok=True)


def _backfill(c: Cluster, names: list[str], first: str, last: str, title: str) -> str:
    keys = partition_keys(names, date.fromisoformat(first), date.fromisoformat(last))
    return c.web.launch_backfill(keys, title)


def _wait_runs(c: Cluster, backfill_id: str, count: int, timeout: float) -> list[dg.DagsterRun]:
    """The backfill's runs, once `count` exist and all ended (quicker than waiting for the
    backfill daemon's next 30-second pass to mark the backfill complete)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = _runs(c, backfill_id)
        if len(runs) >= count and all(r.is_finished for r in runs):
            return runs
        time.sleep(1)
    raise AssertionError(f"backfill {backfill_id}: runs {[(r.run_id, r.status) for r in runs]}")


def _runs(c: Cluster, backfill_id: str) -> list[dg.DagsterRun]:
    return list(c.instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id})))


def _ran_on(c: Cluster, run_id: str) -> dict[str, object]:
    """Where the run's index_lake step wrote its materializations (the asset's metadata)."""
    [rec] = [e for e in c.instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
             if e.get_dagster_event().asset_key == lake_key("blocks")][-1:]
    meta = rec.get_dagster_event().step_materialization_data.materialization.metadata
    return dict(meta["ran_on"].value)  # type: ignore[arg-type]


def _celery_nodes(c: Cluster, run_id: str) -> list[str]:
    """Dagster's own record: the Celery worker of each execution of a step of the run."""
    nodes = []
    for e in c.instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        meta = e.get_dagster_event().engine_event_data.metadata or {}
        if "Celery worker" in meta:
            nodes.append(str(meta["Celery worker"].value))
    return nodes


def _single_process(lake: Path, names: list[str], first: str, last: str) -> None:
    """The same partitions through the single-process path: Dagster in-process, SQLite-free."""
    res = {
        "network_config": NetworkConfigResource(path=str(DEVNET_CONFIG)),
        "lake": LakeResource(uri=str(lake)),
        "warehouse": WarehouseResource(db_path=str(lake.parent / "wh.duckdb")),
    }
    inst = dg.DagsterInstance.ephemeral()
    inst.add_dynamic_partitions("network", names)
    for n in names:
        result = dg.materialize(
            [index_lake], resources=res, instance=inst,
            tags={"dagster/asset_partition_range_start": f"{first}|{n}",
                  "dagster/asset_partition_range_end": f"{last}|{n}"},
        )
        assert result.success


def test_a_backfill_through_the_cluster_lands_on_both_workers_and_writes_the_same_files(
    cluster, tmp_path
):
    c = cluster
    _fresh_lake(c)
    # Half the networks on one day, the other half on the next: Dagster groups the backfill
    # into a run per day over that day's networks, and since the two runs write disjoint
    # networks the run queue starts them together. The test holds every network's writer lock
    # (as a `depinrev index` outside the queue would) until both steps have started, so both
    # are running at once; a worker holds one step at a time (solo pool, prefetch 1, late
    # acknowledgement), so they run on the two workers by construction, not by chance. (Steps
    # of a day take a second or two here: left alone, one worker may well take both.)
    order = c.instance.get_dynamic_partitions("network")
    halves = {"2025-01-01": order[: len(order) // 2], "2025-01-02": order[len(order) // 2 :]}
    keys = [k for day, names in halves.items()
            for k in partition_keys(names, date.fromisoformat(day), date.fromisoformat(day))]
    t0 = time.monotonic()
    with _writers_held(c, NAMES):
        bid = c.web.launch_backfill(keys, "cluster: both workers")
        # both steps wait on the writer locks at once, one in each worker
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            runs = _runs(c, bid)
            if len(runs) == 2 and all(_step_started(c, r.run_id) for r in runs):
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"the two steps never ran at once: {_runs(c, bid)}")
    runs = _wait_runs(c, bid, 2, timeout=600)
    backfill_seconds = time.monotonic() - t0
    assert len(runs) == 2
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    # each run carries the writer tag of every network it writes, and of no other
    tagged = sorted(sorted(n for n in NAMES if r.tags.get(writer_tag(n))) for r in runs)
    assert tagged == sorted(sorted(names) for names in halves.values())

    workers = {p.node: p.pid for p in c.state.workers()}
    ran_on = [_ran_on(c, r.run_id) for r in runs]
    # the steps ran in the worker processes, both of them: node names and pids recorded
    assert {str(r["celery_node"]) for r in ran_on} == set(workers), ran_on
    assert {r["pid"] for r in ran_on} == set(workers.values()), ran_on
    assert len(set(workers.values())) == 2
    for run, where in zip(runs, ran_on, strict=True):
        assert _celery_nodes(c, run.run_id)[-1] == where["celery_node"]
        assert workers[str(where["celery_node"])] == where["pid"]

    single = tmp_path / "single" / "lake"
    for day, names in halves.items():
        _single_process(single, names, day, day)
    assert _hashes(single) and _hashes(c.layout.lake) == _hashes(single)
    print(f"\ncluster up {c.startup_seconds:.1f} s, backfill {backfill_seconds:.1f} s")


@contextmanager
def _writers_held(c: Cluster, names: list[str]) -> Iterator[None]:
    """Hold the lake's writer lock of each network (its first chain's): the indexer's fcntl
    lock, which a worker's step waits on."""
    config = load_config(DEVNET_CONFIG)
    lake = Lake(c.layout.lake)
    with ExitStack() as stack:
        for n in names:
            chain_id = config.any_chain(config.chains_of(n)[0]).chain_id
            stack.enter_context(writer_lock(lake, n, chain_id))
        yield


def _step_started(c: Cluster, run_id: str) -> bool:
    return bool(c.instance.all_logs(run_id, of_type=DagsterEventType.STEP_START))


def test_cluster_status_says_what_runs_where(cluster):
    run = subprocess.run(
        [sys.executable, "-m", "depinrev.cli", "cluster", "status", "--dir",
         str(cluster.layout.root)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert run.returncode == 0, run.stderr
    for p in cluster.state.processes:
        assert p.name in run.stdout and str(p.pid) in run.stdout
    assert f"127.0.0.1:{cluster.state.ports['postgres']}" in run.stdout
    assert "running" in run.stdout and "gone" not in run.stdout


@pytest.mark.soak
def test_two_backfills_of_one_network_at_once_never_write_at_the_same_time(cluster):
    c = cluster
    _fresh_lake(c)
    network = "render-devnet"
    first = _backfill(c, [network], "2025-01-01", "2025-03-31", "cluster: first")
    second = _backfill(c, [network], "2025-01-01", "2025-03-31", "cluster: second")
    for bid in (first, second):
        assert c.web.wait_backfill(bid, timeout=1200) == "COMPLETED_SUCCESS"
    [a] = _runs(c, first)
    [b] = _runs(c, second)
    records = c.instance.get_run_records(filters=dg.RunsFilter(run_ids=[a.run_id, b.run_id]))
    earlier, later = sorted(records, key=lambda r: r.start_time or 0)
    assert earlier.end_time is not None and later.start_time is not None
    # the timeline: the later run was queued while the earlier one ran, and started after it
    assert later.create_timestamp.timestamp() < earlier.end_time
    assert earlier.end_time <= later.start_time
    assert writer_tag(network) in a.tags and writer_tag(network) in b.tags
    # both finish with the same files, byte for byte
    files = [dict(c.instance.all_logs(r.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)[-1]
                  .get_dagster_event().step_materialization_data.materialization.metadata)
             for r in (a, b)]
    assert files[0]["files"].value == files[1]["files"].value


@pytest.mark.soak
def test_a_worker_killed_mid_backfill_hands_its_step_to_the_other_worker(cluster, tmp_path):
    c = cluster
    _fresh_lake(c)
    by_node = {p.node: p for p in c.state.workers()}
    bid = _backfill(c, NAMES, "2025-01-01", "2025-03-31", "cluster: a worker dies")
    deadline = time.monotonic() + 600
    victim = None
    while victim is None and time.monotonic() < deadline:
        # the first worker that started a step of the backfill (Dagster's engine event)
        for run in _runs(c, bid):
            nodes = _celery_nodes(c, run.run_id)
            if nodes:
                victim = by_node[nodes[0]]
                break
        time.sleep(0.5)
    assert victim is not None, "no worker took a step"
    time.sleep(2)  # in the middle of the step
    os.kill(victim.pid, signal.SIGKILL)
    time.sleep(0.5)
    assert not victim.alive()
    survivor = next(p for p in c.state.workers() if p.name != victim.name)

    assert c.web.wait_backfill(bid, timeout=1800) == "COMPLETED_SUCCESS"
    runs = _runs(c, bid)
    handed = [r for r in runs if victim.node in _celery_nodes(c, r.run_id)]
    assert handed, "the killed worker ran no step"
    for r in handed:
        # the step ran again, on the other worker, and that execution wrote the lake
        assert _celery_nodes(c, r.run_id)[-1] == survivor.node
        where = _ran_on(c, r.run_id)
        assert (where["celery_node"], where["pid"]) == (survivor.node, survivor.pid)
    # nothing half-written
    assert not [p for p in c.layout.lake.rglob("*") if ".tmp-" in p.name]

    # the lake is the single-process one's, byte for byte
    config = load_config(DEVNET_CONFIG)
    single = tmp_path / "single" / "lake"
    _single_process(single, NAMES, "2025-01-01", "2025-03-31")
    assert _hashes(c.layout.lake) == _hashes(single)

    # and the quarterly table is the one `make demo` builds (everything, one process)
    run_id = c.web.launch_job("warehouse_job")
    assert c.web.wait_run(run_id, timeout=1200) == "SUCCESS"
    demo_lake, demo_db = tmp_path / "demo" / "lake", tmp_path / "demo" / "warehouse.duckdb"
    for n in NAMES:
        index_network(config, n, demo_lake)
    assert build_warehouse(DEVNET_CONFIG, demo_lake, demo_db).ok
    q1 = _quarter_rows(c.layout.warehouse, "2025Q1")
    assert q1 and {r[0] for r in q1} == set(NAMES)
    assert q1 == _quarter_rows(demo_db, "2025Q1")


def _quarter_rows(db: Path, quarter: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select * exclude (block_ranges) from marts.fct_network_revenue_quarterly "
            "where quarter = ? order by all",
            [quarter],
        ).fetchall()
