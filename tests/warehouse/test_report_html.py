"""`depinrev report --format html` on the session's synthetic warehouse, opened in headless
Chromium with every network request refused: the page renders offline with no console errors,
every chart has data, and each chart has its PNG. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.paths import REPO
from tests.warehouse.conftest import Built

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
NETWORKS = ("aethir-devnet", "akash-devnet", "ionet-devnet", "render-devnet", "splits-devnet")


@pytest.fixture(scope="module")
def page(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html") / "report.html"
    done = subprocess.run(
        [sys.executable, "-m", "depinrev.cli", "report", "--format", "html", "--db",
         str(built.db), "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stdout
    return out


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("chromium and chromium-driver are missing: `make test` installs them")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = Path(os.environ.get("TMPDIR", "/tmp")) / f"depinrev-report-{os.getpid()}"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--window-size=1400,1000", f"--user-data-dir={profile}",
                # no name resolves and no proxy answers: anything not inline fails to load
                "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def test_html_is_self_contained(page: Path) -> None:
    text = page.read_text()
    assert "<script src" not in text and "<link" not in text
    assert "cdn.jsdelivr" not in text and "unpkg.com" not in text
    for net in NETWORKS:
        assert f'id="{net}"' in text


def test_report_renders_offline_in_chromium_with_data_in_every_chart(page: Path, browser) -> None:
    from selenium.webdriver.common.by import By

    browser.get(page.as_uri())
    charts = browser.find_elements(By.CSS_SELECTOR, "div.chart")
    ids = {c.get_attribute("id") for c in charts}
    expected = {f"{n}-quarterly-{unit}" for n in NETWORKS for unit in ("usd", "tokens")}
    # burns where the network burns; reported vs chain where a USD figure has an on-chain side
    expected |= {"render-devnet-monthly-burns", "ionet-devnet-monthly-burns",
                 "aethir-devnet-reported-vs-onchain"}
    assert ids == expected
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rendered, errors = browser.execute_script(
            "return [window.chartsRendered, window.chartErrors]")
        if errors or rendered == len(charts):
            break
        time.sleep(0.5)
    assert errors == [] and rendered == len(charts)
    logs = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert logs == []
    for c in charts:
        assert int(c.get_attribute("data-rows")) > 0, c.get_attribute("id")
        assert c.find_elements(By.CSS_SELECTOR, "svg .mark-rect path"), c.get_attribute("id")
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "Reported vs on chain" in text and "depinrev explain --network" in text
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "report_html_top.png"))
    browser.execute_script("document.getElementById('render-devnet').scrollIntoView()")
    browser.save_screenshot(str(ARTIFACTS / "report_html_render_devnet.png"))


def test_every_chart_has_its_png(page: Path, browser) -> None:
    from selenium.webdriver.common.by import By

    browser.get(page.as_uri())
    ids = {c.get_attribute("id") for c in browser.find_elements(By.CSS_SELECTOR, "div.chart")}
    pngs = {p.stem: p for p in (page.parent / "report_charts").glob("*.png")}
    assert set(pngs) == ids
    for p in pngs.values():
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 2_000
