"""`make bench` cannot break unseen: the whole bench, on a tiny chain, writes its figures.

Runs bench/run.py end to end in its own process (the devnet at a tiny scale, the dense chain at
a tiny shape, the ceiling, the indexer on both chains, the memory runs; free ports, a cache in
a temporary directory) and reads the figures it writes with --results-json. cryo (installed
from PyPI into the bench's own venv) and the warehouse runs are left to `make bench`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.devnet import _free_port

REPO = Path(__file__).resolve().parents[2]

DENSE_BLOCKS, PER_BLOCK, OTHER = 12, 15, 3


def test_the_whole_bench_runs_on_a_tiny_chain_and_writes_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    ports = ",".join(str(_free_port()) for _ in range(3))
    cmd = [
        sys.executable, str(REPO / "bench" / "run.py"), "--scale", "0.02", "--reps", "1",
        "--only", "a,c,mem,dense", "--no-doc", "--cache-dir", str(tmp_path),
        "--ports", ports, "--dense-blocks", str(DENSE_BLOCKS), "--dense-per-block",
        str(PER_BLOCK), "--dense-other", str(OTHER), "--results-json", str(out),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    figures = json.loads(out.read_text())
    # The dense chain's indexed token: its mint plus PER_BLOCK transfers in each block.
    assert figures["dense_depinrev"]["logs"] == DENSE_BLOCKS * PER_BLOCK + 1
    assert figures["dense_ceiling"]["logs"] == DENSE_BLOCKS * PER_BLOCK + 1
    # The ceiling makes exactly the indexer's requests: both saw every log.
    assert figures["depinrev"]["logs"] == figures["ceiling"]["logs"] > 0
    for key in ("depinrev", "dense_depinrev", "ceiling"):
        assert figures[key]["wall"] > 0 and figures[key]["rss"] > 0
    assert figures["vs_ceiling"] > 0 and figures["dense_vs_ceiling"] > 0
    mem = figures["mem"]
    assert mem["third"]["logs"] < mem["full"]["logs"] == figures["depinrev"]["logs"]
    assert mem["full_x3"]["logs"] == 3 * mem["full"]["logs"]
