"""The dbt project as Dagster sees it: dbt/ in this repository, sources mapped to the assets
that produce them (the lake datasets, the chain audit, the configuration file)."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject

REPO = Path(__file__).resolve().parents[2]

dbt_project = DbtProject(project_dir=REPO / "dbt", profiles_dir=REPO / "dbt")
# `dagster dev` re-parses the project on start. Elsewhere a manifest is built once by
# `dbt parse` (target/ is git-ignored, so a fresh checkout has none) and reused after.
if dbt_project.preparer is not None and (
    dbt_project.preparer.using_dagster_dev() or not dbt_project.manifest_path.exists()
):
    dbt_project.preparer.prepare(dbt_project)

AUDIT_KEY = dg.AssetKey(["audit", "chain_audit"])


class Translator(DagsterDbtTranslator):
    """raw.<dataset> is the lake dataset; audit.* the chain audit; config.<table> a table
    flattened from the network YAML (loaded by the audit and the build before dbt runs)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            schema = dbt_resource_props["source_name"]
            name = dbt_resource_props["name"]
            if schema == "raw":
                return dg.AssetKey(["lake", name])
            if schema == "audit":
                return AUDIT_KEY
            if schema == "config":
                return dg.AssetKey(["config", name])
        return dg.AssetKey(["warehouse", dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "warehouse"
