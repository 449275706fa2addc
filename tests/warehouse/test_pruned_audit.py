"""The audit against nodes that no longer keep the chain's first blocks.

The lake is indexed from full-history test servers (the Solana cluster and Akash node of
test_non_evm: three quarters of 2025); the audit then reads the chain from pruned copies:
a Solana node whose first available slot (40,000) lies inside 2025Q1 (slots 0-51,839) and
whose chunk 0-99,999 so reaches below its history, and a Cosmos node whose earliest height
(90) lies inside 2025Q1 (heights 1-117). The quarters the nodes can show are audited as
before (coverage and boundary checks pass; Solana and Akash reconciliation is not applicable,
and the quarter keeps status pass); 2025Q1 gets one clear 'pruned' line, not an error.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from depinrev.config import load_config
from depinrev.lake import Lake
from indexers.dispatch import index_network
from tests.support.jsonrpc_server import JsonRpcServer
from tests.warehouse.test_non_evm import (
    COSMOS_ENV,
    SOLANA_ENV,
    make_cluster,
    make_node,
    write_config,
)
from warehouse.build import audit_warehouse, prepare_inputs

SOL_FIRST_AVAILABLE = 40_000
COSMOS_EARLIEST = 90


@pytest.fixture(scope="module")
def pruned_audit(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("pruned")
    config = load_config(write_config(tmp / "networks.yaml"))
    full_sol, full_cos = make_cluster(), make_node()
    with JsonRpcServer(full_sol) as sol, JsonRpcServer(full_cos) as cos, \
            pytest.MonkeyPatch.context() as mp:
        mp.setenv(SOLANA_ENV, sol.url)
        mp.setenv(COSMOS_ENV, cos.url)
        for network in sorted(config.networks):
            index_network(config, network, tmp / "lake")
    pruned_sol, pruned_cos = make_cluster(), make_node()
    pruned_sol.first_available = SOL_FIRST_AVAILABLE
    pruned_cos.earliest = COSMOS_EARLIEST
    lake = Lake(tmp / "lake")
    db = tmp / "wh.duckdb"
    with JsonRpcServer(pruned_sol) as sol, JsonRpcServer(pruned_cos) as cos, \
            pytest.MonkeyPatch.context() as mp:
        mp.setenv(SOLANA_ENV, sol.url)
        mp.setenv(COSMOS_ENV, cos.url)
        prepare_inputs(config, lake, db)
        result = audit_warehouse(config, lake, db)
        hosts = {"solana": sol.url, "cosmos": cos.url}
    return result, db, hosts, (sol.log, cos.log)


def _rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_quarters_the_pruned_nodes_can_show_pass(pruned_audit):
    result, db, _, _ = pruned_audit
    for network in ("render", "akash"):
        assert result.status(network, "2025Q2") == "pass", network
        # 2025Q3 has not ended at the nodes' heads: incomplete, as against full nodes
        assert result.status(network, "2025Q3") == "incomplete", network
    checks = _rows(db, "select network, check_name, status from audit.coverage_checks "
                       "where quarter = '2025Q2' and network in ('render', 'akash') order by 1, 2")
    assert {(n, c) for n, c, _ in checks} >= {
        ("render", "boundary_hashes"), ("render", "contiguity"), ("render", "files"),
        ("akash", "boundary_hashes"), ("akash", "contiguity"), ("akash", "files"),
    }
    assert {s for _, _, s in checks} == {"pass"}
    # reconciliation is not applicable for these kinds: the quarter's status stays pass
    recon = _rows(db, "select distinct status from audit.reconciliations where quarter = "
                      "'2025Q2' and network in ('render', 'akash')")
    assert recon == [("not_applicable",)]


def test_chunk_reaching_below_the_first_available_slot_checks_its_end(pruned_audit):
    _, db, _, _ = pruned_audit
    (detail,) = _rows(db, "select detail from audit.coverage_checks where network = 'render' "
                          "and quarter = '2025Q2' and check_name = 'boundary_hashes'")[0]
    assert "start of chunk 0-99999 below the node's first block 40000: not read" in detail


def test_quarter_before_the_nodes_history_is_reported_pruned_not_error(pruned_audit):
    result, db, hosts, _ = pruned_audit
    assert result.status("render", "2025Q1") == "incomplete"
    assert result.status("akash", "2025Q1") == "incomplete"
    rows = dict(_rows(db, "select network, detail from audit.coverage_checks where quarter = "
                          "'2025Q1' and check_name = 'boundaries' and network in "
                          "('render', 'akash')"))
    assert rows["render"] == (
        f"pruned: the node at {hosts['solana']} keeps slots from {SOL_FIRST_AVAILABLE} only, "
        "and 2025Q1 begins before that; audit this quarter against an archive node"
    )
    assert rows["akash"] == (
        f"pruned: the node at {hosts['cosmos']} keeps heights from {COSMOS_EARLIEST} only, "
        "and 2025Q1 begins before that; audit this quarter against an archive node"
    )
    errors = _rows(db, "select count(*) from audit.quarter_audits where audit_status = 'error'")
    assert errors == [(0,)]


def test_the_audit_never_asks_below_the_nodes_history(pruned_audit):
    *_, (sol_log, cos_log) = pruned_audit
    slots = [p[0] for m, p in sol_log if m in ("getBlock", "getBlockTime")]
    heights = [int(p[0]) for m, p in cos_log if m in ("block", "block_results")]
    assert slots and min(slots) >= SOL_FIRST_AVAILABLE
    assert heights and min(heights) >= COSMOS_EARLIEST
