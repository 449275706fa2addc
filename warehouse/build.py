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
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb

from depinrev.config import Config, load_config
from depinrev.lake import Lake
from warehouse.audit import AuditResult, run_audit
from warehouse.audit.manifest import write_manifests
from warehouse.audit.run import ReaderFactory, create_audit_tables
from warehouse.closing import Restatement, detect_restatements, ensure_closing_tables
from warehouse.dbt_run import DBT_DIR, DbtNodeResult, DbtResult, run_dbt_build
from warehouse.prices import load_user_prices
from warehouse.raw import (
    create_raw_views,
    insert_rows,
    inventory,
    load_hash_cache,
    save_hash_cache,
)
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
alter table audit.builds add column if not exists dbt_inputs varchar;
alter table audit.builds add column if not exists dbt_skipped boolean;
alter table audit.builds add column if not exists dbt_outputs varchar;
create table if not exists audit.dbt_results (
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

    Returns the number of lake files the raw views read. A file's SHA-256 is read again only
    when its size, mtime, ctime or inode differ from the last verified ones
    (audit.lake_file_hashes); `close` re-hashes every file regardless."""
    db = Path(db_path).resolve()
    db.parent.mkdir(parents=True, exist_ok=True)
    with _connect_creating(db) as con:
        for schema in SCHEMAS:
            con.execute(f"create schema if not exists {schema}")
        cache = load_hash_cache(con)
        cached = dict(cache)
        files = inventory(lake, cache)
        if cache != cached:
            save_hash_cache(con, cache)
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


# What dbt reads besides the project: its sources (dbt/models/staging/_sources.yml).
_DBT_SOURCE_SCHEMAS = ("config",)
_DBT_SOURCE_TABLES = ("audit.quarter_audits", "audit.lake_files")
# Where dbt writes: its models' schemas and the seed's.
_DBT_OUTPUT_SCHEMAS = ("staging", "intermediate", "marts", "reported")


def _digest_rows(con: duckdb.DuckDBPyConnection, h: Any, sql: str) -> None:
    cur = con.execute(sql)
    h.update(repr([d[:2] for d in cur.description or []]).encode())
    while rows := cur.fetchmany(10_000):
        for r in rows:
            h.update(repr(r).encode() + b"\n")


def dbt_inputs(con: duckdb.DuckDBPyConnection, config: Config) -> str:
    """SHA-256 of everything `dbt build` reads: the config and the dbt project
    (inputs_fingerprint), its seeds, the dbt and DuckDB versions, every row of the `config`
    tables (networks, rules, user prices, reported figures ...), of audit.quarter_audits and
    audit.lake_files (each lake file's path and SHA-256), and the SQL of the `raw` views
    (which files they list). Two builds with equal dbt_inputs give dbt the same sources, so
    its models and tests give the same results."""
    h = hashlib.sha256(inputs_fingerprint(config).encode())
    for f in sorted((DBT_DIR / "seeds").rglob("*")):
        if f.is_file():
            h.update(f.relative_to(DBT_DIR).as_posix().encode() + b"\0" + f.read_bytes())
    for pkg in ("dbt-core", "dbt-duckdb", "duckdb"):
        h.update(f"{pkg}=={metadata.version(pkg)}\n".encode())
    tables = [f"{s}.{t}" for s, t in con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and table_schema in "
        f"({', '.join(repr(s) for s in _DBT_SOURCE_SCHEMAS)}) order by all").fetchall()]
    for table in [*tables, *_DBT_SOURCE_TABLES]:
        h.update(f"\0table {table}\n".encode())
        _digest_rows(con, h, f"select * from {table} order by all")
    h.update(b"\0views raw\n")
    _digest_rows(con, h, "select view_name, sql from duckdb_views() "
                         "where schema_name = 'raw' order by all")
    return h.hexdigest()


def dbt_outputs(con: duckdb.DuckDBPyConnection) -> str:
    """SHA-256 of the relations dbt built (schema, name, kind, columns and types): a dropped
    or re-created mart differs."""
    h = hashlib.sha256()
    _digest_rows(con, h, "select table_schema, table_name, column_name, data_type "
                         "from information_schema.columns where table_schema in "
                         f"({', '.join(repr(s) for s in _DBT_OUTPUT_SCHEMAS)}) order by all")
    return h.hexdigest()


def reusable_dbt_run(db_path: str | Path, build_id: str, config: Config) -> list[DbtNodeResult]:
    """Record this build's dbt_inputs; return the previous build's dbt results when they
    hold for this build too, else [] (dbt must run).

    They hold when the previous build (the latest finished one) ran or reused a successful
    `dbt build` on equal dbt_inputs, and the relations dbt built then are still there
    unchanged in shape (dbt_outputs). dbt is deterministic on its sources: the models would
    write the same rows and every test would give the same result on them, so the skipped
    run's results are the previous run's. The premise is that only dbt writes the dbt schemas
    (staging, intermediate, marts, reported)."""
    with duckdb.connect(str(Path(db_path).resolve())) as con:
        now_inputs = dbt_inputs(con, config)
        con.execute("update audit.builds set dbt_inputs = ? where build_id = ?",
                    [now_inputs, build_id])
        last = con.execute(
            "select build_id, dbt_inputs, dbt_success, inputs_fingerprint from audit.builds "
            "where finished_at is not null and build_id <> ? order by finished_at desc limit 1",
            [build_id]).fetchone()
        if last is None or not last[2] or last[1] != now_inputs:
            return []
        outputs = con.execute("select dbt_outputs from audit.builds where build_id = ?",
                              [last[0]]).fetchone()
        if outputs is None or outputs[0] != dbt_outputs(con):
            return []
        rows = con.execute(
            "select unique_id, resource_type, status, failures, message from audit.dbt_results "
            "where build_id = ? order by unique_id", [last[0]]).fetchall()
    return [DbtNodeResult(*r) for r in rows]


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
    dbt_skipped: bool = False,
) -> BuildResult:
    """Step 4, after `dbt build` (or its reuse, `dbt_skipped`): record results, write
    manifests, detect restatements."""
    db = Path(db_path).resolve()
    dbt = DbtResult(success=success, nodes=sorted(nodes, key=lambda n: n.unique_id), error=error)
    with duckdb.connect(str(db)) as con:
        con.execute("delete from audit.dbt_results")  # the last build's only
        if dbt.nodes:  # none when dbt could not even parse the project
            insert_rows(con, "audit.dbt_results", [
                [build_id, n.unique_id, n.resource_type, n.status, n.failures, n.message]
                for n in dbt.nodes])
        manifests = write_manifests(
            con, Path(audit_dir) if audit_dir else db.parent / "audit", dbt.summary())
        restatements = detect_restatements(con) if dbt.success else []
        failing = con.execute(
            "select count(*) from audit.quarter_audits where audit_status in ('fail', 'error')"
        ).fetchone()[0]  # type: ignore[index]
        con.execute(
            "update audit.builds set finished_at = ?, dbt_success = ?, quarters_failing = ?, "
            "restatements_recorded = ?, dbt_skipped = ?, dbt_outputs = ? where build_id = ?",
            [datetime.now(UTC).replace(tzinfo=None), dbt.success, failing, len(restatements),
             dbt_skipped, dbt_outputs(con), build_id],
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
    step("dbt build", 0, 0)  # dbt starts for ~5 s before the first node
    reused = reusable_dbt_run(db, build_id, config)
    if reused:
        step("dbt build", len(reused), len(reused))
        dbt = DbtResult(success=True, nodes=reused)
    else:
        dbt = run_dbt_build(db, db.parent / "dbt_work", full_refresh=full_refresh,
                            progress=lambda done, total: step("dbt build", done, total))
    result = finish_build(db, build_id, dbt.nodes, success=dbt.success, error=dbt.error,
                          audit_dir=audit_dir, dbt_skipped=bool(reused))
    result.audit = audit_result
    return result
