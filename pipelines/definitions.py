"""The one Dagster entry point: merges the per-domain definitions.

    dagster dev -m pipelines.definitions      (or `depinrev ui`, which sets the variables)

Resources take their values from environment variables when a run starts:
DEPINREV_CONFIG (network YAML), DEPINREV_LAKE (lake URI), DEPINREV_WAREHOUSE (DuckDB file).
"""

from __future__ import annotations

import dagster as dg

from pipelines import ingest, warehouse
from pipelines.resources import LakeResource, NetworkConfigResource, WarehouseResource

RESOURCES = {
    "network_config": NetworkConfigResource(path=dg.EnvVar("DEPINREV_CONFIG")),
    "lake": LakeResource(uri=dg.EnvVar("DEPINREV_LAKE")),
    "warehouse": WarehouseResource(db_path=dg.EnvVar("DEPINREV_WAREHOUSE")),
}

defs = dg.Definitions.merge(
    ingest.definitions(), warehouse.definitions(), dg.Definitions(resources=RESOURCES)
)
