"""The dashboard in a real headless Chromium against the running daemon: sign in as Alice with
the code pager texts her (read off the fake Twilio), see the incident an Alertmanager payload
opened, press Acknowledge, see it acknowledged, and the audit trail name her.

Screenshots for a human look: /tmp/pager-dashboard.png (laptop, light), /tmp/pager-incident.png
(the timeline after the ack) and /tmp/pager-dashboard-phone-dark.png (phone width, dark)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as shows

from tests.e2e.browser import SCREENSHOTS, needs_chromium, wait
from tests.e2e.daemon import Daemon, running_daemon
from tests.helpers import ALICE, payload

NAME = "Alice Example"
CODE = re.compile(r"(\d{6}) is your pager sign-in code")

pytestmark = [pytest.mark.e2e, needs_chromium]


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    with running_daemon(tmp_path) as running:
        yield running


def sign_in(driver: WebDriver, daemon: Daemon) -> None:
    """As Alice: her handle, then the code in the SMS the fake Twilio took for her number."""
    texted = len(daemon.twilio.messages)
    driver.get(f"{daemon.url}/")
    wait(driver).until(shows.url_contains("/login"))
    driver.find_element(By.ID, "who").send_keys("alice")
    driver.find_element(By.XPATH, "//button[normalize-space()='Text me a code']").click()
    wait(driver).until(shows.presence_of_element_located((By.ID, "code")))
    # The code's SMS, not a page that lands meanwhile (a slow runner may send one just now).
    sms = daemon.twilio.wait_for_message(
        lambda m: m["To"] == ALICE and CODE.match(m["Body"]) is not None, after=texted
    )
    code = CODE.match(sms["Body"])
    assert code, sms["Body"]
    driver.find_element(By.ID, "code").send_keys(code.group(1))
    driver.find_element(By.XPATH, "//button[normalize-space()='Sign in']").click()
    wait(driver).until(shows.presence_of_element_located((By.ID, "open-heading")))


def test_it_acknowledges_an_alertmanager_incident_from_the_browser(
    daemon: Daemon, browser: WebDriver
) -> None:
    assert daemon.post_alerts(payload("alertmanager_firing.json")).status_code == 200
    incident = daemon.wait_for(lambda: daemon.api("/incidents")["incidents"], what="incident")[0]

    sign_in(browser, daemon)
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
    trail = daemon.api("/audit")["entries"]
    acked = [e for e in trail if e["action"] == "incident_acknowledged"]
    assert [(e["actor"], e["way"], e["target"]) for e in acked] == [
        (NAME, "dashboard", f"incident #{incident['id']}")
    ]
    assert {"sign_in_code_sent", "signed_in"} <= {e["action"] for e in trail}
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
