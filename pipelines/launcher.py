"""Starting the Dagster UI and launching backfills: what `depinrev ui` and `depinrev backfill` do.

`ui` runs `dagster dev` on 127.0.0.1 with a persistent DAGSTER_HOME under the data directory
(telemetry off, at most two runs at a time, one DuckDB writer at a time through the `duckdb`
pool), after registering a `network` partition per configured network; on a devnet the day
partitions end at the last indexed day (DEPINREV_LAST_DAY).

`backfill` asks that running webserver, through its GraphQL API, for an asset backfill of the
ingest partitions (network x day) of a date range, waits for it, then runs `warehouse_job`
(audit + dbt build), so the marts reflect the backfilled lake.
"""

import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pyarrow.compute as pc
import pyarrow.parquet as pq

from depinrev.catalogue import BLOCKS_DATASET
from depinrev.config import Config, load_config
from depinrev.lake import Lake
from pipelines.ingest.assets import INGEST_DATASETS, lake_key
from pipelines.ingest.partitions import HISTORY_START, LAST_DAY_ENV, network_day_key, networks

DAGSTER_YAML = """\
# Written by `depinrev ui`. The machine is offline: no telemetry, no version checks.
telemetry:
  enabled: false
nux:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 2
  pools:
    default_limit: 1
"""


@dataclass(frozen=True)
class Paths:
    config: Path
    lake: Path
    warehouse: Path
    dagster_home: Path
    # reported-figure CSVs beside the seed's (the devnet's simulated ones, given by the CLI)
    reported: tuple[Path, ...] = ()

    @classmethod
    def under(cls, data_dir: Path, config: Path, reported: list[Path] | None = None) -> "Paths":
        d = data_dir.resolve()
        return cls(config.resolve(), d / "lake", d / "warehouse.duckdb", d / "dagster",
                   tuple(p.resolve() for p in reported or []))

    def env(self) -> dict[str, str]:
        return {
            "DEPINREV_CONFIG": str(self.config),
            "DEPINREV_LAKE": str(self.lake),
            "DEPINREV_WAREHOUSE": str(self.warehouse),
            "DEPINREV_REPORTED_CSV": os.pathsep.join(str(p) for p in self.reported),
            "DAGSTER_HOME": str(self.dagster_home),
            "DO_NOT_TRACK": "1",
            "DAGSTER_DISABLE_TELEMETRY": "1",
        }


def last_indexed_day(config: Config, lake: Lake, network: str) -> str | None:
    """The UTC day of the latest block header in the lake over the network's chains (None if
    nothing is indexed): the lake's blocks hold every chunk's boundary blocks."""
    latest: int | None = None
    for chain_name in config.chains_of(network):
        files = lake.chunk_files(BLOCKS_DATASET, network, config.any_chain(chain_name).chain_id)
        if files:
            ts = pc.max(pq.read_table(files[-1].path, columns=["block_timestamp"])[0]).as_py()
            if ts is not None:
                latest = ts if latest is None else max(latest, ts)
    return None if latest is None else datetime.fromtimestamp(latest, UTC).date().isoformat()


def devnet_last_day(config: Config, lake: Lake) -> str | None:
    """Where the day partitions end (DEPINREV_LAST_DAY): when every configured network is a
    devnet stand-in, the last day any of them has indexed; None (today) when a live network is
    configured or nothing is indexed yet."""
    if not config.networks or not all(net.devnet for net in config.networks.values()):
        return None
    found = [d for n in config.networks if (d := last_indexed_day(config, lake, n))]
    return max(found) if found else None


def prepare_instance(paths: Paths) -> None:
    """DAGSTER_HOME with its dagster.yaml, and a network partition per configured network."""
    paths.dagster_home.mkdir(parents=True, exist_ok=True)
    yaml_path = paths.dagster_home / "dagster.yaml"
    if not yaml_path.exists():
        yaml_path.write_text(DAGSTER_YAML)
    names = sorted(load_config(paths.config).networks)
    with dg.DagsterInstance.from_config(str(paths.dagster_home)) as instance:
        have = set(instance.get_dynamic_partitions(networks.name or "network"))
        new = [n for n in names if n not in have]
        if new:
            instance.add_dynamic_partitions(networks.name or "network", new)


def exec_dagster_dev(paths: Paths, host: str, port: int) -> None:
    """Replace this process with `dagster dev` (so Ctrl-C and SIGTERM reach it directly)."""
    prepare_instance(paths)
    env = {**os.environ, **paths.env()}
    last_day = devnet_last_day(load_config(paths.config), Lake(paths.lake))
    if last_day is not None:
        env[LAST_DAY_ENV] = last_day
    # a parent that ignored SIGINT (a background job) would pass that on: restore it
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    dagster = Path(sys.executable).with_name("dagster")
    os.execve(
        str(dagster),
        [str(dagster), "dev", "-m", "pipelines.definitions", "-h", host, "-p", str(port)],
        env,
    )


# --- backfills -------------------------------------------------------------------------------
class BackfillError(RuntimeError):
    """The webserver refused or failed the backfill; the message says what it answered."""


LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on UnauthorizedError { message }
  }
}"""

BACKFILL_STATUS = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      id status numPartitions
      assetBackfillData { assetBackfillStatuses {
        ... on AssetPartitionsStatusCounts {
          numPartitionsTargeted numPartitionsMaterialized numPartitionsFailed } } }
    }
    ... on PythonError { message }
  }
}"""

REPOSITORIES = """
{ repositoriesOrError { __typename ... on RepositoryConnection {
    nodes { name location { name } jobs { name } } } } }"""

LAUNCH_RUN = """
mutation($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}"""

RUN_STATUS = """
query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }"""

_DONE = {"COMPLETED", "COMPLETED_SUCCESS", "FAILED", "CANCELED", "COMPLETED_FAILED"}


def partition_keys(networks_: list[str], start: date, end: date) -> list[str]:
    if end < start:
        raise BackfillError(f"--to {end} is before --from {start}")
    if start < date.fromisoformat(HISTORY_START):
        raise BackfillError(f"--from {start} is before the first partition {HISTORY_START}")
    days = [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
    return [str(network_day_key(n, d)) for n in networks_ for d in days]


class DagsterWeb:
    """The GraphQL API of a running `dagster dev`."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/") + "/graphql"
        self.http = httpx.Client(timeout=timeout)

    def query(self, q: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            resp = self.http.post(self.url, json={"query": q, "variables": variables or {}})
        except httpx.TransportError as exc:
            raise BackfillError(
                f"no Dagster webserver answers at {self.url} ({exc}); start it with "
                "`depinrev ui` (or `make ui`)"
            ) from exc
        body = resp.json()
        if body.get("errors"):
            raise BackfillError(f"GraphQL error: {body['errors'][0].get('message')}")
        return body["data"]

    def launch_backfill(self, keys: list[str], title: str) -> str:
        params = {
            "partitionNames": keys,
            "assetSelection": [{"path": lake_key(d).path} for d in INGEST_DATASETS],
            "title": title,
        }
        res = self.query(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
        if res["__typename"] != "LaunchBackfillSuccess":
            raise BackfillError(f"backfill refused: {res['__typename']}: {res.get('message')}")
        return str(res["backfillId"])

    def wait_backfill(
        self,
        backfill_id: str,
        timeout: float,
        progress: Callable[[int, int], None] | None = None,
    ) -> str:
        """Poll until the backfill ends; `progress(done, targeted)` counts asset partitions
        (materialized or failed, of all targeted) at each poll."""
        deadline = time.monotonic() + timeout
        while True:
            res = self.query(BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
            status = str(res.get("status"))
            if progress is not None:
                counts = (res.get("assetBackfillData") or {}).get("assetBackfillStatuses") or []
                progress(
                    sum(c.get("numPartitionsMaterialized", 0) + c.get("numPartitionsFailed", 0)
                        for c in counts),
                    sum(c.get("numPartitionsTargeted", 0) for c in counts),
                )
            if status in _DONE:
                return status
            if time.monotonic() > deadline:
                raise BackfillError(f"backfill {backfill_id} still {status} after {timeout:.0f} s")
            time.sleep(2)

    def launch_job(self, job: str) -> str:
        repos = self.query(REPOSITORIES)["repositoriesOrError"]
        for repo in repos.get("nodes", []):
            if any(j["name"] == job for j in repo["jobs"]):
                selector = {
                    "repositoryLocationName": repo["location"]["name"],
                    "repositoryName": repo["name"],
                    "jobName": job,
                }
                break
        else:
            raise BackfillError(f"no job {job!r} in the running code location")
        res = self.query(LAUNCH_RUN, {"params": {"selector": selector, "runConfigData": {}}})
        res = res["launchRun"]
        if res["__typename"] != "LaunchRunSuccess":
            raise BackfillError(f"{job} refused: {res}")
        return str(res["run"]["runId"])

    def wait_run(self, run_id: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            status = str(self.query(RUN_STATUS, {"id": run_id})["runOrError"].get("status"))
            if status in {"SUCCESS", "FAILURE", "CANCELED"}:
                return status
            if time.monotonic() > deadline:
                raise BackfillError(f"run {run_id} still {status} after {timeout:.0f} s")
            time.sleep(2)
