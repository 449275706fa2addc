"""Start, stop and describe the local cluster: PostgreSQL, Redis, Celery workers, the Dagster
webserver and daemon, each a process of its own under one directory (`data/cluster/` by
default), listening on 127.0.0.1 only.

    <root>/cluster.json          what runs: name, pid, process start time, port, cwd, log
    <root>/secret                the password of PostgreSQL and Redis (mode 0600)
    <root>/postgres/             the PostgreSQL data directory, owned by the server's user
    <root>/redis/                redis.conf (holds the password, mode 0600), no persistence
    <root>/dagster/              DAGSTER_HOME: dagster.yaml (postgres storage, run queue)
    <root>/worker-<i>/           a Celery worker's working directory: its Celery config module,
                                 its dbt target folder, its log
    <root>/logs/                 the logs of the servers

The workers share only the lake, the warehouse file and the database: each has its own working
directory and dbt target folder. `down` stops exactly the processes `up` started (a pid counts
only with the start time recorded for it), the servers' children with them.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

PG_OS_USER = "depinrev-pg"  # initdb and postgres refuse to run as root
PG_USER = "depinrev"
PG_DB = "dagster"
PG_LIB = Path("/usr/lib/postgresql")  # Debian: /usr/lib/postgresql/<major>/bin
# A step whose worker vanished goes back to the queue after this many seconds (the Redis
# visibility timeout; a live worker's heartbeat keeps its steps from aging: worker_app.py).
DEFAULT_REDELIVER_AFTER = 60


class ClusterError(RuntimeError):
    """The cluster could not start, stop or be read; the message says what and where."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Layout:
    """Where everything of a cluster lives, and what it shares with the single-process path."""

    root: Path
    config: Path
    lake: Path
    warehouse: Path

    @classmethod
    def under(cls, root: Path, config: Path, lake: Path | None = None,
              warehouse: Path | None = None) -> Layout:
        r = root.resolve()
        return cls(r, config.resolve(), (lake or r / "lake").resolve(),
                   (warehouse or r / "warehouse.duckdb").resolve())

    @property
    def state_file(self) -> Path:
        return self.root / "cluster.json"

    @property
    def secret_file(self) -> Path:
        return self.root / "secret"

    @property
    def pg_data(self) -> Path:
        return self.root / "postgres"

    @property
    def redis_dir(self) -> Path:
        return self.root / "redis"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def worker_dir(self, i: int) -> Path:
        return self.root / f"worker-{i}"


@dataclass
class Proc:
    """One process `up` started."""

    name: str
    pid: int
    started: int  # the process start time (clock ticks since boot, /proc/<pid>/stat field 22)
    cwd: str
    log: str
    port: int | None = None
    node: str | None = None  # a Celery worker's node name

    def alive(self) -> bool:
        return _start_time(self.pid) == self.started


@dataclass
class State:
    """What `up` started (cluster.json)."""

    root: str
    config: str
    lake: str
    warehouse: str
    ports: dict[str, int]
    processes: list[Proc] = field(default_factory=list)
    redeliver_after: int = DEFAULT_REDELIVER_AFTER

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['webserver']}"

    def proc(self, name: str) -> Proc:
        for p in self.processes:
            if p.name == name:
                return p
        raise ClusterError(f"no process {name!r} in the cluster")

    def workers(self) -> list[Proc]:
        return [p for p in self.processes if p.name.startswith("worker-")]

    def save(self, path: Path) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1) + "\n")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> State | None:
        if not path.exists():
            return None
        try:
            doc = json.loads(path.read_text())
            procs = [Proc(**p) for p in doc.pop("processes")]
            return cls(**doc, processes=procs)
        except (ValueError, TypeError, KeyError) as exc:
            raise ClusterError(f"{path}: not a cluster state file ({exc})") from exc


def _start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return None if fields[0] == "Z" else int(fields[19])


# --- secrets and environment ---------------------------------------------------------------
def _secret(layout: Layout) -> str:
    path = layout.secret_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(16) + "\n")
    return path.read_text().strip()


def cluster_env(layout: Layout, state: State) -> dict[str, str]:
    """The variables every Dagster process of the cluster runs with."""
    secret = _secret(layout)
    redis = f"redis://:{secret}@127.0.0.1:{state.ports['redis']}"
    return {
        "DEPINREV_CONFIG": str(layout.config),
        "DEPINREV_LAKE": str(layout.lake),
        "DEPINREV_WAREHOUSE": str(layout.warehouse),
        # pipelines.definitions reads it with dg.EnvVar, which refuses an unset variable: the
        # warehouse job of a cluster was refused for it. More reported-figure CSVs, if the
        # user gave any; none by default (the seed's are always read).
        "DEPINREV_REPORTED_CSV": os.environ.get("DEPINREV_REPORTED_CSV", ""),
        "DAGSTER_HOME": str(layout.dagster_home),
        "DEPINREV_PG_PASSWORD": secret,
        "DEPINREV_CELERY_BROKER": f"{redis}/0",
        "DEPINREV_CELERY_BACKEND": f"{redis}/1",
        "DO_NOT_TRACK": "1",
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }


# --- configuration files -------------------------------------------------------------------
def dagster_yaml(port: int, network_names: list[str], max_concurrent_runs: int) -> str:
    """DAGSTER_HOME/dagster.yaml: PostgreSQL storage, the run queue with a writer limit per
    network, run retries, one DuckDB writer at a time (the `duckdb` pool)."""
    limits = "".join(
        f"      - key: \"depinrev/lake-writer/{n}\"\n        limit: 1\n" for n in network_names
    )
    return f"""\
# Written by `depinrev cluster up` (docs/scaling.md). The machine is offline: no telemetry.
telemetry:
  enabled: false
nux:
  enabled: false
storage:
  postgres:
    postgres_db:
      hostname: 127.0.0.1
      port: {port}
      username: {PG_USER}
      password:
        env: DEPINREV_PG_PASSWORD
      db_name: {PG_DB}
      # SQLAlchemy 2.1's default PostgreSQL driver is psycopg 3; dagster-postgres ships psycopg2
      scheme: postgresql+psycopg2
# Runs wait in a queue; the coordinator tags each ingest run with the networks it writes and at
# most one run per network writes at a time, on whichever worker or host.
run_coordinator:
  module: pipelines.cluster.coordinator
  class: NetworkRunCoordinator
  config:
    max_concurrent_runs: {max_concurrent_runs}
    dequeue_interval_seconds: 1
    tag_concurrency_limits:
{limits}# A failed run (a step whose worker died, a step that failed) is retried from its failure.
run_retries:
  enabled: true
  max_retries: 2
  retry_on_asset_or_op_failure: true
# The warehouse assets share the `duckdb` pool: one DuckDB writer at a time, across workers.
concurrency:
  pools:
    default_limit: 1
"""


def celery_config(state: State, secret: str) -> str:
    """A worker's `dagster_celery_config.py`, which dagster_celery.app reads."""
    redis = f"redis://:{secret}@127.0.0.1:{state.ports['redis']}"
    return f"""\
# Written by `depinrev cluster up`: the Celery settings of this worker (dagster_celery.app).
broker_url = {f"{redis}/0"!r}
result_backend = {f"{redis}/1"!r}
# A step is acknowledged when it ends, not when it starts: a worker killed in a step leaves it
# unacknowledged, and Redis hands it to another worker after the visibility timeout (the
# heartbeat of pipelines/cluster/worker_app.py keeps a live worker's steps from aging).
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
broker_transport_options = {{
    "visibility_timeout": {state.redeliver_after},
    "unacked_restore_interval": 2,
    "unacked_restore_throttle": 1,
    "max_retries": 3,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}}
result_backend_transport_options = {{"visibility_timeout": {state.redeliver_after}}}
worker_hijack_root_logger = False
"""


# --- PostgreSQL ----------------------------------------------------------------------------
def _pg_bin(name: str) -> str:
    majors = sorted(PG_LIB.glob("*/bin"), key=lambda d: int(d.parent.name)
                    if d.parent.name.isdigit() else 0, reverse=True)
    for d in majors:
        if (d / name).exists():
            return str(d / name)
    found = shutil.which(name)
    if found:
        return found
    raise ClusterError(
        f"PostgreSQL's {name} is not installed: `make cluster` installs it "
        "(apt-get install postgresql)"
    )


def _pg_account() -> pwd.struct_passwd | None:
    """The unprivileged user PostgreSQL runs as when we are root (created if missing), or None
    when we are not root (then it runs as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(PG_OS_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
             PG_OS_USER],
            check=True, capture_output=True,
        )
        return pwd.getpwnam(PG_OS_USER)


def _check_reachable(path: Path, account: pwd.struct_passwd) -> None:
    """The server's user must be able to traverse every parent of its data directory."""
    for parent in [*reversed(path.parents)]:
        st = parent.stat()
        if st.st_uid == account.pw_uid:
            continue
        if not st.st_mode & 0o001 and not (st.st_gid == account.pw_gid and st.st_mode & 0o010):
            raise ClusterError(
                f"PostgreSQL runs as {PG_OS_USER}, which cannot enter {parent} (mode "
                f"{oct(st.st_mode & 0o777)}): put the cluster elsewhere, or `chmod o+x {parent}`"
            )


def _as_account(account: pwd.struct_passwd | None) -> dict[str, object]:
    if account is None:
        return {}
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def init_postgres(layout: Layout, log: Callable[[str], None]) -> None:
    """initdb once: password auth for TCP on 127.0.0.1, no Unix socket."""
    account = _pg_account()
    data = layout.pg_data
    if (data / "PG_VERSION").exists():
        return
    if account is not None:
        _check_reachable(data, account)
    data.mkdir(parents=True, exist_ok=True)
    pwfile = layout.root / ".pgpass-init"
    pwfile.write_text(_secret(layout) + "\n")
    if account is not None:
        for p in (data, pwfile):
            os.chown(p, account.pw_uid, account.pw_gid)
    os.chmod(data, 0o700)
    os.chmod(pwfile, 0o600)
    log(f"postgres: initdb {data}")
    try:
        done = subprocess.run(
            [_pg_bin("initdb"), "-D", str(data), "-U", PG_USER, f"--pwfile={pwfile}",
             "--auth-host=scram-sha-256", "--auth-local=reject", "-E", "UTF8",
             "--locale=C.UTF-8"],
            capture_output=True, text=True, cwd="/", **_as_account(account),  # type: ignore[arg-type]
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if done.returncode != 0:
        raise ClusterError(f"initdb {data} failed: {done.stderr.strip()[-500:]}")


def _wait_postgres(port: int, secret: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    import psycopg2

    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise ClusterError(f"postgres exited {proc.returncode}: {_tail(log_path)}")
        try:
            con = psycopg2.connect(host="127.0.0.1", port=port, user=PG_USER, password=secret,
                                   dbname="postgres", connect_timeout=2)
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"postgres did not answer on {port}: {_tail(log_path)}") from None
            time.sleep(0.3)
            continue
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (PG_DB,))
            if cur.fetchone() is None:
                cur.execute(f"create database {PG_DB}")
        con.close()
        return


# --- Redis ---------------------------------------------------------------------------------
def _redis_conf(layout: Layout, port: int) -> Path:
    layout.redis_dir.mkdir(parents=True, exist_ok=True)
    conf = layout.redis_dir / "redis.conf"
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(
            f"bind 127.0.0.1\nport {port}\nprotected-mode yes\ndaemonize no\n"
            f"dir {layout.redis_dir}\nsave \"\"\nappendonly no\n"
            f"requirepass {_secret(layout)}\n"
        )
    return conf


def _wait_redis(port: int, secret: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    import redis

    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise ClusterError(f"redis-server exited {proc.returncode}: {_tail(log_path)}")
        try:
            if redis.Redis(host="127.0.0.1", port=port, password=secret,
                           socket_timeout=2).ping():
                return
        except redis.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                raise ClusterError(f"redis did not answer on {port}: {_tail(log_path)}") from None
            time.sleep(0.2)


# --- processes -----------------------------------------------------------------------------
def _tail(path: Path, n: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-n:].strip()
    except OSError:
        return "(no log)"


def _spawn(name: str, argv: list[str], *, cwd: Path, log_path: Path, env: Mapping[str, str],
           port: int | None = None, node: str | None = None,
           account: pwd.struct_passwd | None = None) -> tuple[Proc, subprocess.Popen[bytes]]:
    """Start a process in a session of its own (so `down` stops its children with it)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as out:
        if account is not None:
            os.chown(log_path, account.pw_uid, account.pw_gid)
        proc = subprocess.Popen(
            argv, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
            **_as_account(account),  # type: ignore[arg-type]
        )
    started = _start_time(proc.pid)
    if started is None:
        raise ClusterError(f"{name} exited at once: {_tail(log_path)}")
    return Proc(name, proc.pid, started, str(cwd), str(log_path), port, node), proc


def _wait_for_log(proc: subprocess.Popen[bytes], log_path: Path, marker: str,
                  what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while marker not in _tail(log_path, 200_000):
        if proc.poll() is not None:
            raise ClusterError(f"{what} exited {proc.returncode}: {_tail(log_path)}")
        if time.monotonic() > deadline:
            raise ClusterError(f"{what} not ready after {timeout:.0f} s: {_tail(log_path)}")
        time.sleep(0.3)


def _wait_http(proc: subprocess.Popen[bytes], url: str, log_path: Path, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise ClusterError(f"the webserver exited {proc.returncode}: {_tail(log_path)}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise ClusterError(f"the webserver did not answer in {timeout:.0f} s: "
                               f"{_tail(log_path)}")
        time.sleep(0.5)


def _dbt_manifest(layout: Layout, env: Mapping[str, str]) -> Path:
    """`dbt parse` once, into <root>/dbt-target (when its manifest is missing or older than the
    project): each process gets a copy in its own target folder instead of parsing at start."""
    target = layout.root / "dbt-target"
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", "import pipelines.warehouse.dbt_project"],
        env={**env, "DBT_TARGET_PATH": str(target)}, capture_output=True, text=True,
    )
    manifest = target / "manifest.json"
    if done.returncode != 0 or not manifest.exists():
        raise ClusterError(f"dbt parse failed: {(done.stderr or done.stdout).strip()[-800:]}")
    return manifest


def _register_networks(layout: Layout, env: Mapping[str, str], names: list[str]) -> None:
    """A `network` partition per configured network, before the first backfill."""
    import dagster as dg

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with dg.DagsterInstance.from_config(str(layout.dagster_home)) as instance:
            have = set(instance.get_dynamic_partitions("network"))
            new = [n for n in names if n not in have]
            if new:
                instance.add_dynamic_partitions("network", new)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def up(layout: Layout, *, workers: int = 2, webserver_port: int | None = None,
       redeliver_after: int = DEFAULT_REDELIVER_AFTER, max_concurrent_runs: int = 4,
       log: Callable[[str], None] = lambda _m: None) -> State:
    """Start PostgreSQL, Redis, the Celery workers, the daemon and the webserver.

    Ports are free ones picked now (the webserver's may be given). On any failure, whatever
    this call started is stopped again before the error is raised."""
    from depinrev.config import load_config

    names = sorted(load_config(layout.config).networks)  # a bad configuration fails first
    old = State.load(layout.state_file)
    if old is not None and any(p.alive() for p in old.processes):
        raise ClusterError(f"a cluster already runs from {layout.root} (`depinrev cluster "
                           "status`); stop it with `depinrev cluster down`")
    if workers < 1:
        raise ClusterError(f"--workers must be at least 1, not {workers}")
    for d in (layout.root, layout.logs, layout.dagster_home, layout.lake):
        d.mkdir(parents=True, exist_ok=True)
    layout.warehouse.parent.mkdir(parents=True, exist_ok=True)
    state = State(
        root=str(layout.root), config=str(layout.config), lake=str(layout.lake),
        warehouse=str(layout.warehouse),
        ports={"postgres": free_port(), "redis": free_port(),
               "webserver": webserver_port or free_port()},
        redeliver_after=redeliver_after,
    )
    secret = _secret(layout)
    started: list[subprocess.Popen[bytes]] = []
    try:
        _start_all(layout, state, secret, names, workers, max_concurrent_runs, started, log)
    except BaseException:
        state.save(layout.state_file)
        down(layout, log=log)
        raise
    state.save(layout.state_file)
    return state


def _start_all(layout: Layout, state: State, secret: str, names: list[str], workers: int,
               max_concurrent_runs: int, started: list[subprocess.Popen[bytes]],
               log: Callable[[str], None]) -> None:
    init_postgres(layout, log)
    account = _pg_account()
    pg_port = state.ports["postgres"]
    pg_log = layout.logs / "postgres.log"
    proc, popen = _spawn(
        "postgres",
        [_pg_bin("postgres"), "-D", str(layout.pg_data), "-p", str(pg_port),
         "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
         "-c", "max_connections=200", "-c", "fsync=on"],
        cwd=layout.pg_data, log_path=pg_log, env={"PATH": os.environ.get("PATH", ""),
                                                  "LANG": "C.UTF-8"},
        port=pg_port, account=account,
    )
    state.processes.append(proc)
    started.append(popen)
    state.save(layout.state_file)
    _wait_postgres(pg_port, secret, popen, pg_log)
    log(f"postgres: 127.0.0.1:{pg_port} (pid {proc.pid})")

    redis_server = shutil.which("redis-server")
    if redis_server is None:
        raise ClusterError("redis-server is not installed: `make cluster` installs it "
                           "(apt-get install redis-server)")
    r_port = state.ports["redis"]
    r_log = layout.logs / "redis.log"
    proc, popen = _spawn("redis", [redis_server, str(_redis_conf(layout, r_port))],
                         cwd=layout.redis_dir, log_path=r_log, env={}, port=r_port)
    state.processes.append(proc)
    started.append(popen)
    state.save(layout.state_file)
    _wait_redis(r_port, secret, popen, r_log)
    log(f"redis: 127.0.0.1:{r_port} (pid {proc.pid})")

    (layout.dagster_home / "dagster.yaml").write_text(
        dagster_yaml(pg_port, names, max_concurrent_runs))
    env = {**os.environ, **cluster_env(layout, state)}
    _register_networks(layout, env, names)

    bin_dir = Path(sys.executable).parent
    manifest = _dbt_manifest(layout, env)
    waits: list[tuple[subprocess.Popen[bytes], Path, str]] = []
    for i in range(1, workers + 1):
        wdir = layout.worker_dir(i)
        (wdir / "dbt-target").mkdir(parents=True, exist_ok=True)
        shutil.copy(manifest, wdir / "dbt-target" / "manifest.json")
        (wdir / "dagster_celery_config.py").write_text(celery_config(state, secret))
        os.chmod(wdir / "dagster_celery_config.py", 0o600)
        node = f"worker-{i}@{socket.gethostname()}"
        wlog = wdir / "worker.log"
        wenv = {**env, "PYTHONPATH": str(wdir), "DBT_TARGET_PATH": str(wdir / "dbt-target")}
        proc, popen = _spawn(
            f"worker-{i}",
            [str(bin_dir / "celery"), "-A", "pipelines.cluster.worker_app", "worker", "--pool=solo",
             "--concurrency=1", "--prefetch-multiplier=1", "-Q", "dagster", "-n", node,
             "--loglevel=INFO", "--without-mingle", "--without-gossip"],
            cwd=wdir, log_path=wlog, env=wenv, node=node,
        )
        state.processes.append(proc)
        started.append(popen)
        waits.append((popen, wlog, f"worker-{i}"))
    state.save(layout.state_file)

    for name, argv in (
        ("daemon", [str(bin_dir / "dagster-daemon"), "run", "-m",
                    "pipelines.cluster.definitions"]),
        ("webserver", [str(bin_dir / "dagster-webserver"), "-h", "127.0.0.1", "-p",
                       str(state.ports["webserver"]), "-m", "pipelines.cluster.definitions"]),
    ):
        d = layout.dagster_home / name
        (d / "dbt-target").mkdir(parents=True, exist_ok=True)
        shutil.copy(manifest, d / "dbt-target" / "manifest.json")
        proc, popen = _spawn(
            name, argv, cwd=d, log_path=layout.logs / f"{name}.log",
            env={**env, "DBT_TARGET_PATH": str(d / "dbt-target")},
            port=state.ports["webserver"] if name == "webserver" else None,
        )
        state.processes.append(proc)
        started.append(popen)
        state.save(layout.state_file)
        if name == "webserver":
            web_popen = popen
        else:
            waits.append((popen, layout.logs / "daemon.log", "daemon"))

    for popen, wlog, what in waits:
        marker = " ready." if what.startswith("worker") else "QueuedRunCoordinatorDaemon"
        _wait_for_log(popen, wlog, marker, what, timeout=180)
        log(f"{what}: ready (pid {popen.pid})")
    _wait_http(web_popen, f"{state.url}/server_info", layout.logs / "webserver.log", 240)
    _check_code_location(state.url)
    log(f"webserver: {state.url} (pid {web_popen.pid})")


_LOCATIONS = """{ workspaceOrError { __typename ... on Workspace { locationEntries { name
  locationOrLoadError { __typename ... on PythonError { message } } } } } }"""


def _check_code_location(url: str) -> None:
    """The webserver loaded the cluster's code location (not just started)."""
    import httpx

    body = httpx.post(f"{url}/graphql", json={"query": _LOCATIONS}, timeout=60).json()
    entries = body["data"]["workspaceOrError"].get("locationEntries") or []
    bad = [f"{e['name']}: {(e['locationOrLoadError'] or {}).get('message', 'not loaded')}"
           for e in entries
           if (e["locationOrLoadError"] or {}).get("__typename") != "RepositoryLocation"]
    if not entries or bad:
        raise ClusterError(f"the code location did not load: {'; '.join(bad) or 'none'}")


# --- down and status -----------------------------------------------------------------------
# Stop order: nothing new gets launched, then the workers, then the servers they need.
_STOP_ORDER = ("webserver", "daemon", "worker", "redis", "postgres")
# PostgreSQL's fast shutdown is SIGINT; everything else stops on SIGTERM.
_STOP_SIGNAL = {"postgres": signal.SIGINT}


def _stop(proc: Proc, grace: float) -> bool:
    """Signal the process's group (its session: the process and its children), wait, then
    SIGKILL what is left. False when the recorded process was no longer running."""
    if not proc.alive():
        return False
    sig = _STOP_SIGNAL.get(proc.name, signal.SIGTERM)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    deadline = time.monotonic() + grace
    while proc.alive() and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(proc.pid, os.WNOHANG)
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # children left behind in its group, or itself
    with contextlib.suppress(ChildProcessError):
        os.waitpid(proc.pid, os.WNOHANG)
    return True


def down(layout: Layout, *, grace: float = 30.0,
         log: Callable[[str], None] = lambda _m: None) -> list[str]:
    """Stop what `up` started (from cluster.json); returns the names of what was running."""
    state = State.load(layout.state_file)
    if state is None:
        return []
    stopped: list[str] = []
    for kind in _STOP_ORDER:
        for proc in [p for p in state.processes if p.name.split("-")[0] == kind]:
            if _stop(proc, grace):
                stopped.append(proc.name)
                log(f"{proc.name}: stopped (pid {proc.pid})")
    state.processes = []
    state.save(layout.state_file)
    return stopped


def status(layout: Layout) -> State | None:
    return State.load(layout.state_file)


def iter_status(state: State) -> Iterator[tuple[str, str, str, str, str]]:
    """(process, state, pid, where, working directory / log) per process of the cluster."""
    for p in state.processes:
        where = f"127.0.0.1:{p.port}" if p.port else (p.node or "")
        yield p.name, "running" if p.alive() else "gone", str(p.pid), where, p.log
