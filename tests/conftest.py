"""Session-wide fixtures: real anvil devnets shared by the integration tests."""

from __future__ import annotations

import pytest

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
