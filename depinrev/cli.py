"""The `depinrev` command line: a thin layer over the libraries in indexers/ and warehouse/."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from depinrev.config import Config, ConfigError, default_config_path, load_config

app = typer.Typer(
    help="Audited on-chain revenue for DePIN compute networks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# Piped output (CI logs, `make demo | tee`) gets a wide page instead of rich's 80 columns.
console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="network configuration YAML [default: $DEPINREV_CONFIG or "
        "config/networks.devnet.yaml]",
    ),
]
LakeOpt = Annotated[Path, typer.Option("--lake", help="root of the Parquet lake")]


def _load(config: Path | None) -> Config:
    path = config or default_config_path()
    try:
        return load_config(path)
    except ConfigError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command("check-config")
def check_config(config: ConfigOpt = None) -> None:
    """Validate a network configuration file and list what it declares."""
    cfg = _load(config)
    t = Table("network", "devnet", "chains", "sources", "rules")
    for name, net in cfg.networks.items():
        t.add_row(
            name,
            "yes" if net.devnet else "no",
            ", ".join(cfg.chains_of(name)),
            str(len(net.sources)),
            str(len(net.revenue_rules)),
        )
    console.print(t)
    console.print(f"[green]ok[/green]: {config or default_config_path()}")


def _index(
    cfg: Config,
    networks: list[str],
    lake: Path,
    *,
    from_block: int | None,
    to_block: int | None,
    overwrite: bool,
) -> None:
    from chains.transport import RpcUnavailable
    from indexers.dispatch import index_network

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not sys.stdout.isatty(),
    ) as progress:
        tasks: dict[str, int] = {}

        def tick(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = progress.add_task(what, total=total)
            progress.update(tasks[what], completed=done)

        t = Table(
            "network",
            "chain",
            "final block",
            "indexed",
            "skipped",
            "logs",
            "rows",
            "reorgs",
            "seconds",
            title=f"indexed into {lake}",
        )
        for name in networks:
            try:
                report = index_network(
                    cfg,
                    name,
                    lake,
                    from_block=from_block,
                    to_block=to_block,
                    overwrite=overwrite,
                    progress=tick,
                )
            except (ConfigError, RpcUnavailable) as exc:
                err_console.print(f"[red]error:[/red] {name}: {exc}")
                raise typer.Exit(1) from exc
            for c in report.chains:
                t.add_row(
                    name,
                    c.chain,
                    str(c.final),
                    str(c.chunks_indexed),
                    str(c.chunks_skipped),
                    str(c.logs),
                    str(sum(c.rows.values())),
                    str(len(c.reorgs)),
                    f"{c.seconds:.1f}",
                )
    console.print(t)


@app.command()
def index(
    network: Annotated[
        list[str] | None, typer.Option("--network", "-n", help="network(s); default all")
    ] = None,
    from_block: Annotated[int | None, typer.Option(help="first block (widened to a chunk)")] = None,
    to_block: Annotated[int | None, typer.Option(help="last block (widened to a chunk)")] = None,
    overwrite: Annotated[bool, typer.Option(help="re-index chunks already in the lake")] = False,
    config: ConfigOpt = None,
    lake: LakeOpt = Path("data/lake"),
) -> None:
    """Index finalized blocks of the networks' sources into the Parquet lake (resumable)."""
    cfg = _load(config)
    names = network or sorted(cfg.networks)
    for n in names:
        if n not in cfg.networks:
            _unknown(cfg, n)
    _index(cfg, names, lake, from_block=from_block, to_block=to_block, overwrite=overwrite)


def _unknown(cfg: Config, name: str) -> None:
    err_console.print(
        f"[red]error:[/red] unknown network {name!r}; configured: {', '.join(sorted(cfg.networks))}"
    )
    raise typer.Exit(2)


@app.command()
def summary(config: ConfigOpt = None, lake: LakeOpt = Path("data/lake")) -> None:
    """Per-network, per-quarter totals of lease payments, fees and burns in the lake."""
    from depinrev.summary import summarize

    cfg = _load(config)
    print_summary(summarize(lake, cfg), cfg)


def print_summary(rows: list, cfg: Config) -> None:
    t = Table(
        "network",
        "quarter",
        "dataset",
        "event",
        "measure",
        "token",
        "events",
        "amount",
        title="Lake summary (token amounts, exact; devnet networks are simulated)",
    )
    for r in rows:
        symbol = cfg.tokens[r.token].symbol if r.token in cfg.tokens else r.token
        label = (
            f"{r.network} (devnet)"
            if cfg.networks.get(r.network, None) and cfg.networks[r.network].devnet
            else r.network
        )
        t.add_row(
            label, r.quarter, r.dataset, r.event, r.measure, symbol, str(r.events), f"{r.amount:,f}"
        )
    console.print(t)


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option(help="where the devnet, lake and warehouse go")] = Path(
        "data"
    ),
    seed: Annotated[int, typer.Option(help="devnet simulator seed")] = 7,
    config: ConfigOpt = None,
) -> None:
    """The local devnet demo: devnet up, index, build and audit, print the quarterly table."""
    import duckdb

    from devnet import DevnetError, devnet_up
    from warehouse.build import build_warehouse
    from warehouse.reports import report

    cfg_path = config or default_config_path()
    cfg = _load(cfg_path)
    console.rule("[bold]1. devnet: two anvil chains replaying 2025")
    try:
        devnet_up(cfg_path, data_dir / "devnet", seed=seed, reuse_running=True, log=console.print)
    except DevnetError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.rule("[bold]2. index every network into the Parquet lake")
    lake = data_dir / "lake"
    _index(cfg, sorted(cfg.networks), lake, from_block=None, to_block=None, overwrite=False)
    console.rule("[bold]3. build the DuckDB warehouse (dbt) and audit it against the chains")
    db = data_dir / "warehouse.duckdb"
    result = build_warehouse(cfg_path, lake, db)
    for problem in result.problems():
        err_console.print(f"[yellow]audit:[/yellow] {problem}")
    counts = result.dbt.summary()["counts"]
    console.print(
        "dbt build: " + ", ".join(f"{n} {k}" for k, n in counts.items())
        + f"; audit manifests: {len(result.manifests)} under {db.parent / 'audit'}"
    )
    console.rule("[bold]4. audited quarterly revenue per network (devnet stand-ins: simulated)")
    with duckdb.connect(str(db), read_only=True) as con:
        console.print(report(con), highlight=False, soft_wrap=True)
    console.print(
        f"SQL: uv run duckdb {db} -readonly \"select * from marts.fct_network_revenue_quarterly\"\n"
        "explain a figure: uv run depinrev explain --network akash-devnet --quarter 2025Q3"
    )
    if not result.ok:
        raise typer.Exit(1)


@app.command()
def ui(
    data_dir: Annotated[Path, typer.Option(help="lake, warehouse and DAGSTER_HOME go here")] = Path(
        "data"
    ),
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port of the web UI")] = 3000,
    devnet: Annotated[bool, typer.Option(help="start (or reuse) the local devnet first")] = True,
    config: ConfigOpt = None,
) -> None:
    """Start the Dagster web UI (dagster dev) against the devnet, with DAGSTER_HOME under data/."""
    from pipelines.launcher import Paths, exec_dagster_dev

    cfg_path = config or default_config_path()
    _load(cfg_path)
    if devnet:
        from devnet import DevnetError, devnet_up

        try:
            devnet_up(cfg_path, data_dir / "devnet", reuse_running=True, log=console.print)
        except DevnetError as exc:
            err_console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from exc
    console.print(f"Dagster UI on http://{host}:{port} (Ctrl-C stops it)")
    exec_dagster_dev(Paths.under(data_dir, cfg_path), host, port)


@app.command()
def backfill(
    from_date: Annotated[str, typer.Option("--from", help="first day, YYYY-MM-DD (UTC)")],
    to_date: Annotated[str, typer.Option("--to", help="last day, YYYY-MM-DD (UTC)")],
    network: Annotated[
        list[str] | None, typer.Option("--network", "-n", help="network(s); default all")
    ] = None,
    url: Annotated[str, typer.Option(help="the running Dagster UI")] = "http://127.0.0.1:3000",
    wait: Annotated[bool, typer.Option(help="wait for the backfill, then rebuild")] = True,
    timeout: Annotated[float, typer.Option(help="seconds to wait for each step")] = 1800,
    config: ConfigOpt = None,
) -> None:
    """Launch a Dagster backfill of the ingest partitions of a date range (needs `depinrev ui`),
    then rebuild the warehouse (audit + dbt) once it completes."""
    from datetime import date

    from pipelines.launcher import BackfillError, DagsterWeb, partition_keys

    cfg = _load(config)
    names = network or sorted(cfg.networks)
    for n in names:
        if n not in cfg.networks:
            _unknown(cfg, n)
    try:
        start, end = date.fromisoformat(from_date), date.fromisoformat(to_date)
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] --from/--to must be dates like 2025-07-01: {exc}")
        raise typer.Exit(2) from exc
    web = DagsterWeb(url)
    try:
        keys = partition_keys(names, start, end)
        backfill_id = web.launch_backfill(keys, f"depinrev backfill {start}..{end}")
        console.print(f"backfill {backfill_id}: {len(keys)} partitions ({', '.join(names)})")
        if not wait:
            return
        status = web.wait_backfill(backfill_id, timeout)
        console.print(f"backfill {backfill_id}: {status}")
        if status not in ("COMPLETED", "COMPLETED_SUCCESS"):
            raise typer.Exit(1)
        run_id = web.launch_job("warehouse_job")
        status = web.wait_run(run_id, timeout)
        console.print(f"warehouse_job run {run_id}: {status}")
        if status != "SUCCESS":
            raise typer.Exit(1)
    except BackfillError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc


@app.command()
def doctor(
    network: Annotated[str, typer.Option("--network", help="network to probe")],
    quarter: Annotated[str | None, typer.Option("--quarter", help="plan this quarter, e.g. "
                                                "2025Q1 (default: start_block to head)")] = None,
    first_event: Annotated[str | None, typer.Option(
        "--first-event", help="an EVM source: find its first log by bisecting eth_getLogs "
        "(for its start_block)")] = None,
    config: ConfigOpt = None,
) -> None:
    """Probe each chain of a network and print the backfill plan: strategy and requests."""
    from chains.transport import ChainAccessError
    from depinrev.quarters import Quarter
    from indexers.doctor import DoctorRefusal
    from indexers.doctor import doctor as run_doctor
    from indexers.doctor import first_event as find_first_event

    cfg = _load(config)
    if network not in cfg.networks:
        _unknown(cfg, network)
    try:
        if first_event is not None:
            block = find_first_event(cfg, network, first_event)
            console.print(f"{network}/{first_event}: first event at block {block}"
                          if block is not None else
                          f"{network}/{first_event}: no event from its start_block on",
                          highlight=False, markup=False)
            return
        plans = run_doctor(cfg, network, Quarter.parse(quarter) if quarter else None)
    except (DoctorRefusal, ChainAccessError, ConfigError, ValueError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    for plan in plans:
        for line in plan.lines():
            console.print(line, highlight=False, markup=False)


def _mount() -> None:
    from devnet.commands import app as devnet_app
    from warehouse.commands import app as warehouse_app

    app.add_typer(devnet_app, name="devnet", help="Local anvil devnet: up, down, status.")
    # build / close / report / explain sit at the top level: `depinrev report --quarter 2025Q3`
    for command in warehouse_app.registered_commands:
        app.registered_commands.append(command)


_mount()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
