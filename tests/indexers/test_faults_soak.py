"""`make soak`: every fault class x 10 seeds x every chain kind, at 20% and at 100%.

The property is the one of tests/indexers/test_faults.py, over many seeds: a run either ends
with the fault-free lake's exact bytes or with a chains error (and then the lake is what it
was before); never success with different bytes. At 20% a transient class must end in
success; at 100% a transient class must end in the error. The results table is written to
docs/reliability.md (between its soak markers).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from chains.transport import ChainAccessError
from tests.support.fault_proxy import BENIGN, TRANSIENT
from tests.support.fault_worlds import (
    cosmos_world,
    evm_world,
    lake_files,
    partial_lake,
    run_with_faults,
    solana_world,
)
from tests.support.paths import REPO

pytestmark = [pytest.mark.soak, pytest.mark.integration]

SEEDS = range(1, 11)
KINDS = ("evm", "solana", "cosmos")
ONLY = {"range_error": {"evm"}, "batch_missing": {"evm"}, "batch_reordered": {"evm"}}
DOC = REPO / "docs" / "reliability.md"
BEGIN, END = "<!-- soak:begin -->", "<!-- soak:end -->"


def test_soak_every_class_and_seed(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("soak")
    # (kind, class) -> counts of outcomes
    table: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    wrong: list[str] = []
    with evm_world(tmp) as evm, solana_world(tmp) as sol, cosmos_world(tmp) as cos:
        worlds = {"evm": evm, "solana": sol, "cosmos": cos}
        n = 0
        for kind in KINDS:
            world = worlds[kind]
            for fault in TRANSIENT + BENIGN:
                if kind not in ONLY.get(fault, set(KINDS)):
                    continue
                row = table[(kind, fault)]
                for seed in SEEDS:
                    n += 1
                    rate = 0.2
                    out = run_with_faults(world, tmp / f"l{n}", seed=seed, rate=rate,
                                          classes=[fault], methods=world.targets.get(fault))
                    row["injected"] += out.injected.get(fault, 0)
                    if out.error is None and out.files == world.baseline:
                        row["20% same bytes"] += 1
                    elif out.error is None:
                        wrong.append(f"{kind} {fault} seed {seed} at 20%: different bytes")
                    else:
                        wrong.append(f"{kind} {fault} seed {seed} at 20%: {out.error!r}")
                    n += 1
                    lake = partial_lake(world, tmp, f"l{n}")
                    before = lake_files(lake)
                    out = run_with_faults(
                        world, lake, seed=seed, rate=1.0, classes=[fault], retries=2,
                        methods=world.targets.get(fault, world.chunk_methods),
                    )
                    row["max seconds at 100%"] = max(
                        row["max seconds at 100%"], round(out.seconds + 0.5))
                    if out.error is None:
                        if out.files != world.baseline:
                            wrong.append(f"{kind} {fault} seed {seed} at 100%: different bytes")
                        elif fault in TRANSIENT:
                            wrong.append(f"{kind} {fault} seed {seed} at 100%: no error")
                        else:
                            row["100% same bytes"] += 1
                    elif isinstance(out.error, ChainAccessError) and out.files == before:
                        row["100% clear error, lake kept"] += 1
                    else:
                        wrong.append(f"{kind} {fault} seed {seed} at 100%: {out.error!r} "
                                     f"(lake kept: {out.files == before})")
    _write_table(table, wrong)
    assert not wrong, "\n".join(wrong)


def _write_table(table: dict[tuple[str, str], dict[str, int]], wrong: list[str]) -> None:
    cols = ["20% same bytes", "100% clear error, lake kept", "100% same bytes", "injected",
            "max seconds at 100%"]
    lines = [
        f"{len(SEEDS)} seeds per class and chain kind (`make soak`); a cell counts seeds.",
        "",
        "| kind | class | " + " | ".join(cols) + " |",
        "|---|---|" + "---|" * len(cols),
    ]
    for (kind, fault), row in table.items():
        lines.append(f"| {kind} | {fault} | " + " | ".join(str(row.get(c, 0)) for c in cols)
                     + " |")
    lines += ["", f"Runs that broke the property: {len(wrong)}."]
    lines += [f"- {w}" for w in wrong]
    text = DOC.read_text()
    block = f"{BEGIN}\n" + "\n".join(lines) + f"\n{END}"
    DOC.write_text(re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text,
                          flags=re.DOTALL))


def test_docs_have_the_soak_markers():
    text = Path(DOC).read_text()
    assert BEGIN in text and END in text
