"""Every way depinrev starts Dagster processes gives them each variable the definitions read
through dg.EnvVar, which refuses an unset one when a run is launched (the cluster's warehouse
job was refused for DEPINREV_REPORTED_CSV until it did)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from pipelines.cluster.servers import Layout, State, cluster_env
from pipelines.definitions import RESOURCES
from pipelines.launcher import Paths
from tests.support.devnet import DEVNET_CONFIG


def _required() -> set[str]:
    names = {
        value.env_var_name
        for resource in RESOURCES.values()
        for value in resource.__dict__.values()
        if isinstance(value, dg.EnvVar)
    }
    assert "DEPINREV_WAREHOUSE" in names  # the introspection sees the definitions' variables
    return names


def test_the_cluster_environment_sets_every_variable_of_the_definitions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("DEPINREV_REPORTED_CSV", raising=False)
    layout = Layout.under(tmp_path, DEVNET_CONFIG)
    state = State(str(tmp_path), str(DEVNET_CONFIG), str(layout.lake), str(layout.warehouse),
                  {"redis": 6390, "webserver": 3999})
    env = cluster_env(layout, state)
    assert _required() <= set(env), sorted(_required() - set(env))
    assert env["DEPINREV_REPORTED_CSV"] == ""
    monkeypatch.setenv("DEPINREV_REPORTED_CSV", "/data/reported.csv")
    assert cluster_env(layout, state)["DEPINREV_REPORTED_CSV"] == "/data/reported.csv"


def test_the_single_process_ui_environment_sets_every_variable_of_the_definitions(
    tmp_path: Path,
):
    env = Paths.under(tmp_path, DEVNET_CONFIG).env()
    assert _required() <= set(env), sorted(_required() - set(env))
