"""`depinrev devnet up | down | status`: the typer sub-app (mounted by depinrev.cli).

CLI layer: the simulator is imported inside each command, so mounting this app costs only
typer. Errors (DevnetError, ConfigError) are raised: depinrev.cli.main answers them in one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from depinrev.terminal import out

app = typer.Typer(help="Local anvil devnet with a simulated 2025 history.", no_args_is_help=True,
                  rich_markup_mode=None)

DataDir = Annotated[
    Path, typer.Option("--data-dir", help="where state, logs, ledger and cache live")
]


def _default_data_dir() -> Path:
    return Path.cwd() / "data" / "devnet"


@app.command()
def up(
    config: Annotated[Path | None, typer.Option("--config", help="network config file")] = None,
    data_dir: DataDir = None,  # type: ignore[assignment]
    seed: Annotated[int, typer.Option(help="seed of the simulated history")] = 7,
    scale: Annotated[float, typer.Option(help="multiplies event counts")] = 1.0,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="always replay")] = False,
    write_addresses: Annotated[
        bool,
        typer.Option("--write-addresses", help="fill the deployed addresses into the config"),
    ] = False,
) -> None:
    """Start the nodes, deploy the contracts and replay 2025 (or restore it from the cache)."""
    from rich.table import Table

    from depinrev.config import default_config_path
    from devnet.api import devnet_up

    console = out()
    cfg = config or default_config_path()
    ddir = data_dir or _default_data_dir()
    state = devnet_up(
        cfg,
        ddir,
        seed=seed,
        scale=scale,
        use_cache=not no_cache,
        write_addresses=write_addresses,
        log=lambda m: console.print(m, highlight=False),
    )
    table = Table(title=f"devnet up ({state.source}, {state.elapsed_seconds:.1f}s)")
    for col in ("chain", "chain id", "rpc url", "pid", "head block"):
        table.add_column(col)
    for c in state.chains.values():
        table.add_row(c.name, str(c.chain_id), c.rpc_url, str(c.pid), str(c.head_block))
    console.print(table)
    console.print(f"ledger: {state.events} events in {state.ledger_path}", highlight=False)


@app.command()
def down(data_dir: DataDir = None) -> None:  # type: ignore[assignment]
    """Stop the nodes started by `up` (SIGTERM, then SIGKILL); safe to repeat."""
    from devnet.api import devnet_down

    console = out()
    ddir = data_dir or _default_data_dir()
    stopped = devnet_down(ddir, log=lambda m: console.print(m, highlight=False))
    if not stopped:
        console.print("no devnet node was running", highlight=False)


@app.command()
def status(data_dir: DataDir = None) -> None:  # type: ignore[assignment]
    """Each chain's pid, URL, chain id, head block and whether it is alive."""
    from rich.table import Table
    from rich.text import Text

    from devnet.api import DevnetError, devnet_status

    ddir = data_dir or _default_data_dir()
    rows = devnet_status(ddir)
    if not rows:
        raise DevnetError(f"no devnet state in {ddir}: start one with `depinrev devnet up`")
    table = Table(title="devnet status")
    for col in ("chain", "pid", "rpc url", "chain id", "head block", "alive"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["chain"],
            str(r["pid"]),
            r["rpc_url"],
            str(r["chain_id"]),
            "-" if r["head_block"] is None else str(r["head_block"]),
            Text("yes", style="green") if r["alive"] else Text("no", style="red"),
        )
    out().print(table)
