"""Indexing through a faulty provider: every fault class once, one seed, each chain kind.

* at 20% of requests, a transient class is retried away: the lake is byte-identical to the
  fault-free run's, and no exception;
* at 100%, the run stops within the retry budget with one chains error line naming the
  method and the host, and the lake is exactly as before (nothing half-written, no
  checkpoint advanced);
* benign classes (valid JSON re-serialized, a batch answered in another order) are data:
  the run succeeds with the same bytes even at 100%.

The heavy matrix (10 seeds per class and kind) is tests/indexers/test_faults_soak.py
(`make soak`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chains.transport import ChainAccessError
from tests.support.fault_proxy import BENIGN, TRANSIENT
from tests.support.fault_worlds import (
    World,
    cosmos_world,
    evm_world,
    lake_files,
    one_line,
    partial_lake,
    run_with_faults,
    solana_world,
)

pytestmark = pytest.mark.integration

KINDS = ("evm", "solana", "cosmos")
# classes that only exist for some kinds' requests
ONLY = {"range_error": {"evm"}, "batch_missing": {"evm"}, "batch_reordered": {"evm"}}


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, World]]:
    tmp = tmp_path_factory.mktemp("faults")
    with evm_world(tmp) as evm, solana_world(tmp) as sol, cosmos_world(tmp) as cos:
        yield {"evm": evm, "solana": sol, "cosmos": cos}


def _cases(classes: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(k, c) for k in KINDS for c in classes if k in ONLY.get(c, set(KINDS))]


@pytest.mark.parametrize(("kind", "fault"), _cases(TRANSIENT + BENIGN))
def test_faults_at_20_percent_give_the_same_lake(worlds, tmp_path: Path, kind: str, fault: str):
    world = worlds[kind]
    # a class aimed at one method (crossed getTransaction, a batch) hits 20% of that
    # method's requests
    targets = world.targets.get(fault)
    rate = 0.2
    out = run_with_faults(
        world, tmp_path / "lake", seed=1, rate=rate, classes=[fault], methods=targets
    )
    assert out.error is None, f"{fault}: {out.error!r}"
    assert out.injected.get(fault, 0) > 0, f"{fault} never injected in {out.requests} requests"
    assert out.files == world.baseline


# The HTTP-level classes (429, 5xx, HTML, reset, stall) are the same transport code for every
# kind: at 100% they run on EVM here and on every kind in the soak.
CONTENT = ("cut", "wrong_id", "crossed", "empty")
FULL_STOP = [(k, c) for k, c in _cases(TRANSIENT) if k == "evm" or c in CONTENT]


@pytest.mark.parametrize(("kind", "fault"), FULL_STOP)
def test_faults_at_100_percent_stop_with_one_clear_line_and_leave_the_lake(
    worlds, tmp_path: Path, kind: str, fault: str
):
    world = worlds[kind]
    lake = partial_lake(world, tmp_path, "lake")
    before = lake_files(lake)
    out = run_with_faults(
        world, lake, seed=1, rate=1.0, classes=[fault],
        methods=world.targets.get(fault, world.chunk_methods), retries=2,
    )
    assert isinstance(out.error, ChainAccessError), f"{fault}: {out.error!r}"
    line = one_line(out.error)
    assert "at http://127.0.0.1:" in line and any(m in line for m in world.chunk_methods), line
    assert out.seconds < 30, f"{fault}: {out.seconds:.1f}s"
    assert out.files == before


@pytest.mark.parametrize(("kind", "fault"), _cases(BENIGN))
def test_valid_json_in_another_shape_is_data_even_at_100_percent(
    worlds, tmp_path: Path, kind: str, fault: str
):
    world = worlds[kind]
    out = run_with_faults(world, tmp_path / "lake", seed=1, rate=1.0, classes=[fault])
    assert out.error is None, f"{fault}: {out.error!r}"
    assert out.injected.get(fault, 0) > 0
    assert out.files == world.baseline
