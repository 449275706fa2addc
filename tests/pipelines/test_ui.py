"""The Dagster web UI, as a user meets it: `depinrev demo` (what `make demo` runs), then
`depinrev ui` (what `make ui` runs) on 127.0.0.1 over the same data directory, opened in
headless Chromium; and `depinrev backfill` launching a real backfill through it.

Screenshots are saved under test-artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from depinrev.config import load_config
from indexers.dispatch import index_network
from tests.support.devnet import DEVNET_CONFIG, TEST_SCALE, devnet_ports
from tests.support.paths import REPO

pytestmark = pytest.mark.integration

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ui(shared_devnet, tmp_path_factory):
    """`depinrev demo`, then `depinrev ui`, against the shared test devnet, with their own data
    dir (its devnet/ is the shared devnet's) and port."""
    data = tmp_path_factory.mktemp("ui-data")
    (data / "devnet").symlink_to(Path(shared_devnet.data_dir), target_is_directory=True)
    port = _free_port()
    env = {**os.environ, **devnet_ports("shared")}
    env.pop("DEPINREV_LAST_DAY", None)
    demo = subprocess.run(
        [sys.executable, "-m", "depinrev.cli", "demo", "--data-dir", str(data),
         "--scale", str(TEST_SCALE), "--config", str(DEVNET_CONFIG)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    log = (data / "ui.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "depinrev.cli", "ui", "--data-dir", str(data),
         "--port", str(port), "--no-devnet", "--config", str(DEVNET_CONFIG)],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"depinrev ui exited {proc.returncode}: {(data / 'ui.log').read_text()}")
        try:
            if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(2)
    else:
        _stop(proc)
        pytest.fail(f"the UI did not answer in 240 s: {(data / 'ui.log').read_text()[-3000:]}")
    yield {"url": url, "data": data, "env": env, "demo": demo}
    _stop(proc)
    log.close()


def _stop(proc: subprocess.Popen) -> None:
    """SIGINT to the whole process group (dagster dev and its gRPC children), then SIGKILL."""
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def browser():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("chromium and chromium-driver are missing: `make test` installs them")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = Path(os.environ.get("TMPDIR", "/tmp")) / f"depinrev-chromium-{os.getpid()}"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1600,1000",
                f"--user-data-dir={profile}"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _page_text(driver, wanted: list[str], timeout: float = 60) -> str:
    """Body text once every wanted string shows (the UI renders after the first paint)."""
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        for skip in driver.find_elements(By.XPATH, "//button[contains(., 'Skip')]"):
            skip.click()  # the first-visit "Join the Dagster community" dialog
        text = driver.find_element(By.TAG_NAME, "body").text
        if all(w in text for w in wanted):
            return text
        time.sleep(1)
    return text


def test_asset_graph_shows_the_project_assets_in_chromium(ui, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    browser.get(f"{ui['url']}/asset-groups")
    text = _page_text(browser, ["Global asset lineage", "ingest", "warehouse", "quarterly"])
    browser.save_screenshot(str(ARTIFACTS / "dagster-asset-graph.png"))
    assert "Global asset lineage" in text
    assert all(group in text for group in ("ingest", "warehouse", "quarterly"))

    browser.get(f"{ui['url']}/locations/pipelines.definitions/asset-groups/ingest")
    _page_text(browser, ["ingest", "Lineage"])
    browser.save_screenshot(str(ARTIFACTS / "dagster-ingest-group.png"))
    # the group's List tab names every asset as text (the graph draws only what is in view)
    from selenium.webdriver.common.by import By

    for tab in browser.find_elements(By.XPATH, "//*[normalize-space(text())='List']"):
        tab.click()
        break
    wanted = ["token_burns", "token_mints", "lease_payments", "service_fees", "token_prices",
              "blocks"]
    text = _page_text(browser, wanted)
    browser.save_screenshot(str(ARTIFACTS / "dagster-ingest-list.png"))
    assert all(w in text for w in wanted), text[:2000]


def test_make_demo_then_the_ui_shows_every_asset_materialized(ui, browser):
    """`make demo` runs through the Dagster definitions: afterwards the instance the UI opens has
    a materialization of every asset and a result of every check, the warehouse has the devnet's
    simulated reported figures, the day partitions end with the devnet's history, and the
    quarterly asset's page shows its materialization and metadata."""
    import dagster as dg

    demo = ui["demo"]
    assert "Audited quarterly revenue" in demo.stdout, demo.stdout[-3000:]
    assert "0 failed; recorded in" in demo.stdout
    env = {k: v for k, v in ui["env"].items() if k.startswith("DEPINREV_RPC")}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        from pipelines.definitions import defs

        graph = defs.resolve_asset_graph()
    with dg.DagsterInstance.from_config(str(ui["data"] / "dagster")) as instance:
        missing = sorted(k.to_user_string() for k in graph.materializable_asset_keys
                         if instance.get_latest_materialization_event(k) is None)
        assert not missing, f"never materialized after the demo: {missing}"
        check_keys = list(graph.asset_check_keys)
        runs = instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
        assert len(check_keys) > 10 and not set(check_keys) - set(runs), \
            sorted(str(k) for k in set(check_keys) - set(runs))
        statuses = {r.status.value for r in runs.values()}
        assert statuses == {"SUCCEEDED"}, statuses
        quarterly = instance.get_latest_materialization_event(dg.AssetKey(["quarterly", "revenue"]))
        assert quarterly is not None and quarterly.asset_materialization is not None
        assert {"table", "report_html", "charts", "reported_vs_onchain"} <= set(
            quarterly.asset_materialization.metadata)

    import duckdb

    with duckdb.connect(str(ui["data"] / "warehouse.duckdb"), read_only=True) as con:
        simulated = con.execute(
            "select count(*) from marts.fct_reported_vs_onchain where basis = 'simulated'"
        ).fetchone()
    assert simulated is not None and simulated[0] > 0  # the devnet's figures took the Dagster path

    # the UI's day partitions: the devnet's year and the tail day after it, not up to today
    body = httpx.post(f"{ui['url']}/graphql", json={"query": """
        { assetNodeOrError(assetKey: {path: ["lake", "blocks"]}) {
            ... on AssetNode { partitionKeysByDimension { name partitionKeys } } } }"""},
        timeout=60).json()
    dims = {d["name"]: d["partitionKeys"]
            for d in body["data"]["assetNodeOrError"]["partitionKeysByDimension"]}
    assert dims["day"][0] == "2025-01-01" and dims["day"][-1] == "2026-01-01"
    assert len(dims["day"]) == 366

    ARTIFACTS.mkdir(exist_ok=True)
    browser.get(f"{ui['url']}/assets/quarterly/revenue")
    wanted = ["Latest materialization", "report_html", "reported_vs_onchain"]
    text = _page_text(browser, wanted, timeout=90)
    browser.save_screenshot(str(ARTIFACTS / "dagster-quarterly-revenue.png"))
    assert all(w in text for w in wanted), text[:3000]
    browser.get(f"{ui['url']}/asset-groups")
    _page_text(browser, ["Global asset lineage", "quarterly"])
    browser.save_screenshot(str(ARTIFACTS / "dagster-asset-graph-after-demo.png"))


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.parquet"))}


def _utc(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())


def _block_time(url: str, n: int) -> int:
    body = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber",
                                 "params": [hex(n), False]}).json()
    return int(body["result"]["timestamp"], 16)


def _blocks_between(url: str, start_ts: int, end_ts: int) -> tuple[int, int]:
    """First and last block with start_ts <= timestamp < end_ts, by bisection on the node."""
    head = int(httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber",
                                     "params": []}).json()["result"], 16)

    def first_at_or_after(ts: int) -> int:
        lo, hi = 0, head + 1
        while lo < hi:
            mid = (lo + hi) // 2
            if _block_time(url, mid) >= ts:
                hi = mid
            else:
                lo = mid + 1
        return lo

    return first_at_or_after(start_ts), first_at_or_after(end_ts) - 1


def _chunk_range(rel: str) -> tuple[int, int]:
    start, end = Path(rel).stem.rsplit("__", 1)[1].split("_")
    return int(start), int(end)


# Each day partition is a Dagster run of its own process: `make test` backfills three days,
# `make soak` the whole month (the same assertions).
@pytest.mark.parametrize(
    ("first_day", "last_day", "days"),
    [
        ("2025-02-01", "2025-02-03", 3),
        pytest.param("2025-02-01", "2025-02-28", 28, marks=pytest.mark.soak),
    ],
)
def test_cli_backfill_runs_through_dagster_and_writes_the_one_shot_files(
    ui, tmp_path, first_day: str, last_day: str, days: int
):
    # the demo (or an earlier backfill) filled the lake and the warehouse: start from neither
    shutil.rmtree(ui["data"] / "lake", ignore_errors=True)
    (ui["data"] / "warehouse.duckdb").unlink(missing_ok=True)
    run = subprocess.run(
        [sys.executable, "-m", "depinrev.cli", "backfill", "--from", first_day,
         "--to", last_day, "--network", "render-devnet", "--url", ui["url"],
         "--timeout", "420", "--config", str(DEVNET_CONFIG)],
        cwd=REPO, env=ui["env"], capture_output=True, text=True, timeout=900,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{days} partitions" in run.stdout and "COMPLETED_SUCCESS" in run.stdout
    assert "warehouse_job run" in run.stdout and "SUCCESS" in run.stdout
    assert "backfill: " in run.stderr and " asset partitions" in run.stderr  # progress lines

    lake = ui["data"] / "lake"
    one_shot = tmp_path / "lake"
    config = load_config(DEVNET_CONFIG)
    index_network(config, "render-devnet", one_shot)
    backfilled, whole = _hashes(lake), _hashes(one_shot)
    # every file of the backfill is the one-shot run's file, byte for byte...
    assert backfilled and {k: whole.get(k) for k in backfilled} == backfilled
    # ...and the backfill wrote exactly the chunks holding those days' blocks, not the chain
    chain = config.chains["ethereum-devnet"]
    first, last = _blocks_between(
        ui["env"][chain.rpc_url_env], _utc(first_day), _utc(last_day) + 86_400
    )
    held = {k for k in whole if _chunk_range(k)[0] <= last and first <= _chunk_range(k)[1]}
    assert set(backfilled) == held and len(held) < len(whole)
    import duckdb

    with duckdb.connect(str(ui["data"] / "warehouse.duckdb"), read_only=True) as con:
        networks = {r[0] for r in con.execute(
            "select network from marts.fct_network_revenue_quarterly").fetchall()}
    assert networks == {"render-devnet"}


def test_backfill_without_a_running_ui_says_how_to_start_it(tmp_path):
    port = _free_port()
    run = subprocess.run(
        [sys.executable, "-m", "depinrev.cli", "backfill", "--from", "2025-02-01",
         "--to", "2025-02-02", "--url", f"http://127.0.0.1:{port}",
         "--config", str(DEVNET_CONFIG)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 1
    assert "depinrev ui" in run.stderr

