"""The Dagster code location loads as `dagster` loads it, and the partition helpers are right."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from pipelines.ingest.partitions import day_window, network_day_key
from pipelines.launcher import BackfillError, partition_keys
from tests.support.paths import REPO


def test_definitions_validate_with_the_venv_dagster_and_no_venv_on_path(tmp_path):
    # `.venv/bin/dagster` from a shell without the venv on PATH: dbt (the resource and the
    # project's `dbt parse`) must come from beside the interpreter, not from PATH.
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_DISABLE_TELEMETRY": "1",
           "PATH": "/usr/bin:/bin"}
    env.pop("VIRTUAL_ENV", None)
    dagster = Path(sys.executable).with_name("dagster")
    run = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "pipelines.definitions"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Validation successful" in run.stdout + run.stderr


def test_definitions_hold_the_three_domains_and_their_automation():
    from pipelines.definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert {"lake/token_burns", "lake/blocks", "audit/chain_audit",
            "warehouse/fct_network_revenue_quarterly", "quarterly/revenue"} <= keys
    # dbt sources take their keys from meta.dagster.asset_key in dbt/models/staging/_sources.yml
    assert {"audit/lake_files", "config/revenue_rules", "config/unobservable",
            "warehouse/stg_audit__lake_files", "warehouse/int_network_unobservable"} <= keys
    assert not {k for k in keys if k.startswith(("raw/", "lake/lake", "audit/quarter_audits"))}
    assert {s.name for s in defs.schedules} == {"hourly_ingest", "quarterly_close"}
    assert {s.name for s in defs.sensors} == {"sync_network_partitions", "rebuild_after_ingest"}
    # automation that writes is off by default (the partition sync only registers partitions)
    status = {s.name: s.default_status.value for s in [*defs.schedules, *defs.sensors]}
    assert status["hourly_ingest"] == status["quarterly_close"] == "STOPPED"
    assert status["rebuild_after_ingest"] == "STOPPED"


def test_day_window_is_a_utc_day():
    start, end = day_window("2025-07-01")
    assert datetime.fromtimestamp(start, UTC) == datetime(2025, 7, 1, tzinfo=UTC)
    assert end - start == 86_400


def test_backfill_partition_keys():
    keys = partition_keys(["akash-devnet", "render-devnet"], date(2025, 2, 27),
                          date(2025, 3, 1))
    assert len(keys) == 6
    assert str(network_day_key("render-devnet", "2025-03-01")) in keys
    with pytest.raises(BackfillError, match="before --from"):
        partition_keys(["akash-devnet"], date(2025, 3, 2), date(2025, 3, 1))
    with pytest.raises(BackfillError, match="before the first partition"):
        partition_keys(["akash-devnet"], date(2024, 12, 30), date(2025, 1, 2))


def test_day_partitions_end_at_the_last_day_given_or_run_to_today():
    from pipelines.ingest.partitions import day_partitions

    devnet = day_partitions("2026-01-01").get_partition_keys()
    assert (devnet[0], devnet[-1], len(devnet)) == ("2025-01-01", "2026-01-01", 366)
    live = day_partitions(None).get_partition_keys()
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    assert live[0] == "2025-01-01" and live[-1] >= yesterday
