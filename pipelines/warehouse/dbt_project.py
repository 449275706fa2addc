"""The dbt project as Dagster sees it: dbt/ in this repository, sources mapped to the assets
that produce them (the lake datasets, the chain audit, the configuration file)."""

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject
from dagster_dbt.dbt_project import DagsterDbtProjectPreparer

REPO = Path(__file__).resolve().parents[2]

# The dbt of the environment running Dagster, beside its interpreter: dagster-dbt would look
# `dbt` up on PATH, which `.venv/bin/dagster` started without the venv on PATH does not have.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")


def dbt_resource() -> DbtCliResource:
    """The `dbt` resource of the warehouse assets."""
    return DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


class _Preparer(DagsterDbtProjectPreparer):
    """dagster-dbt's preparation (`dbt deps` when packages are declared, `dbt parse`) with
    DBT_EXECUTABLE instead of the first `dbt` on PATH. (DbtProject builds its own preparer,
    which is not used: this module prepares the project itself, below.)"""

    def _prepare_packages(self, project: DbtProject) -> None:
        DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE).cli(
            ["deps", "--quiet"], target_path=project.target_path
        ).wait()

    def _prepare_manifest(self, project: DbtProject) -> None:
        DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE).cli(
            self._prepare_project_cli_args, target_path=project.target_path
        ).wait()


# dbt's own DBT_TARGET_PATH, when set, is the target folder of the manifest too (dagster-dbt puts
# each invocation's folder under it): each process of the cluster (a Celery worker, the
# webserver's and the daemon's code server) has its own, so no two parse into the same folder.
dbt_project = DbtProject(
    project_dir=REPO / "dbt",
    profiles_dir=REPO / "dbt",
    target_path=os.environ.get("DBT_TARGET_PATH") or "target",
)


def _manifest_stale() -> bool:
    """No manifest yet (target/ is git-ignored), or a model, macro or YAML changed since."""
    path = dbt_project.manifest_path
    if not path.exists():
        return True
    built = path.stat().st_mtime
    sources = (p for p in (REPO / "dbt").rglob("*") if "target" not in p.parts)
    return any(p.suffix in (".sql", ".yml", ".yaml") and p.stat().st_mtime > built for p in sources)


# `dagster dev` re-parses the project on start; elsewhere `dbt parse` runs only when the
# manifest is missing or older than the project's files.
_preparer = _Preparer()
if _preparer.using_dagster_dev() or _manifest_stale():
    _preparer.prepare(dbt_project)

AUDIT_KEY = dg.AssetKey(["audit", "chain_audit"])


class Translator(DagsterDbtTranslator):
    """Sources carry their asset key in dbt/models/staging/_sources.yml (meta.dagster.asset_key:
    lake/<dataset>, audit/chain_audit, audit/lake_files, config/<table>), which dagster-dbt's
    default translator reads; every model is warehouse/<model>."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey(["warehouse", dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "warehouse"
