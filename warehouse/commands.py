"""`build`, `close`, `report`, `explain`: a typer sub-app to mount on the depinrev CLI.

CLI layer: the warehouse is imported inside each command, so mounting this app costs only
typer. Errors are raised, not printed: depinrev.cli.main turns them into one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from depinrev.terminal import Progress, out

if TYPE_CHECKING:
    from warehouse.build import BuildResult

app = typer.Typer(help="The DuckDB warehouse: build, close quarters, report, explain.",
                  no_args_is_help=True, rich_markup_mode=None)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="network config YAML")]
LakeOpt = Annotated[Path, typer.Option("--lake", help="Parquet lake root")]
DbOpt = Annotated[Path, typer.Option("--db", help="DuckDB warehouse file")]
FormatOpt = Annotated[str, typer.Option("--format", help="table, csv, json or markdown")]


def _quarter(text: str) -> str:
    from depinrev.quarters import Quarter

    try:
        return Quarter.parse(text).label
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--quarter") from exc


def _format(fmt: str, *extra: str) -> str:
    """A known output format (the text formats of warehouse.reports, plus `extra` ones the
    command offers, e.g. report's html)."""
    from warehouse.reports import FORMATS

    if fmt not in (*FORMATS, *extra):
        raise typer.BadParameter(
            f"{fmt!r}; choose {', '.join((*FORMATS, *extra))}", param_hint="--format"
        )
    return fmt


def build_with_progress(
    config: Path,
    lake: Path,
    db: Path,
    *,
    prices_csv: Path | None = None,
    audit: bool = True,
    reported_csv: list[Path] | None = None,
) -> BuildResult:
    """build_warehouse with its steps and dbt node counts on the progress display."""
    import duckdb

    from depinrev.config import load_config
    from depinrev.lake import LakeError
    from warehouse.build import build_warehouse
    from warehouse.reports import WarehouseError

    load_config(config)  # a bad file is named before anything is written
    if not lake.is_dir():
        raise LakeError(f"no lake at {lake}: index one first (`depinrev index`) or give --lake")
    if next(lake.rglob("*.parquet"), None) is None:
        raise LakeError(f"the lake at {lake} holds no indexed chunk: run `depinrev index` first")
    with Progress("steps") as progress:
        try:
            return build_warehouse(
                config, lake, db, prices_csv=prices_csv, audit=audit, reported_csv=reported_csv,
                progress=lambda what, done, total: progress.update(
                    what, done, total, "nodes" if what == "dbt build" else "steps"))
        except duckdb.IOException as exc:  # the file locked by another writer (Dagster)
            raise WarehouseError(f"cannot build the warehouse {db}: {exc}") from exc


@app.command()
def build(
    config: ConfigOpt = None,
    lake: LakeOpt = Path("data/lake"),
    db: DbOpt = Path("data/warehouse.duckdb"),
    prices_csv: Annotated[Path | None, typer.Option(
        "--prices-csv", help="daily USD prices: date,token,price_usd or a CoinGecko export")
    ] = None,
    audit: Annotated[bool, typer.Option(help="run the chain audit (needs the chains' RPC)")] = True,
    reported_csv: Annotated[list[Path] | None, typer.Option(
        "--reported-csv", help="more reported figures, the seed's CSV header (repeatable)")
    ] = None,
) -> None:
    """Build the warehouse from the lake, audit it against the chains, run the dbt tests."""
    from depinrev.config import default_config_path

    res = build_with_progress(config or default_config_path(), lake, db,
                              prices_csv=prices_csv, audit=audit, reported_csv=reported_csv)
    for p in res.problems():
        typer.echo(p, err=True)
    for r in res.restatements:
        typer.echo(f"restatement {r.network} {r.quarter} {r.token} {r.metric}: "
                   f"{r.old_value} -> {r.new_value} ({r.reason})", err=True)
    counts = ", ".join(f"{n} {k}" for k, n in res.dbt.summary()["counts"].items())
    typer.echo(f"warehouse {res.db_path} build {res.build_id}: "
               f"{'ok' if res.ok else 'PROBLEMS'}; dbt {counts or 'nothing built'}; "
               f"{len(res.manifests)} manifests")
    raise typer.Exit(0 if res.ok else 1)


@app.command()
def close(
    quarter: Annotated[str, typer.Option("--quarter", help="e.g. 2025Q3")],
    network: Annotated[list[str] | None, typer.Option("--network")] = None,
    db: DbOpt = Path("data/warehouse.duckdb"),
    force: Annotated[bool, typer.Option(help="close even if the audit did not pass")] = False,
    note: Annotated[str | None, typer.Option(help="why (stored with the version)")] = None,
) -> None:
    """Freeze a quarter's figures as a new closed version."""
    from warehouse.closing import close_quarter
    from warehouse.reports import open_warehouse, require_tables

    q = _quarter(quarter)
    with open_warehouse(db, read_only=False) as con:
        require_tables(con, "marts.fct_network_revenue_quarterly", "audit.manifests")
        done = close_quarter(con, q, network, force=force, note=note)
    for net, version in done:
        out().print(f"closed {net} {q} as version {version}")


@app.command()
def report(
    quarter: Annotated[str | None, typer.Option("--quarter")] = None,
    network: Annotated[str | None, typer.Option("--network")] = None,
    fmt: Annotated[str, typer.Option(
        "--format", help="table, csv, json, markdown, or html (a page with charts: --out)")
    ] = "table",
    db: DbOpt = Path("data/warehouse.duckdb"),
    vs_reported: Annotated[bool, typer.Option(
        "--vs-reported", help="reported figures beside the on-chain ones instead")] = False,
    out: Annotated[Path | None, typer.Option(
        "--out", help="html: the page to write (default data/reports/report.html)")] = None,
) -> None:
    """The audited quarterly table (closed figures where closed, with pending restatements)."""
    from warehouse.reports import open_warehouse
    from warehouse.reports import report as report_text

    q = _quarter(quarter) if quarter else None
    fmt = _format(fmt, "html")
    with open_warehouse(db, read_only=True) as con:
        if fmt == "html":
            from warehouse.report_html import write_html_report

            page, pngs = write_html_report(
                con, out or db.parent / "reports" / "report.html", network)
            typer.echo(f"wrote {page} and {len(pngs)} chart PNGs in {page.parent}")
        elif vs_reported:
            from warehouse.reported import vs_reported_rows
            from warehouse.reports import render

            rows = vs_reported_rows(con, network)
            if fmt != "json":  # one line per row: why_they_differ lists its reasons by line
                rows = [{k: v.replace("\n", "; ") if isinstance(v, str) else v
                         for k, v in r.items()} for r in rows]
            typer.echo(render(rows, fmt, "Reported vs on chain"), nl=False)
        else:
            typer.echo(report_text(con, q, network, fmt), nl=False)


@app.command()
def explain(
    network: Annotated[str, typer.Option("--network")],
    quarter: Annotated[str, typer.Option("--quarter")],
    fmt: FormatOpt = "table",
    db: DbOpt = Path("data/warehouse.duckdb"),
) -> None:
    """How a network's quarter is composed, its largest events and its audit evidence."""
    from warehouse.reports import explain as explain_text
    from warehouse.reports import open_warehouse

    q = _quarter(quarter)
    fmt = _format(fmt)
    with open_warehouse(db, read_only=True) as con:
        typer.echo(explain_text(con, network, q, fmt), nl=False)
