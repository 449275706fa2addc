"""`build_warehouse`: lake + config (+ prices) -> DuckDB warehouse with audited marts.

Steps, each leaving the file consistent for the next:
1. config tables (`config.*`), user prices, raw views over the lake and the lake inventory;
2. the chain audit (boundaries, coverage, reconciliation) -> audit.quarter_audits etc.;
3. `dbt build` (models + data tests + unit tests); the quarterly mart joins the audit;
4. dbt results, manifests (table + JSON), restatements of closed quarters.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from depinrev.config import Config, load_config
from depinrev.lake import Lake
from warehouse.audit import AuditResult, run_audit
from warehouse.audit.manifest import write_manifests
from warehouse.audit.run import ReaderFactory, create_audit_tables
from warehouse.closing import Restatement, detect_restatements, ensure_closing_tables
from warehouse.dbt_run import DBT_DIR, DbtNodeResult, DbtResult, run_dbt_build
from warehouse.prices import load_user_prices
from warehouse.raw import create_raw_views, inventory
from warehouse.reported import load_reported_figures
from warehouse.rules import load_config_tables

SCHEMAS = ("raw", "config", "staging", "intermediate", "marts", "audit")

_RUN_DDL = """
create table if not exists audit.builds (
    build_id varchar primary key, started_at timestamp not null, finished_at timestamp,
    config_path varchar not null, lake_root varchar not null, prices_csv varchar,
    lake_file_count integer, audit_ran boolean not null, dbt_success boolean,
    quarters_failing integer, restatements_recorded integer);
alter table audit.builds add column if not exists inputs_fingerprint varchar;
alter table audit.builds add column if not exists full_refresh boolean;
create or replace table audit.dbt_results (
    build_id varchar not null, unique_id varchar not null, resource_type varchar not null,
    status varchar not null, failures bigint, message varchar);
"""


@dataclass
class BuildResult:
    db_path: Path
    build_id: str
    dbt: DbtResult
    audit: AuditResult | None
    manifests: list[Path] = field(default_factory=list)
    restatements: list[Restatement] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """dbt built and every test passed, and no audited quarter failed or errored."""
        return self.dbt.success and (self.audit is None or self.audit.ok)

    def problems(self) -> list[str]:
        out = [f"dbt: {n.unique_id} {n.status}: {n.message}" for n in self.dbt.failed_tests]
        if self.dbt.error:
            out.append(f"dbt: {self.dbt.error}")
        if self.audit is not None:
            for q in self.audit.quarters:
                if q.status in ("fail", "error"):
                    out += [f"audit {q.network} {q.quarter}: {i}" for i in q.errors + q.issues]
        return out


# The file is created in a storage format that DuckDB 1.4+ reads, so the DuckDB command line
# (PyPI `duckdb-cli`, 1.5.x) and older clients can open it read-only; later writes keep it.
STORAGE_COMPATIBILITY = "v1.4.0"


def _connect_creating(db: Path) -> duckdb.DuckDBPyConnection:
    if db.exists():
        return duckdb.connect(str(db))
    return duckdb.connect(str(db), config={"storage_compatibility_version": STORAGE_COMPATIBILITY})


def prepare_inputs(
    config: Config, lake: Lake, db_path: str | Path, *, prices_csv: str | Path | None = None,
    reported_csv: list[Path] | None = None,
) -> int:
    """Step 1, idempotent: schemas, config tables, user prices, reported figures beyond the
    seed (`reported_csv`: CSV files with the seed's header), raw views over the lake.

    Returns the number of lake files the raw views read."""
    db = Path(db_path).resolve()
    db.parent.mkdir(parents=True, exist_ok=True)
    files = inventory(lake)
    with _connect_creating(db) as con:
        for schema in SCHEMAS:
            con.execute(f"create schema if not exists {schema}")
        con.execute(_RUN_DDL)
        ensure_closing_tables(con)
        load_config_tables(con, config)
        load_user_prices(con, config, prices_csv)
        load_reported_figures(con, list(reported_csv or []))
        create_raw_views(con, lake.root, files)
        # dbt reads audit.* as a source: create the tables when no audit has run yet, but
        # never wipe the results of one (the audit and dbt may run as separate Dagster steps).
        has_audit = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'audit' and table_name = 'quarter_audits'"
        ).fetchone()[0]  # type: ignore[index]
        if not has_audit:
            create_audit_tables(con)
    return len(files)


def audit_warehouse(
    config: Config, lake: Lake, db_path: str | Path, reader_factory: ReaderFactory | None = None
) -> AuditResult:
    """Step 2: the chain audit into the audit.* tables (after prepare_inputs)."""
    with duckdb.connect(str(Path(db_path).resolve())) as con:
        create_audit_tables(con)
        return run_audit(con, config, lake, reader_factory)


def inputs_fingerprint(config: Config) -> str:
    """What decides the incremental marts besides their lake files and prices: the config
    (networks, tokens, revenue rules) and the dbt project itself. A change means a full refresh.
    """
    h = hashlib.sha256(config.model_dump_json().encode())
    for sub in ("models", "macros", "tests"):
        for f in sorted((DBT_DIR / sub).rglob("*")):
            if f.is_file():
                h.update(f.relative_to(DBT_DIR).as_posix().encode() + b"\0" + f.read_bytes())
    h.update((DBT_DIR / "dbt_project.yml").read_bytes())
    return h.hexdigest()


def start_build(
    db_path: str | Path,
    config_path: str | Path,
    lake: Lake,
    *,
    config: Config,
    prices_csv: str | Path | None,
    lake_file_count: int,
    audit_ran: bool,
) -> tuple[str, bool]:
    """Record a build in audit.builds (after prepare_inputs); return its id and whether dbt
    must rebuild the incremental marts from scratch (`--full-refresh`): when no earlier build
    succeeded with the same config and dbt project (inputs_fingerprint)."""
    build_id = uuid.uuid4().hex[:12]
    fingerprint = inputs_fingerprint(config)
    with duckdb.connect(str(Path(db_path).resolve())) as con:
        last = con.execute(
            "select inputs_fingerprint from audit.builds where dbt_success "
            "order by finished_at desc limit 1"
        ).fetchone()
        full_refresh = last is None or last[0] != fingerprint
        con.execute(
            "insert into audit.builds (build_id, started_at, config_path, lake_root, "
            "prices_csv, lake_file_count, audit_ran, inputs_fingerprint, full_refresh) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [build_id, datetime.now(UTC).replace(tzinfo=None), str(Path(config_path).resolve()),
             str(lake.root.resolve()),
             None if prices_csv is None else str(Path(prices_csv).resolve()), lake_file_count,
             audit_ran, fingerprint, full_refresh],
        )
    return build_id, full_refresh


def finish_build(
    db_path: str | Path,
    build_id: str,
    nodes: list[DbtNodeResult],
    *,
    success: bool,
    error: str | None = None,
    audit_dir: str | Path | None = None,
    reported_csv: list[Path] | None = None,
) -> BuildResult:
    """Step 4, after `dbt build`: record results, write manifests, detect restatements."""
    db = Path(db_path).resolve()
    dbt = DbtResult(success=success, nodes=sorted(nodes, key=lambda n: n.unique_id), error=error)
    with duckdb.connect(str(db)) as con:
        if dbt.nodes:  # none when dbt could not even parse the project
            con.executemany(
                "insert into audit.dbt_results values (?, ?, ?, ?, ?, ?)",
                [[build_id, n.unique_id, n.resource_type, n.status, n.failures, n.message]
                 for n in dbt.nodes],
            )
        manifests = write_manifests(
            con, Path(audit_dir) if audit_dir else db.parent / "audit", dbt.summary())
        restatements = detect_restatements(con) if dbt.success else []
        failing = con.execute(
            "select count(*) from audit.quarter_audits where audit_status in ('fail', 'error')"
        ).fetchone()[0]  # type: ignore[index]
        con.execute(
            "update audit.builds set finished_at = ?, dbt_success = ?, quarters_failing = ?, "
            "restatements_recorded = ? where build_id = ?",
            [datetime.now(UTC).replace(tzinfo=None), dbt.success, failing, len(restatements),
             build_id],
        )
    return BuildResult(db, build_id, dbt, None, manifests, restatements)


def build_warehouse(
    config_path: str | Path,
    lake_root: str | Path,
    db_path: str | Path,
    *,
    prices_csv: str | Path | None = None,
    audit: bool = True,
    reader_factory: ReaderFactory | None = None,
    audit_dir: str | Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    reported_csv: list[Path] | None = None,
) -> BuildResult:
    """Build (or rebuild) the warehouse; never raises for failing tests or audits: see `.ok`.

    reader_factory: how to reach each chain (default: JSON-RPC at ChainConfig.rpc_url()).
    audit_dir: where manifest JSON files go (default: `<db dir>/audit`).
    progress: told (step, done, total) as the steps go: "inputs", "chain audit" (0/1 then
    1/1) and "dbt build" (nodes finished of nodes selected).
    reported_csv: reported figures beyond the seed (e.g. the devnet's simulated ones).
    """

    def step(what: str, done: int, total: int) -> None:
        if progress is not None:
            progress(what, done, total)

    config = load_config(config_path)
    lake = Lake(lake_root)
    db = Path(db_path).resolve()
    step("inputs", 0, 1)
    n_files = prepare_inputs(config, lake, db, prices_csv=prices_csv,
                             reported_csv=reported_csv)
    step("inputs", 1, 1)
    build_id, full_refresh = start_build(db, config_path, lake, config=config,
                                         prices_csv=prices_csv, lake_file_count=n_files,
                                         audit_ran=audit)
    audit_result = None
    if audit:
        step("chain audit", 0, 1)
        audit_result = audit_warehouse(config, lake, db, reader_factory)
        step("chain audit", 1, 1)
    step("dbt build", 0, 0)  # dbt parses for ~10 s before the first node
    dbt = run_dbt_build(db, db.parent / "dbt_work", full_refresh=full_refresh,
                        progress=lambda done, total: step("dbt build", done, total))
    result = finish_build(db, build_id, dbt.nodes, success=dbt.success, error=dbt.error,
                          audit_dir=audit_dir)
    result.audit = audit_result
    return result
