"""Session-wide fixtures: real anvil devnets shared by the integration tests."""

from __future__ import annotations

import pytest

from tests.support.devnet import devnet_for_test


@pytest.fixture(scope="session")
def shared_devnet(tmp_path_factory):
    """One devnet for every test that only reads the chain."""
    with devnet_for_test("shared", tmp_path_factory.mktemp("devnet-shared")) as state:
        yield state


@pytest.fixture
def reorg_devnet(tmp_path_factory, shared_devnet):
    """A devnet of its own for a test that rewrites the chain; its ports win while it runs."""
    with devnet_for_test("reorg", tmp_path_factory.mktemp("devnet-reorg")) as state:
        yield state
