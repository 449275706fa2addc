"""Per network and quarter: the evidence a figure rests on, as a table row and a JSON file.

The manifest holds no timestamps, so the same lake, chain and config give the same bytes and
the same SHA-256; closing a quarter stores it, and a restatement cites what changed in it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import duckdb

MANIFEST_DDL = """
create or replace table audit.manifests (
    network varchar not null, quarter varchar not null, manifest_sha256 varchar not null,
    manifest_json varchar not null, path varchar, primary key (network, quarter));
"""


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def build_manifest(
    con: duckdb.DuckDBPyConnection, network: str, quarter: str, dbt_summary: dict[str, Any]
) -> dict[str, Any]:
    blocks = _rows(
        con,
        "select chain, chain_id, first_block, last_block, first_block_hash, last_block_hash, "
        "final from audit.quarter_blocks where network = ? and quarter = ? order by chain_id",
        [network, quarter],
    )
    files: list[dict[str, Any]] = []
    for b in blocks:
        lo = b["first_block"] if b["first_block"] is not None else 0
        hi = b["last_block"] if b["last_block"] is not None else 2**62
        files += _rows(
            con,
            "select dataset, chain_id, start_block, end_block, "
            "regexp_extract(path, '[^/]+$') as file, sha256, row_count from audit.lake_files "
            "where network = ? and chain_id = ? and end_block >= ? and start_block <= ? "
            "order by dataset, start_block",
            [network, b["chain_id"], lo, hi],
        )
    audit_row = _rows(
        con, "select * from audit.quarter_audits where network = ? and quarter = ?",
        [network, quarter],
    )
    return {
        "version": 1,
        "network": network,
        "quarter": quarter,
        "audit": audit_row[0] if audit_row else None,
        "quarter_blocks": blocks,
        "coverage_checks": _rows(
            con,
            "select chain_id, check_name, status, detail from audit.coverage_checks "
            "where network = ? and quarter = ? order by chain_id, check_name, detail",
            [network, quarter],
        ),
        "reconciliations": _rows(
            con,
            "select * exclude (network, quarter) from audit.reconciliations "
            "where network = ? and quarter = ? order by chain_id, source, measure",
            [network, quarter],
        ),
        "lake_files": files,
        "dbt": dbt_summary,
    }


def write_manifests(
    con: duckdb.DuckDBPyConnection, out_dir: Path, dbt_summary: dict[str, Any]
) -> list[Path]:
    """Write one manifest per audited (network, quarter) to audit.manifests and `out_dir`."""
    con.execute(MANIFEST_DDL)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    keys = con.execute(
        "select network, quarter from audit.quarter_audits order by 1, 2").fetchall()
    for network, quarter in keys:
        doc = build_manifest(con, network, quarter, dbt_summary)
        text = json.dumps(doc, indent=1, sort_keys=True, default=str) + "\n"
        sha = hashlib.sha256(text.encode()).hexdigest()
        path = out_dir / f"manifest_{network}_{quarter}.json"
        path.write_text(text)
        paths.append(path)
        con.execute(
            "insert into audit.manifests values (?, ?, ?, ?, ?)",
            [network, quarter, sha, text, str(path.resolve())],
        )
    return paths
