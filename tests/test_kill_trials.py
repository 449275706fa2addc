"""Kill trials: `depinrev index` and `depinrev build` killed with SIGKILL, then run again.

Each trial starts the real command line in a session of its own, kills its whole process
group (`depinrev` and, for a build, the dbt child it runs) at a seeded random moment inside
the writing part of an uninterrupted run (from its first write to its last, measured on the
reference run below), and then runs the same command to completion. The outcome must be what
an uninterrupted run gives:

* index: every file under the lake, byte for byte, the checkpoints included (they hold the
  chunk records and reorg records only, no timestamps, so an interrupted history leaves no
  trace in them), and no temporary file left anywhere in the lake;
* build: every mart table exported in key order (`copy (select * from marts.X order by all)
  to csv`) equal to the reference's, the same manifests byte for byte (they hold no
  timestamps; audit.builds, which does, is not compared), and the lake it read untouched.

`make test` runs one trial of each; `make soak` runs twenty of each (pytest marker `soak`)
and writes what happened in every trial to test-artifacts/kill-trials.json (copied into
docs/reliability.md, "Kill trials").
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pytest

from tests.support.devnet import DEVNET_CONFIG, devnet_ports
from tests.support.paths import REPO

pytestmark = pytest.mark.integration

ARTIFACTS = REPO / "test-artifacts"
# one trial of each kind in `make test`, twenty more of each in `make soak`
TRIALS = [pytest.param(0, id="trial0")] + [
    pytest.param(i, id=f"soak{i}", marks=pytest.mark.soak) for i in range(1, 21)
]


@dataclass(frozen=True)
class Timing:
    """An uninterrupted run, in seconds from its start: the kill window is its writing part."""

    first_write: float  # its output directory appeared
    last_write: float  # the last file under it was modified
    seconds: float  # it exited


@dataclass
class Trial:
    kind: str
    trial: int
    seed: str
    kill_at: float  # seconds after start
    window: tuple[float, float]  # the reference run's first and last write
    outcome: str  # "killed" or "finished before the kill"
    at_kill: str  # what the killed run had left on disk
    rerun_seconds: float
    result: str = "identical"


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "depinrev.cli", *args]


def _index_cmd(lake: Path) -> list[str]:
    return _cli("index", "--config", str(DEVNET_CONFIG), "--lake", str(lake))


def _build_cmd(lake: Path, db: Path) -> list[str]:
    return _cli("build", "--config", str(DEVNET_CONFIG), "--lake", str(lake), "--db", str(db))


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        # a session of its own: the process group holds depinrev and every child it starts
        return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _latest_write(root: Path) -> float:
    """The newest modification time under root (0 while it does not exist)."""
    latest = 0.0
    for p in [root, *root.rglob("*")] if root.exists() else []:
        try:
            latest = max(latest, p.stat().st_mtime)
        except FileNotFoundError:  # a temporary file renamed away meanwhile
            continue
    return latest


def _run_timed(cmd: list[str], env: dict[str, str], watch: Path, log: Path) -> Timing:
    """Run to completion; note when the run first wrote under `watch` (its output directory)
    and when it last did (the interpreter's exit after that writes nothing: a kill there
    would test nothing)."""
    t0, wall0 = time.monotonic(), time.time()
    proc = _start(cmd, env, log)
    first = None
    while proc.poll() is None:
        if first is None and _latest_write(watch) > wall0:
            first = time.monotonic() - t0
        time.sleep(0.005)
    seconds = time.monotonic() - t0
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}:\n{log.read_text()}"
    assert first is not None, f"nothing was written under {watch}"
    return Timing(first, max(first, _latest_write(watch) - wall0), seconds)


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs (zombies hold no files: they do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def _run_killed(cmd: list[str], env: dict[str, str], delay: float, log: Path) -> str:
    """Start `cmd` and SIGKILL its whole process group `delay` seconds later."""
    proc = _start(cmd, env, log)
    try:
        proc.wait(timeout=delay)
        return "finished before the kill"
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while _group_alive(proc.pid):
        assert time.monotonic() < deadline, "the killed process group did not die"
        time.sleep(0.01)
    return "killed"


def _tree(root: Path) -> dict[str, str]:
    """SHA-256 of every file under root, by path relative to it."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def _temp_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if ".tmp-" in p.name)


def _export_marts(db: Path, out: Path) -> dict[str, bytes]:
    """Every mart table as CSV in key order (all columns), by table name."""
    out.mkdir(parents=True, exist_ok=True)
    tables: dict[str, bytes] = {}
    with duckdb.connect(str(db), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by 1").fetchall()]
        for name in names:
            path = out / f"{name}.csv"
            con.execute(f"copy (select * from marts.{name} order by all) to '{path}' (header)")
            tables[name] = path.read_bytes()
    return tables


def _first_difference(a: bytes, b: bytes) -> str:
    for i, (x, y) in enumerate(zip(a.decode().splitlines(), b.decode().splitlines(),
                                   strict=False)):
        if x != y:
            return f"line {i + 1}:\n  reference: {x}\n  trial:     {y}"
    return f"{len(a.splitlines())} lines against {len(b.splitlines())}"


# --- the uninterrupted runs ----------------------------------------------------------------
@dataclass
class Reference:
    env: dict[str, str]
    lake: Path
    lake_files: dict[str, str]
    index: Timing
    db: Path
    marts: dict[str, bytes]
    manifests: dict[str, str]
    build: Timing


@pytest.fixture(scope="module")
def reference(shared_devnet, tmp_path_factory) -> Reference:
    root = tmp_path_factory.mktemp("kill-reference")
    env = {**os.environ, **devnet_ports("shared")}
    lake, db = root / "lake", root / "wh" / "warehouse.duckdb"
    index = _run_timed(_index_cmd(lake), env, lake, root / "index.log")
    lake_files = _tree(lake)
    build = _run_timed(_build_cmd(lake, db), env, db.parent, root / "build.log")
    assert _tree(lake) == lake_files  # the build only reads the lake
    return Reference(env, lake, lake_files, index, db, _export_marts(db, root / "marts"),
                     _tree(db.parent / "audit"), build)


@pytest.fixture(scope="module")
def record() -> Iterator[list[Trial]]:
    """Every trial of the module; the soak's go to test-artifacts/kill-trials.json."""
    trials: list[Trial] = []
    yield trials
    soak = [t for t in trials if t.trial > 0]
    if soak:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "kill-trials.json").write_text(
            json.dumps([asdict(t) for t in soak], indent=1) + "\n")


def _kill_moment(kind: str, trial: int, timing: Timing) -> tuple[str, float]:
    seed = f"{kind}-{trial}"
    return seed, random.Random(seed).uniform(timing.first_write, timing.last_write)


# --- the trials ----------------------------------------------------------------------------
@pytest.mark.parametrize("trial", TRIALS)
def test_index_killed_at_a_random_moment_then_rerun_gives_the_uninterrupted_lake(
    reference, record, trial, tmp_path
):
    lake, log = tmp_path / "lake", tmp_path / "index.log"
    seed, delay = _kill_moment("index", trial, reference.index)
    outcome = _run_killed(_index_cmd(lake), reference.env, delay, log)
    left = _tree(lake) if lake.exists() else {}
    final = sum(1 for k, sha in left.items() if reference.lake_files.get(k) == sha)
    at_kill = (f"{sum(1 for k in left if k.endswith('.parquet'))} chunk files, "
               f"{sum(1 for k in left if '.tmp-' in k)} temporary, "
               f"{final}/{len(reference.lake_files)} files final")

    t0 = time.monotonic()
    rerun = subprocess.run(_index_cmd(lake), cwd=REPO, env=reference.env, capture_output=True,
                           text=True, timeout=300)
    entry = Trial("index", trial, seed, round(delay, 3),
                  (round(reference.index.first_write, 3), round(reference.index.last_write, 3)),
                  outcome, at_kill, round(time.monotonic() - t0, 3))
    record.append(entry)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    got = _tree(lake)
    if got != reference.lake_files:
        entry.result = "DIFFERENT"
    assert not _temp_files(lake), "temporary files left in the lake after the rerun"
    differ = sorted(k for k in got.keys() | reference.lake_files.keys()
                    if got.get(k) != reference.lake_files.get(k))
    assert not differ, f"{entry}: files differ from the uninterrupted run: {differ[:5]}"


@dataclass
class IncrementalBase:
    """A warehouse built from the lake's first chunks only (the later ones not yet indexed),
    and how long the uninterrupted incremental build over the whole lake took from it."""

    wh: Path
    build: Timing


# The lake's first four chunks of each chain (blocks up to 999 with chunk_size 250).
PARTIAL_TO_BLOCK = 999


@pytest.fixture(scope="module")
def incremental_base(reference, tmp_path_factory) -> IncrementalBase:
    root = tmp_path_factory.mktemp("kill-incremental")
    partial, wh = root / "lake", root / "base" / "warehouse.duckdb"
    _run_timed([*_index_cmd(partial), "--to-block", str(PARTIAL_TO_BLOCK)], reference.env,
               partial, root / "index.log")
    assert set(_tree(partial)) < set(reference.lake_files)
    subprocess.run(_build_cmd(partial, wh), cwd=REPO, env=reference.env, timeout=600,
                   capture_output=True, check=False)  # a partial quarter's audit may complain
    assert _export_marts(wh, root / "base-marts") != reference.marts
    # the uninterrupted incremental build from there equals the build from scratch
    once = root / "once" / "warehouse.duckdb"
    shutil.copytree(wh.parent, once.parent)
    timing = _run_timed(_build_cmd(reference.lake, once), reference.env, once.parent,
                        root / "once.log")
    assert not _builds(once)[-1][1], "the uninterrupted rebuild was not incremental"
    assert _export_marts(once, root / "once-marts") == reference.marts
    return IncrementalBase(wh.parent, timing)


def _builds(db: Path) -> list[tuple[bool | None, bool]]:
    """(dbt_success, full_refresh) of every build recorded in the warehouse, oldest first."""
    with duckdb.connect(str(db), read_only=True) as con:
        return [(r[0], r[1]) for r in con.execute(
            "select dbt_success, full_refresh from audit.builds order by started_at").fetchall()]


@pytest.mark.parametrize("trial", TRIALS)
def test_build_killed_at_a_random_moment_then_rerun_gives_the_uninterrupted_marts(
    reference, record, trial, tmp_path, request
):
    """Even trials build from scratch; odd ones (soak only) rebuild incrementally a warehouse
    built before the lake's last chunks were indexed (fct_revenue_events by lake file)."""
    db, log = tmp_path / "wh" / "warehouse.duckdb", tmp_path / "build.log"
    kind, timing = "build", reference.build
    if trial % 2:
        base = request.getfixturevalue("incremental_base")
        shutil.copytree(base.wh, db.parent)
        kind, timing = "build-incremental", base.build
    seed, delay = _kill_moment(kind, trial, timing)
    outcome = _run_killed(_build_cmd(reference.lake, db), reference.env, delay, log)
    left = sorted(p.name for p in db.parent.iterdir()) if db.parent.exists() else []
    at_kill = ", ".join(left) or "nothing"

    t0 = time.monotonic()
    rerun = subprocess.run(_build_cmd(reference.lake, db), cwd=REPO, env=reference.env,
                           capture_output=True, text=True, timeout=600)
    entry = Trial(kind, trial, seed, round(delay, 3),
                  (round(timing.first_write, 3), round(timing.last_write, 3)),
                  outcome, at_kill, round(time.monotonic() - t0, 3))
    record.append(entry)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    if kind == "build-incremental":
        assert not _builds(db)[-1][1], "the rerun rebuilt from scratch instead of incrementally"
    marts = _export_marts(db, tmp_path / "marts")
    same = marts == reference.marts and _tree(db.parent / "audit") == reference.manifests
    if not same:
        entry.result = "DIFFERENT"
    assert marts.keys() == reference.marts.keys()
    for name, csv in reference.marts.items():
        assert marts[name] == csv, f"{entry}: marts.{name} differs, " + _first_difference(
            csv, marts[name])
    assert _tree(db.parent / "audit") == reference.manifests
    # the build reads the lake and never writes it
    assert _tree(reference.lake) == reference.lake_files
    assert not _temp_files(reference.lake)
