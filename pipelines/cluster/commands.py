"""`depinrev cluster up | down | status`: the typer sub-app (mounted by depinrev.cli).

CLI layer: the servers module is imported inside each command, so mounting this app costs only
typer. Errors (ClusterError, ConfigError) are raised: depinrev.cli.main answers them in one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from depinrev.terminal import out

app = typer.Typer(help="PostgreSQL, Redis, Celery workers, Dagster webserver and daemon.",
                  no_args_is_help=True, rich_markup_mode=None)

RootOpt = Annotated[Path, typer.Option("--dir", help="where the cluster keeps its servers' data, "
                                       "logs and working directories")]
DEFAULT_ROOT = Path("data/cluster")
DEVNET_DIR = Path("data/devnet")
# written by `up` when it started the devnet, so `down` stops it too
DEVNET_MARKER = "devnet-started-by-up"


def _layout(root: Path, config: Path | None = None, lake: Path | None = None,
            warehouse: Path | None = None) -> object:
    from depinrev.config import default_config_path
    from pipelines.cluster.servers import Layout, State

    state = State.load(root / "cluster.json")
    if config is None and state is not None:
        return Layout(Path(state.root), Path(state.config), Path(state.lake),
                      Path(state.warehouse))
    return Layout.under(root, config or default_config_path(), lake, warehouse)


@app.command()
def up(
    root: RootOpt = DEFAULT_ROOT,
    config: Annotated[Path | None, typer.Option("--config", help="network configuration "
                      "[default: $DEPINREV_CONFIG or config/networks.devnet.yaml]")] = None,
    lake: Annotated[Path | None, typer.Option(help="the shared lake [default: <dir>/lake]")] = None,
    warehouse: Annotated[Path | None, typer.Option(
        help="the shared DuckDB file [default: <dir>/warehouse.duckdb]")] = None,
    workers: Annotated[int, typer.Option(help="Celery workers")] = 2,
    port: Annotated[int, typer.Option(help="port of the Dagster web UI")] = 3100,
    redeliver_after: Annotated[int, typer.Option(
        help="seconds after which the step of a vanished worker goes to another worker")] = 60,
    devnet: Annotated[bool, typer.Option(help="start (or reuse) the local devnet first")] = True,
) -> None:
    """Start the cluster on 127.0.0.1: PostgreSQL, Redis, the workers, the daemon, the UI."""
    from depinrev.config import default_config_path
    from pipelines.cluster.servers import Layout
    from pipelines.cluster.servers import up as cluster_up

    console = out()
    cfg = (config or default_config_path()).resolve()
    started_devnet = False
    if devnet:
        from devnet.api import devnet_status, devnet_up

        started_devnet = not any(r["alive"] for r in devnet_status(DEVNET_DIR))
        devnet_up(cfg, DEVNET_DIR, reuse_running=True, log=console.print)
    layout = Layout.under(root, cfg, lake, warehouse)
    try:
        state = cluster_up(layout, workers=workers, webserver_port=port,
                           redeliver_after=redeliver_after, log=console.print)
    except BaseException:
        if started_devnet:  # leave nothing running that this call started
            from devnet.api import devnet_down

            devnet_down(DEVNET_DIR, log=console.print)
        raise
    if started_devnet:  # `down` stops the devnet only if `up` started it
        marker = root / DEVNET_MARKER
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(str(DEVNET_DIR.resolve()) + "\n")
    _print_status(state)
    console.print(f"Dagster UI: {state.url}; backfill: depinrev backfill --url {state.url} "
                  "--from 2025-01-01 --to 2025-03-31; stop: depinrev cluster down")


@app.command()
def down(root: RootOpt = DEFAULT_ROOT) -> None:
    """Stop exactly what `depinrev cluster up` started."""
    from pipelines.cluster.servers import Layout
    from pipelines.cluster.servers import down as cluster_down

    layout = _layout(root)
    assert isinstance(layout, Layout)
    stopped = cluster_down(layout, log=out().print)
    marker = root / DEVNET_MARKER
    if marker.exists():  # the devnet `up` started (one it found running is left running)
        from devnet.api import devnet_down

        stopped += devnet_down(marker.read_text().strip(), log=out().print)
        marker.unlink()
    out().print(f"cluster down: {len(stopped)} processes stopped" if stopped
                else f"no cluster runs from {root}")


@app.command()
def status(root: RootOpt = DEFAULT_ROOT) -> None:
    """What runs where: each process, its pid, address and log."""
    from pipelines.cluster.servers import State

    state = State.load(root / "cluster.json")
    if state is None or not state.processes:
        out().print(f"no cluster runs from {root}")
        raise typer.Exit(1)
    _print_status(state)


def _print_status(state: object) -> None:
    from rich.table import Table

    from pipelines.cluster.servers import State, iter_status

    assert isinstance(state, State)
    table = Table(title=f"cluster {state.root} (lake {state.lake}, warehouse {state.warehouse})")
    for col in ("process", "state", "pid", "address / Celery node", "log"):
        table.add_column(col)
    for row in iter_status(state):
        table.add_row(*row)
    out().print(table)
