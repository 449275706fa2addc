"""Typed resources shared by the domains. Values arrive through EnvVar at run time:
nothing here reads the environment when the code is imported.

RPC URLs: each chain's URL is read from the environment variable named by the chain's
`rpc_url_env` in the network configuration, when a run needs it (ChainConfig.rpc_url()).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import dagster as dg

from depinrev.config import Config, load_config
from depinrev.lake import Lake


class NetworkConfigResource(dg.ConfigurableResource):
    """The network configuration file (chains, tokens, networks, revenue rules)."""

    path: str

    def load(self) -> Config:
        return load_config(self.path)


class LakeResource(dg.ConfigurableResource):
    """Where the Parquet lake lives, as a URI (a local path or file:// today)."""

    uri: str

    def lake(self) -> Lake:
        parsed = urlparse(self.uri)
        if parsed.scheme in ("", "file"):
            return Lake(Path(parsed.path if parsed.scheme else self.uri))
        raise ValueError(
            f"lake URI {self.uri!r}: only local paths and file:// are supported yet "
            "(see docs/scaling.md for object storage)"
        )


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file, the optional user price CSV and reported-figure CSVs."""

    db_path: str
    prices_csv: str | None = None
    # More reported figures than the seed's, e.g. the devnet's data/devnet/reported_figures.csv
    reported_csv: list[str] | None = None
    # The same as one string, paths joined by os.pathsep (from DEPINREV_REPORTED_CSV, which
    # `depinrev ui` sets to the devnet's file when there is one, else to "")
    reported_csv_paths: str = ""

    def reported_files(self) -> list[Path]:
        joined = [p for p in self.reported_csv_paths.split(os.pathsep) if p]
        return [Path(p) for p in [*(self.reported_csv or []), *joined]]
