"""No RPC URL with its key reaches a message, a log record, an audit table or the lake.

Every chain kind is reached at `http://127.0.0.1:PORT/v2/SECRETKEY?api-key=SECRET` (the
replay servers and the proxy in front of anvil ignore the path): index, audit, and three
failures (a chain that refuses, another chain id, a missing chain) must show the host only.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pytest

from chains.transport import ChainAccessError
from depinrev.config import load_config
from depinrev.lake import Lake
from indexers.dispatch import index_network
from tests.support.anvil_chain import config_yaml, small_chain
from tests.support.fault_proxy import FaultProxy
from tests.support.fault_worlds import EVM_ENV, client_env
from tests.support.jsonrpc_server import JsonRpcServer
from tests.warehouse.test_non_evm import (
    COSMOS_ENV,
    SOLANA_ENV,
    make_cluster,
    make_node,
    write_config,
)
from warehouse.build import audit_warehouse, prepare_inputs

pytestmark = pytest.mark.integration

KEY_PATH = "/v2/SECRETKEY?api-key=SECRET"


def _all_text(db: Path) -> str:
    """Every value of every table in the DuckDB file, as text."""
    out: list[str] = []
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE'"
        ).fetchall()
        assert any(s == "audit" for s, _ in tables)
        for schema, name in tables:
            for row in con.execute(f'select * from "{schema}"."{name}"').fetchall():
                out.append(" ".join(str(v) for v in row))
    return "\n".join(out)


def _lake_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def test_no_key_in_messages_logs_audit_tables_or_lake(tmp_path: Path, caplog):
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    with small_chain(tmp_path / "anvil") as chain, \
            FaultProxy(chain.url, seed=0, rate=0.0, classes=[]) as evm, \
            JsonRpcServer(make_cluster()) as sol, JsonRpcServer(make_node()) as cos, \
            pytest.MonkeyPatch.context() as mp:
        # one configuration with the three kinds: the non-EVM file plus the anvil chain
        nonevm = load_config(write_config(tmp_path / "nonevm.yaml"))
        (tmp_path / "evm.yaml").write_text(config_yaml(chain.token, EVM_ENV))
        evm_cfg = load_config(tmp_path / "evm.yaml")
        mp.setenv(EVM_ENV, evm.url + KEY_PATH)
        mp.setenv(SOLANA_ENV, sol.url + KEY_PATH)
        mp.setenv(COSMOS_ENV, cos.url + KEY_PATH)
        lake = Lake(tmp_path / "lake")
        for cfg in (nonevm, evm_cfg):
            for network in sorted(cfg.networks):
                index_network(cfg, network, lake)
            db = tmp_path / f"wh-{len(errors)}.duckdb"
            prepare_inputs(cfg, lake, db)
            result = audit_warehouse(cfg, lake, db)
            assert result.quarters, "nothing audited"
            text = _all_text(db)
            assert "SECRET" not in text
            errors.append(text)
        # failures: every classes' message names the host only
        with client_env(retries=1):
            for env, cfg, network in ((SOLANA_ENV, nonevm, "render"),
                                      (EVM_ENV, evm_cfg, "fault-net")):
                with FaultProxy(sol.url if env == SOLANA_ENV else chain.url, seed=3, rate=1.0,
                                classes=["http_5xx_html"]) as bad:
                    mp.setenv(env, bad.url + KEY_PATH)
                    with pytest.raises(ChainAccessError) as err:
                        index_network(cfg, network, tmp_path / "lake-fail")
                    assert bad.url in str(err.value)
                    errors.append(repr(err.value))
        wrong = evm_cfg.model_copy(deep=True)
        object.__setattr__(wrong.chains["fault-chain"], "chain_id", 1)
        mp.setenv(EVM_ENV, evm.url + KEY_PATH)
        with pytest.raises(ChainAccessError, match="reports chain id 31337") as err:
            index_network(wrong, "fault-net", tmp_path / "lake-wrong")
        assert evm.url in str(err.value)
        errors.append(repr(err.value))
        # the audit of a chain that cannot be reached records its error line, host only
        mp.setenv(COSMOS_ENV, "http://127.0.0.1:1" + KEY_PATH)
        mp.setenv(SOLANA_ENV, "http://127.0.0.1:1" + KEY_PATH)
        db = tmp_path / "wh-down.duckdb"
        prepare_inputs(nonevm, lake, db)
        with client_env(retries=0):
            audit_warehouse(nonevm, lake, db)
        text = _all_text(db)
        assert "RPC unavailable" in text and "http://127.0.0.1:1:" in text
        errors.append(text)
    records = [r.getMessage() for r in caplog.records]
    # urllib3's request lines are there, their targets hidden
    assert any('"POST /(path hidden) HTTP/1.1" 200' in m for m in records), "no request lines"
    for text in errors + records:
        assert "SECRET" not in text, text
    assert b"SECRET" not in _lake_bytes(tmp_path / "lake")
