"""The dashboard in a real headless Chromium against the running daemon: sign in with the API
token, see the incident an Alertmanager payload opened, press Acknowledge, see it acknowledged.

Screenshots for a human look: /tmp/pager-dashboard.png (laptop, light), /tmp/pager-incident.png
(the timeline after the ack) and /tmp/pager-dashboard-phone-dark.png (phone width, dark)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as shows

from tests.e2e.browser import SCREENSHOTS, needs_chromium, wait
from tests.e2e.daemon import API_TOKEN, Daemon, running_daemon
from tests.helpers import payload

NAME = "Alice Example"

pytestmark = [pytest.mark.e2e, needs_chromium]


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    with running_daemon(tmp_path) as running:
        yield running


def sign_in(driver: WebDriver, url: str) -> None:
    driver.get(f"{url}/")
    wait(driver).until(shows.url_contains("/login"))
    driver.find_element(By.ID, "name").send_keys(NAME)
    driver.find_element(By.ID, "token").send_keys(API_TOKEN)
    driver.find_element(By.CSS_SELECTOR, "form button").click()
    wait(driver).until(shows.presence_of_element_located((By.ID, "open-heading")))


def test_it_acknowledges_an_alertmanager_incident_from_the_browser(
    daemon: Daemon, browser: WebDriver
) -> None:
    assert daemon.post_alerts(payload("alertmanager_firing.json")).status_code == 200
    incident = daemon.wait_for(lambda: daemon.api("/incidents")["incidents"], what="incident")[0]

    sign_in(browser, daemon.url)
    card = browser.find_element(By.CSS_SELECTOR, ".incident")
    assert f"#{incident['id']}" in card.text and incident["title"] in card.text
    assert "TRIGGERED" in card.text  # the badge, upper case by CSS
    browser.save_screenshot(str(SCREENSHOTS / "pager-dashboard.png"))

    card.find_element(By.XPATH, ".//button[normalize-space()='Acknowledge']").click()
    wait(browser).until(shows.url_contains(f"/incidents/{incident['id']}"))
    wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, ".badge").text == "ACKNOWLEDGED")
    timeline = browser.find_element(By.CSS_SELECTOR, ".timeline").text
    assert f"acknowledged by {NAME} (dashboard)" in timeline
    assert daemon.api(f"/incidents/{incident['id']}")["acknowledged_by"] == NAME
    browser.set_window_size(1280, 1800)
    browser.save_screenshot(str(SCREENSHOTS / "pager-incident.png"))

    browser.set_window_size(390, 1400)
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    browser.get(f"{daemon.url}/")
    card = wait(browser).until(shows.presence_of_element_located((By.CSS_SELECTOR, ".incident")))
    assert f"acknowledged by {NAME}" in card.text
    browser.save_screenshot(str(SCREENSHOTS / "pager-dashboard-phone-dark.png"))
