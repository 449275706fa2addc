"""Warehouse: the chain audit, the dbt models (through dagster-dbt) and the audited quarterly
revenue table, partitioned by quarter, behind a blocking audit check.

    lake/* -> audit/chain_audit -> warehouse/<dbt models> -> quarterly/audit -> quarterly/revenue
    (the dbt sources raw.* are the lake datasets)           blocking check

All of it writes one DuckDB file: the assets share the `duckdb` pool (one writer at a time),
and warehouse.build takes a file lock as well.
"""

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, dbt_assets

from depinrev.quarters import Quarter
from pipelines.ingest.assets import INGEST_DATASETS, lake_key
from pipelines.resources import LakeResource, NetworkConfigResource, WarehouseResource
from pipelines.warehouse.dbt_project import AUDIT_KEY, Translator, dbt_project
from pipelines.warehouse.partitions import quarters
from warehouse.build import audit_warehouse, finish_build, prepare_inputs, start_build
from warehouse.dbt_run import node_results
from warehouse.report_html import write_html_report
from warehouse.reported import vs_reported_rows
from warehouse.reports import report_rows

POOL = "duckdb"


@dg.asset(
    key=AUDIT_KEY,
    deps=[lake_key(d) for d in INGEST_DATASETS],
    group_name="warehouse",
    kinds={"duckdb"},
    pool=POOL,
    check_specs=[
        dg.AssetCheckSpec(
            "no_quarter_fails",
            asset=AUDIT_KEY,
            description="no network-quarter fails coverage or reconciliation (open quarters may be "
            "incomplete)",
        )
    ],
    description="Quarter boundaries by block-time binary search, coverage and finality, "
    "reconciliation of each source by its declared method (totalSupply or a balance read with "
    "eth_call, the chunks read again from a second endpoint, or a Subtensor counter at the "
    "quarter's boundary blocks).",
)
def chain_audit(
    context: dg.AssetExecutionContext,
    network_config: NetworkConfigResource,
    lake: LakeResource,
    warehouse: WarehouseResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    config = network_config.load()
    db = Path(warehouse.db_path)
    prepare_inputs(config, lake.lake(), db, prices_csv=warehouse.prices_csv,
                   reported_csv=warehouse.reported_files())
    result = audit_warehouse(config, lake.lake(), db)
    rows = [
        {
            "network": q.network,
            "quarter": q.quarter,
            "status": q.status,
            "issues": "; ".join(q.errors + q.issues)[:300],
        }
        for q in result.quarters
    ]
    failing = [r for r in rows if r["status"] in ("fail", "error")]
    yield dg.MaterializeResult(
        metadata={
            "quarters": dg.MetadataValue.md(_markdown(rows)),
            "failing": len(failing),
            "duckdb": dg.MetadataValue.path(str(db)),
        }
    )
    yield dg.AssetCheckResult(
        check_name="no_quarter_fails",
        passed=not failing,
        description="; ".join(f"{r['network']} {r['quarter']}: {r['issues']}" for r in failing)
        or "every audited quarter passes or is still open",
        metadata={"failing": len(failing)},
    )


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=Translator(),
    pool=POOL,
)
def warehouse_dbt(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    network_config: NetworkConfigResource,
    lake: LakeResource,
    warehouse: WarehouseResource,
) -> Iterator[object]:
    """`dbt build` of the models, their data tests and unit tests, over the lake."""
    config = network_config.load()
    db = Path(warehouse.db_path).resolve()
    n_files = prepare_inputs(config, lake.lake(), db, prices_csv=warehouse.prices_csv,
                             reported_csv=warehouse.reported_files())
    build_id, full_refresh = start_build(
        db,
        network_config.path,
        lake.lake(),
        config=config,
        prices_csv=warehouse.prices_csv,
        lake_file_count=n_files,
        audit_ran=False,
    )
    # dbt's profile reads the warehouse path from this variable (dbt/profiles.yml)
    os.environ["DEPINREV_WAREHOUSE"] = str(db)
    args = ["build", "--full-refresh"] if full_refresh else ["build"]
    invocation = dbt.cli(args, context=context, raise_on_error=False)
    yield from invocation.stream()
    results = node_results(invocation.target_path / "run_results.json")
    build = finish_build(db, build_id, results, success=invocation.is_successful())
    context.log.info(
        f"warehouse build {build.build_id}: {'ok' if build.ok else 'PROBLEMS'}; "
        f"{len(build.manifests)} manifests, {len(build.restatements)} restatements"
    )
    if not invocation.is_successful():
        raise dg.Failure("dbt build failed", metadata={"problems": "\n".join(build.problems())})


QUARTER_AUDIT_KEY = dg.AssetKey(["quarterly", "audit"])
QUARTERLY_KEY = dg.AssetKey(["quarterly", "revenue"])
QUARTERLY_MART = dg.AssetKey(["warehouse", "fct_network_revenue_quarterly"])


@dg.asset(
    key=QUARTER_AUDIT_KEY,
    deps=[QUARTERLY_MART, AUDIT_KEY],
    partitions_def=quarters,
    group_name="quarterly",
    kinds={"duckdb"},
    pool=POOL,
    check_specs=[
        dg.AssetCheckSpec(
            "quarter_audit_passed",
            asset=QUARTER_AUDIT_KEY,
            blocking=True,
            description="every network's quarter is complete, final, contiguous and reconciled",
        )
    ],
    description="The audit evidence of one quarter: statuses per network and the manifests.",
)
def quarter_audit(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    label = Quarter.from_key(context.partition_key).label
    db = Path(warehouse.db_path)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select network, coverage_status, reconciliation_status, audit_status, issues "
            "from audit.quarter_audits where quarter = ? order by network",
            [label],
        ).fetchall()
    table = [
        {"network": n, "coverage": c, "reconciliation": r, "status": s, "issues": i or ""}
        for n, c, r, s, i in rows
    ]
    manifests = sorted(str(p) for p in (db.parent / "audit").glob(f"manifest_*_{label}.json"))
    yield dg.MaterializeResult(
        metadata={
            "quarter": label,
            "networks": dg.MetadataValue.md(_markdown(table)),
            "manifests": dg.MetadataValue.json(manifests),
        }
    )
    bad = [r for r in table if r["status"] != "pass"]
    yield dg.AssetCheckResult(
        check_name="quarter_audit_passed",
        passed=bool(table) and not bad,
        description=(
            f"{label}: no audited network"
            if not table
            else "; ".join(f"{r['network']}: {r['status']} {r['issues']}" for r in bad)
            or f"{label}: {len(table)} networks pass"
        ),
        metadata={"statuses": dg.MetadataValue.json({r["network"]: r["status"] for r in table})},
    )


@dg.asset(
    key=QUARTERLY_KEY,
    deps=[QUARTER_AUDIT_KEY, QUARTERLY_MART],
    partitions_def=quarters,
    group_name="quarterly",
    kinds={"duckdb", "json"},
    pool=POOL,
    description="The audited quarterly revenue table of one quarter (closed figures where the "
    "quarter is closed), exported as JSON beside the warehouse, and the HTML report with charts "
    "(reports/report.html, a PNG per chart) shown in the metadata.",
)
def quarterly_revenue(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    label = Quarter.from_key(context.partition_key).label
    db = Path(warehouse.db_path)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = report_rows(con, quarter=label)
    out = db.parent / "reports" / f"revenue_{label}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(json.dumps(rows, indent=1, default=str) + "\n")
    tmp.replace(out)
    # The same HTML report (charts, audit evidence, reported vs on chain) as `depinrev report
    # --format html`, with a PNG per chart; the metadata shows the table and the charts.
    with duckdb.connect(str(db), read_only=True) as con:
        page, pngs = write_html_report(con, out.with_name("report.html"))
        vs = vs_reported_rows(con)
    charts = "\n\n".join(
        f"![{p.stem}](data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()})"
        for p in pngs)
    vs_table = [{k: r[k] for k in ("network", "period", "comparison", "reported_value",
                                   "onchain_value", "gap", "onchain_audit_status")} for r in vs]
    return dg.MaterializeResult(
        metadata={
            "quarter": label,
            "dagster/row_count": len(rows),
            "table": dg.MetadataValue.md(_markdown(rows)),
            "export": dg.MetadataValue.path(str(out)),
            "report_html": dg.MetadataValue.path(str(page)),
            "charts": dg.MetadataValue.md(charts or "(no charts)"),
            "reported_vs_onchain": dg.MetadataValue.md(_markdown(vs_table)),
        }
    )


def _markdown(rows: list[dict[str, object]]) -> str:
    if not rows:
        return "(none)"
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]).replace("|", "/") for c in cols) + " |" for r in rows]
    return "\n".join(lines)
