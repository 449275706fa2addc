"""Session-wide fixtures: real anvil devnets shared by the integration tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Under pytest-xdist each worker parses the dbt project into a target folder of its own (the
# project's manifest is prepared when `pipelines` is first imported): two workers parsing into
# dbt/target at once would read each other's half-written files.
if os.environ.get("PYTEST_XDIST_WORKER") and "DBT_TARGET_PATH" not in os.environ:
    os.environ["DBT_TARGET_PATH"] = str(
        Path(__file__).resolve().parents[1] / "dbt" / "target" / os.environ["PYTEST_XDIST_WORKER"]
    )

from tests.support.devnet import BuiltDevnet, devnet_for_test, index_and_build


@pytest.fixture(scope="session")
def shared_devnet(tmp_path_factory):
    """One devnet for every test that only reads the chain."""
    with devnet_for_test("shared", tmp_path_factory.mktemp("devnet-shared")) as state:
        yield state


@pytest.fixture(scope="session")
def built_devnet(shared_devnet, tmp_path_factory) -> BuiltDevnet:
    """The shared devnet indexed with small chunks and built once, for the modules that read
    it (warehouse acceptance, Dagster): one index and one dbt build instead of one each."""
    return index_and_build(shared_devnet, tmp_path_factory.mktemp("devnet-built"))


@pytest.fixture
def reorg_devnet(tmp_path_factory, shared_devnet):
    """A devnet of its own for a test that rewrites the chain; its ports win while it runs."""
    with devnet_for_test("reorg", tmp_path_factory.mktemp("devnet-reorg")) as state:
        yield state
