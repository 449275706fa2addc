"""The `depinrev` command line: a thin layer over the libraries in indexers/ and warehouse/.

The CLI layer is this module and each package's `commands.py`. They may import any package,
but only inside a command function, and nothing imports them: `depinrev --help` loads typer and
none of the product (see docs/benchmarks.md, "CLI start-up").

`main()` is the one place where an error becomes an answer: the product's own errors (a bad
configuration, an unreachable or wrong RPC, a missing lake or warehouse, a quarter that cannot
be closed, ...) end as one line on stderr and a non-zero exit. Anything else is a bug and still
ends in one line, which says so. `--debug` (anywhere on the command line) or DEPINREV_DEBUG=1
shows the traceback instead.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from depinrev import process
from depinrev.terminal import Progress, err, one_line, out, say_error

if TYPE_CHECKING:
    from depinrev.config import Config
    from depinrev.summary import SummaryRow

app = typer.Typer(
    help="Audited on-chain revenue for DePIN compute networks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # click's plain help: typer's rich help imports rich.markdown and markdown-it (~0.15 s)
    rich_markup_mode=None,
    context_settings={"max_content_width": 120},
    epilog="Errors end in one line on stderr (exit 1; 2 for a bad configuration or option); "
    "--debug or DEPINREV_DEBUG=1 shows the traceback.",
)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="network configuration YAML [default: $DEPINREV_CONFIG or "
        "config/networks.devnet.yaml]",
    ),
]
LakeOpt = Annotated[Path, typer.Option("--lake", help="root of the Parquet lake")]
NetworksOpt = Annotated[
    list[str] | None, typer.Option("--network", "-n", help="network(s); default all")
]

# The product's own errors: the message is the answer, the class says the exit code (2: a bad
# configuration or input file, 1: anything else the product expects to meet). Named, not
# imported, so that naming them costs nothing, and by class name within the product's
# packages, so that a class moving between modules stays known. A subclass is caught with its
# base (indexers.chunked.ChainMismatch is a ConfigError, chains.transport.RangeTooLarge an
# RpcError).
PRODUCT_PACKAGES = frozenset({"depinrev", "chains", "indexers", "warehouse", "devnet", "pipelines"})
EXIT_CODES: dict[str, int] = {
    "ConfigError": 2,  # depinrev.config
    "PriceFileError": 2,  # warehouse.prices: the --prices-csv file
    "LakeError": 1,  # depinrev.lake
    "RpcError": 1,  # chains.transport, warehouse.audit.rpc, devnet.rpc
    "RpcUnavailable": 1,  # chains.transport
    "ChainMismatch": 2,  # chains.transport: the endpoint serves another chain than configured
    "ChainAccessError": 1,  # chains.transport: every other chain-access fault (Pruned, NoBlock)
    "DoctorRefusal": 1,  # indexers.doctor: a plan that cannot work
    "IndexError_": 1,  # indexers.evm.extract
    "CloseError": 1,  # warehouse.closing
    "WarehouseError": 1,  # warehouse.reports
    "DevnetError": 1,  # devnet.api
    "BackfillError": 1,  # pipelines.launcher
    "ClusterError": 1,  # pipelines.cluster.servers
    "PipelineRunError": 1,  # pipelines.demo: a Dagster run of the demo failed
}
EXIT_BUG = 70  # EX_SOFTWARE: an exception the product does not expect


def product_error_code(exc: BaseException) -> int | None:
    """The exit code when `exc` is one of the product's own errors (EXIT_CODES), else None."""
    for cls in type(exc).__mro__:
        if cls.__module__.split(".")[0] in PRODUCT_PACKAGES and cls.__name__ in EXIT_CODES:
            return EXIT_CODES[cls.__name__]
    return None


def _load(config: Path | None) -> Config:
    from depinrev.config import default_config_path, load_config

    return load_config(config or default_config_path())


def _config_path(config: Path | None) -> Path:
    from depinrev.config import default_config_path

    return config or default_config_path()


def _check_networks(cfg: Config, names: list[str]) -> None:
    for name in names:
        if name not in cfg.networks:
            raise typer.BadParameter(
                f"unknown network {name!r}; configured: {', '.join(sorted(cfg.networks))}",
                param_hint="--network",
            )


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging")] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="show the traceback of an error (or DEPINREV_DEBUG=1)")
    ] = False,
) -> None:
    # --debug itself is taken off the command line by main(), wherever it stands.
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command("check-config")
def check_config(config: ConfigOpt = None) -> None:
    """Validate a network configuration file and list what it declares."""
    from rich.table import Table

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
    out().print(t)
    out().print(f"ok: {_config_path(config)}")


def _index(
    cfg: Config,
    networks: list[str],
    lake: Path,
    *,
    from_block: int | None,
    to_block: int | None,
    overwrite: bool,
) -> None:
    from rich.table import Table

    from indexers.dispatch import index_network

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
    notes: list[str] = []
    with Progress("chunks") as progress:
        for name in networks:
            try:
                report = index_network(
                    cfg,
                    name,
                    lake,
                    from_block=from_block,
                    to_block=to_block,
                    overwrite=overwrite,
                    progress=progress.update,
                )
            except Exception as exc:
                exc.add_note(f"indexing {name}")  # main() shows it; the error goes on up
                raise
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
                if c.identity:
                    notes.append(c.identity)
    out().print(t)
    for note in notes:
        out().print(note)


@app.command()
def index(
    network: NetworksOpt = None,
    from_block: Annotated[int | None, typer.Option(help="first block (widened to a chunk)")] = None,
    to_block: Annotated[int | None, typer.Option(help="last block (widened to a chunk)")] = None,
    overwrite: Annotated[bool, typer.Option(help="re-index chunks already in the lake")] = False,
    config: ConfigOpt = None,
    lake: LakeOpt = Path("data/lake"),
) -> None:
    """Index finalized blocks of the networks' sources into the Parquet lake (resumable)."""
    cfg = _load(config)
    names = network or sorted(cfg.networks)
    _check_networks(cfg, names)
    _index(cfg, names, lake, from_block=from_block, to_block=to_block, overwrite=overwrite)


@app.command()
def summary(config: ConfigOpt = None, lake: LakeOpt = Path("data/lake")) -> None:
    """Per-network, per-quarter totals of lease payments, fees and burns in the lake."""
    from depinrev.summary import summarize

    cfg = _load(config)
    _require_lake(lake)
    print_summary(summarize(lake, cfg), cfg)


def _require_lake(lake: Path) -> None:
    if not lake.is_dir():
        from depinrev.lake import LakeError

        raise LakeError(f"no lake at {lake}: index one first (`depinrev index`) or give --lake")


def print_summary(rows: list[SummaryRow], cfg: Config) -> None:
    from rich.table import Table

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
        net = cfg.networks.get(r.network)
        label = f"{r.network} (devnet)" if net is not None and net.devnet else r.network
        t.add_row(
            label, r.quarter, r.dataset, r.event, r.measure, symbol, str(r.events), f"{r.amount:,f}"
        )
    out().print(t)


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option(help="where the devnet, lake and warehouse go")] = Path(
        "data"
    ),
    seed: Annotated[int, typer.Option(help="devnet simulator seed")] = 7,
    scale: Annotated[float, typer.Option(help="devnet event counts x this (tests: 0.1)")] = 1.0,
    config: ConfigOpt = None,
) -> None:
    """The local devnet demo: devnet up, index, then through the Dagster definitions (in-process,
    runs kept in DATA_DIR/dagster for `depinrev ui`) audit and build; print the quarterly table."""
    from devnet.api import devnet_up
    from devnet.reported import REPORTED_FILE
    from warehouse.reports import open_warehouse, report

    cfg_path = _config_path(config)
    cfg = _load(cfg_path)
    console = out()
    console.rule("1. devnet: two anvil chains replaying 2025")
    devnet_up(cfg_path, data_dir / "devnet", seed=seed, scale=scale, reuse_running=True,
              log=console.print)
    console.rule("2. index every network into the Parquet lake")
    _index(cfg, sorted(cfg.networks), data_dir / "lake", from_block=None, to_block=None,
           overwrite=False)
    # On a devnet (a history that ends) the UI's day partitions end at the last indexed day,
    # not today (DEPINREV_LAST_DAY, read when pipelines loads).
    last_days = _last_final_days(cfg)
    if all(net.devnet for net in cfg.networks.values()):
        os.environ["DEPINREV_LAST_DAY"] = max(last_days.values())
    from pipelines.demo import materialize_everything
    from pipelines.launcher import Paths

    # the devnet's simulated "reported" figures (devnet/reported.py), beside the seed's public ones
    reported = data_dir / "devnet" / REPORTED_FILE
    paths = Paths.under(data_dir, cfg_path, [reported] if reported.exists() else None)
    console.rule("3. Dagster, in-process: each network's last day (checks the whole lake), the "
                 "warehouse (chain audit + dbt), each quarter's audit and table")
    steps = materialize_everything(paths, {n: (d, d) for n, d in last_days.items()},
                                   console.print)
    failed = [c for s in steps for c in s.checks_failed]
    console.print(
        f"Dagster: {len(steps)} runs, {sum(s.materialized for s in steps)} materializations, "
        f"{sum(s.checks_passed for s in steps)} checks passed, {len(failed)} failed; recorded "
        f"in {paths.dagster_home} (`make ui` shows them); audit manifests under "
        f"{paths.warehouse.parent / 'audit'}"
    )
    console.rule("4. audited quarterly revenue per network (devnet stand-ins: simulated)")
    db = paths.warehouse
    with open_warehouse(db, read_only=True) as con:
        console.print(report(con), highlight=False, soft_wrap=True)
    console.print(
        f"SQL: uv run duckdb {db} -readonly \"select * from marts.fct_network_revenue_quarterly\"\n"
        "explain a figure: uv run depinrev explain --network akash-devnet --quarter 2025Q3\n"
        "reported vs on chain: uv run depinrev report --vs-reported; "
        "charts: uv run depinrev report --format html; the Dagster UI: make ui"
    )
    if failed:
        for check in failed:
            err().print(f"check failed: {check}")
        raise typer.Exit(1)


def _last_final_days(cfg: Config) -> dict[str, str]:
    """Per network, the UTC day of its latest final block (over its chains)."""
    from datetime import UTC, datetime

    from indexers.dispatch import chain_clock

    days: dict[str, str] = {}
    for name in sorted(cfg.networks):
        latest = 0
        for chain_name in cfg.chains_of(name):
            with chain_clock(cfg, chain_name) as (final, clock):
                latest = max(latest, clock.timestamp(final))
        days[name] = datetime.fromtimestamp(latest, UTC).date().isoformat()
    return days


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
    cfg_path = _config_path(config)
    _load(cfg_path)
    from pipelines.launcher import Paths, exec_dagster_dev

    if devnet:
        from devnet.api import devnet_up

        devnet_up(cfg_path, data_dir / "devnet", reuse_running=True, log=out().print)
    from devnet.reported import REPORTED_FILE

    # the devnet's simulated "reported" figures reach the warehouse assets (DEPINREV_REPORTED_CSV)
    reported = data_dir / "devnet" / REPORTED_FILE
    out().print(f"Dagster UI on http://{host}:{port} (Ctrl-C stops it)")
    exec_dagster_dev(Paths.under(data_dir, cfg_path, [reported] if reported.exists() else None),
                     host, port)


@app.command()
def backfill(
    from_date: Annotated[str, typer.Option("--from", help="first day, YYYY-MM-DD (UTC)")],
    to_date: Annotated[str, typer.Option("--to", help="last day, YYYY-MM-DD (UTC)")],
    network: NetworksOpt = None,
    url: Annotated[str, typer.Option(help="the running Dagster UI")] = "http://127.0.0.1:3000",
    wait: Annotated[bool, typer.Option(help="wait for the backfill, then rebuild")] = True,
    timeout: Annotated[float, typer.Option(help="seconds to wait for each step")] = 1800,
    config: ConfigOpt = None,
) -> None:
    """Launch a Dagster backfill of the ingest partitions of a date range (needs `depinrev ui`),
    then rebuild the warehouse (audit + dbt) once it completes."""
    from datetime import date

    cfg = _load(config)
    names = network or sorted(cfg.networks)
    _check_networks(cfg, names)
    try:
        start, end = date.fromisoformat(from_date), date.fromisoformat(to_date)
    except ValueError as exc:
        raise typer.BadParameter(
            f"must be dates like 2025-07-01: {exc}", param_hint="--from/--to"
        ) from exc
    from pipelines.launcher import DagsterWeb, partition_keys

    web = DagsterWeb(url)
    keys = partition_keys(names, start, end)
    backfill_id = web.launch_backfill(keys, f"depinrev backfill {start}..{end}")
    out().print(f"backfill {backfill_id}: {len(keys)} partitions ({', '.join(names)})")
    if not wait:
        return
    with Progress("asset partitions") as progress:
        status = web.wait_backfill(
            backfill_id, timeout, lambda done, total: progress.update("backfill", done, total))
    out().print(f"backfill {backfill_id}: {status}")
    if status not in ("COMPLETED", "COMPLETED_SUCCESS"):
        raise typer.Exit(1)
    run_id = web.launch_job("warehouse_job")
    status = web.wait_run(run_id, timeout)
    out().print(f"warehouse_job run {run_id}: {status}")
    if status != "SUCCESS":
        raise typer.Exit(1)


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
    from depinrev.quarters import Quarter
    from indexers.doctor import doctor as run_doctor
    from indexers.doctor import first_event as find_first_event

    cfg = _load(config)
    _check_networks(cfg, [network])
    console = out()
    if first_event is not None:
        block = find_first_event(cfg, network, first_event)
        console.print(f"{network}/{first_event}: first event at block {block}"
                      if block is not None else
                      f"{network}/{first_event}: no event from its start_block on")
        return
    try:
        q = Quarter.parse(quarter) if quarter else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--quarter") from None
    # a refusal (DoctorRefusal) or a chain access error is the product's: one line, exit 1
    for plan in run_doctor(cfg, network, q):
        for line in plan.lines():
            console.print(line)


def _mount() -> None:
    # Cheap: both modules import only typer at the top (their commands import the rest).
    from devnet.commands import app as devnet_app
    from pipelines.cluster.commands import app as cluster_app
    from warehouse.commands import app as warehouse_app

    app.add_typer(devnet_app, name="devnet", help="Local anvil devnet: up, down, status.")
    app.add_typer(cluster_app, name="cluster",
                  help="Local cluster: PostgreSQL, Redis, Celery workers, Dagster.")
    # build / close / report / explain sit at the top level: `depinrev report --quarter 2025Q3`
    for command in warehouse_app.registered_commands:
        app.registered_commands.append(command)


_mount()


def _debug_wanted(args: list[str]) -> bool:
    """Take `--debug` off the command line wherever it stands (before a `--`)."""
    end = args.index("--") if "--" in args else len(args)
    wanted = "--debug" in args[:end]
    if wanted:
        args.remove("--debug")
    return wanted or os.environ.get("DEPINREV_DEBUG", "") not in ("", "0")


def _with_notes(message: str, exc: BaseException) -> str:
    """The message, then what the CLI was doing when it came (notes added on the way up)."""
    notes = getattr(exc, "__notes__", [])
    return f"{message} ({'; '.join(notes)})" if notes else message


def main(argv: list[str] | None = None) -> None:
    """The `depinrev` entry point: run the typer app, turn every error into one line."""
    process.start()
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_wanted(args)
    try:
        rv = app(args=args, prog_name="depinrev", standalone_mode=False)
    except typer.TyperException as exc:  # usage: a bad option, value or command
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError":  # `depinrev` alone: the help
            exc.show()  # type: ignore[attr-defined]
        else:
            command = getattr(ctx, "command_path", None) or "depinrev"
            say_error(f"{exc.format_message()} (see `{command} --help`)")
        sys.exit(exc.exit_code)
    except typer.Abort:
        say_error("aborted")
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        code = product_error_code(exc)
        if code is None:
            say_error(
                f"unexpected {type(exc).__module__}.{type(exc).__qualname__}: "
                f"{_with_notes(one_line(str(exc)), exc)} (a bug in depinrev?); "
                "run with --debug for the traceback"
            )
            sys.exit(EXIT_BUG)
        say_error(_with_notes(str(exc), exc))
        sys.exit(code)
    finally:
        process.end()  # every path out of here ends the process
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
