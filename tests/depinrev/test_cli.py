"""`depinrev` as a user meets it: the venv's own executable in a child process, with missing,
broken or unreachable things, answering in one line on stderr with a non-zero exit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.jsonrpc_server import JsonRpcServer
from tests.support.paths import REPO

DEPINREV = Path(sys.executable).parent / "depinrev"
DEVNET_CONFIG = REPO / "config" / "networks.devnet.yaml"
NAME_PATTERN = "'^[a-z0-9][a-z0-9_-]*$'"  # what config/networks YAML allows as a network name


def run(*args: str, cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(DEPINREV), *args], cwd=cwd, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def one_line_error(proc: subprocess.CompletedProcess[str], code: int) -> str:
    """The single `error: ...` line of a failed command (asserting there is nothing else)."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    return lines[0]


def free_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module", autouse=True)
def unreachable_index(tmp_path_factory):
    """`depinrev index` against a closed port: the transport retries with backoff for ~15 s,
    so it starts first and runs while the other tests of this module do."""
    tmp = tmp_path_factory.mktemp("unreachable")
    env = {**os.environ, "DEPINREV_RPC_ETHEREUM_DEVNET": f"http://127.0.0.1:{free_port()}"}
    proc = subprocess.Popen(
        [str(DEPINREV), "index", "--network", "akash-devnet", "--config", str(DEVNET_CONFIG),
         "--lake", str(tmp / "lake")],
        cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_check_config_lists_a_valid_file(tmp_path):
    proc = run("check-config", "--config", str(DEVNET_CONFIG), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"ok: {DEVNET_CONFIG}" in proc.stdout
    for name in ("akash-devnet", "render-devnet", "aethir-devnet", "ionet-devnet"):
        assert name in proc.stdout


def test_check_config_names_the_bad_field_with_its_pattern_intact(tmp_path):
    # A network named x';-- : the answer quotes the pattern with its brackets, which a console
    # reading markup would have eaten ("String should match pattern '^*$'").
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEVNET_CONFIG.read_text().replace("\n  akash-devnet:\n", "\n  \"x';--\":\n"))
    line = one_line_error(run("check-config", "--config", str(bad), cwd=tmp_path), 2)
    assert str(bad) in line and "networks.x';--" in line
    assert f"String should match pattern {NAME_PATTERN}" in line


def test_check_config_of_a_missing_file(tmp_path):
    line = one_line_error(run("check-config", "--config", "nope.yaml", cwd=tmp_path), 2)
    assert line == "error: nope.yaml: cannot read the configuration file: No such file or directory"


def test_index_of_an_unknown_network(tmp_path):
    proc = run("index", "--network", "nope", "--config", str(DEVNET_CONFIG), cwd=tmp_path)
    line = one_line_error(proc, 2)
    assert "unknown network 'nope'" in line and "akash-devnet" in line


class WrongChain:
    """A JSON-RPC endpoint of another chain (mainnet's id 1) where the config says 1337."""

    def rpc_eth_chainId(self) -> str:
        return "0x1"

    def rpc_eth_blockNumber(self) -> str:
        return "0x100"


def test_index_refuses_an_rpc_of_another_chain(tmp_path):
    with JsonRpcServer(WrongChain()) as server:
        proc = run("index", "--network", "akash-devnet", "--config", str(DEVNET_CONFIG),
                   "--lake", str(tmp_path / "lake"), cwd=tmp_path,
                   env={"DEPINREV_RPC_ETHEREUM_DEVNET": server.url})
    line = one_line_error(proc, 2)
    assert "chain id 1," in line and "1337" in line and "indexing akash-devnet" in line
    assert not list((tmp_path / "lake").rglob("*.parquet"))


def test_build_without_a_lake_writes_nothing(tmp_path):
    proc = run("build", "--config", str(DEVNET_CONFIG), "--lake", "nolake", "--db", "wh.duckdb",
               cwd=tmp_path)
    assert one_line_error(proc, 1).startswith("error: no lake at nolake")
    (tmp_path / "empty").mkdir()
    proc = run("build", "--config", str(DEVNET_CONFIG), "--lake", "empty", "--db", "wh.duckdb",
               cwd=tmp_path)
    assert one_line_error(proc, 1).startswith("error: the lake at empty holds no indexed chunk")
    assert not (tmp_path / "wh.duckdb").exists()


@pytest.mark.parametrize("command", [
    ["report"],
    ["explain", "--network", "akash-devnet", "--quarter", "2025Q1"],
    ["close", "--quarter", "2025Q1"],
])
def test_a_missing_warehouse_is_named_and_not_created(tmp_path, command):
    line = one_line_error(run(*command, "--db", "wh.duckdb", cwd=tmp_path), 1)
    assert line.startswith("error: no warehouse at wh.duckdb")
    assert not (tmp_path / "wh.duckdb").exists()


@pytest.fixture(scope="module")
def failed_build(tmp_path_factory) -> Path:
    """A warehouse whose build stopped in dbt: inputs prepared, the build recorded as failed,
    no marts (what `depinrev build` leaves when a model does not compile)."""
    from depinrev.config import load_config
    from tests.warehouse.synth import make_world, write_lake
    from warehouse.build import finish_build, prepare_inputs, start_build

    root = tmp_path_factory.mktemp("failed")
    config, db = load_config(DEVNET_CONFIG), root / "wh.duckdb"
    lake = write_lake(make_world(config), root / "lake")
    files = prepare_inputs(config, lake, db)
    build_id, _ = start_build(db, DEVNET_CONFIG, lake, config=config, prices_csv=None,
                              lake_file_count=files, audit_ran=False)
    finish_build(db, build_id, [], success=False, error="Compilation Error in model x",
                 audit_dir=root / "audit")
    return db


@pytest.mark.parametrize(("command", "table"), [
    (["report"], "marts.fct_network_revenue_quarterly"),
    (["report", "--quarter", "2025Q1", "--format", "csv"], "marts.fct_network_revenue_quarterly"),
    (["explain", "--network", "akash-devnet", "--quarter", "2025Q1"], "marts.fct_revenue_events"),
    (["close", "--quarter", "2025Q1"], "marts.fct_network_revenue_quarterly"),
])
def test_a_warehouse_without_marts_says_the_build_failed(failed_build, tmp_path, command, table):
    line = one_line_error(run(*command, "--db", str(failed_build), cwd=tmp_path), 1)
    assert f"has no table {table}" in line
    assert "did not finish dbt" in line and "depinrev build" in line


def test_close_with_a_bad_quarter_says_how_to_write_one(failed_build, tmp_path):
    line = one_line_error(run("close", "--quarter", "2025-Q9", "--db", str(failed_build),
                              cwd=tmp_path), 2)
    assert "--quarter" in line and "'2025-Q9' is not a quarter; write it like 2025Q3" in line


def test_a_bad_option_is_one_line_pointing_at_help(tmp_path):
    line = one_line_error(run("report", "--format", "xml", cwd=tmp_path), 2)
    assert "'xml'" in line and "depinrev report --help" in line
    line = one_line_error(run("report", "--bogus", cwd=tmp_path), 2)
    assert "No such option: --bogus" in line


BOOM = """
import sys
from depinrev import cli

@cli.app.command("boom")
def boom() -> None:
    {}["missing"]  # a bug: a key that is not there

cli.main(sys.argv[1:])
"""


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-c", BOOM, "boom"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    line = one_line_error(proc, 70)
    assert "unexpected builtins.KeyError: 'missing'" in line
    assert "run with --debug for the traceback" in line
    proc = subprocess.run([sys.executable, "-c", BOOM, "boom", "--debug"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "KeyError: 'missing'" in proc.stderr


def test_the_product_errors_are_known_by_their_class_and_its_bases():
    from chains.transport import RangeTooLarge, RpcUnavailable
    from depinrev.cli import product_error_code
    from depinrev.config import ConfigError
    from indexers.chunked import ChainMismatch

    assert product_error_code(ConfigError("x")) == 2
    assert product_error_code(ChainMismatch("x")) == 2
    assert product_error_code(RpcUnavailable("x")) == 1
    assert product_error_code(RangeTooLarge("eth_getLogs", -32005, "too many")) == 1
    assert product_error_code(ValueError("x")) is None
    assert product_error_code(KeyError("x")) is None
    # a namesake from another library is not ours
    elsewhere = type("ConfigError", (ValueError,), {"__module__": "somelib.config"})
    assert product_error_code(elsewhere("x")) is None


def test_index_of_an_unreachable_rpc_is_one_line(unreachable_index):
    _, stderr = unreachable_index.communicate(timeout=120)
    proc = subprocess.CompletedProcess(unreachable_index.args, unreachable_index.returncode,
                                       "", stderr)
    line = one_line_error(proc, 1)
    assert "eth_chainId at http://127.0.0.1:" in line and "Connection refused" in line
    assert line.endswith("(indexing akash-devnet)")


def test_index_then_summary_on_a_devnet_show_counts_and_rates(shared_devnet, tmp_path):
    from tests.support.devnet import devnet_ports

    env = devnet_ports("shared")
    idx = run("index", "--network", "render-devnet", "--config", str(DEVNET_CONFIG),
              "--lake", "lake", cwd=tmp_path, env=env, timeout=300)
    assert idx.returncode == 0, idx.stderr
    assert "indexed into lake" in idx.stdout and "render-devnet" in idx.stdout
    # not a terminal: plain progress lines on stderr, the last one complete with its rate
    last = idx.stderr.splitlines()[-1]
    done, total = last.split(": ", 1)[1].split(" chunks")[0].split("/")
    assert last.startswith("render-devnet/ethereum-devnet: ") and done == total
    summ = run("summary", "--config", str(DEVNET_CONFIG), "--lake", "lake", cwd=tmp_path)
    assert summ.returncode == 0, summ.stderr
    assert "render-devnet (devnet)" in summ.stdout and "token_burns" in summ.stdout
