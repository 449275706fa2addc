"""The one Dagster entry point: merges the per-domain definitions.

    dagster dev -m pipelines.definitions      (or `depinrev ui`, which sets the variables)

Resources take their values from environment variables when a run starts:
DEPINREV_CONFIG (network YAML), DEPINREV_LAKE (lake URI), DEPINREV_WAREHOUSE (DuckDB file),
DEPINREV_REPORTED_CSV (more reported-figure CSVs, joined by os.pathsep; may be empty).
`depinrev demo` runs the same assets in-process with the values given (`with_resources`).
"""

from __future__ import annotations

import dagster as dg

from pipelines import ingest, warehouse
from pipelines.resources import LakeResource, NetworkConfigResource, WarehouseResource

RESOURCES = {
    "network_config": NetworkConfigResource(path=dg.EnvVar("DEPINREV_CONFIG")),
    "lake": LakeResource(uri=dg.EnvVar("DEPINREV_LAKE")),
    "warehouse": WarehouseResource(
        db_path=dg.EnvVar("DEPINREV_WAREHOUSE"),
        reported_csv_paths=dg.EnvVar("DEPINREV_REPORTED_CSV"),
    ),
}


def with_resources(resources: dict[str, object]) -> dg.Definitions:
    """The code location's assets, jobs and automation, bound to these resources."""
    return dg.Definitions.merge(
        ingest.definitions(), warehouse.definitions(), dg.Definitions(resources=resources)
    )


defs = with_resources(RESOURCES)
