"""Every page of the dashboard in a real headless Chromium, signed in as Alice (an admin): each
shows its heading, and the browser reports no error on any of them (a script or a style that
the Content-Security-Policy refused would show here). Screenshots of each, at laptop width and
at phone width in dark mode, go to $PAGER_SCREENSHOTS (default /tmp/pager-pages); the ones in
docs/screenshots/ were taken this way:

    PAGER_SCREENSHOTS=docs/screenshots pytest tests/e2e/test_pages_browser.py
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as shows

from tests.e2e.browser import needs_chromium, wait
from tests.e2e.daemon import Daemon, running_daemon
from tests.e2e.test_dashboard_browser import sign_in
from tests.helpers import payload, write_team_rotations

pytestmark = [pytest.mark.e2e, needs_chromium]

SHOTS = Path(os.environ.get("PAGER_SCREENSHOTS", "/tmp/pager-pages"))
# (file name, path, the heading's text)
PAGES = [
    ("home", "/", "Open incidents"),
    ("incident", "/incidents/1", "#1"),
    ("me", "/me", "Alice Example"),
    ("people", "/people", "People"),
    ("audit", "/audit", "Audit trail"),
    ("services", "/services", "Services and their escalation"),
    ("rotation", "/rotations/sre-primary", "sre-primary"),
]


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    rotations = write_team_rotations(tmp_path / "rotations")
    with (rotations / "team.yaml").open("a") as team:
        team.write("admins: [alice]\n")
    with running_daemon(tmp_path, rotations=rotations) as running:
        yield running


def test_every_page_renders_without_a_browser_error(daemon: Daemon, browser: WebDriver) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver = browser
    driver.get(f"{daemon.url}/login")
    wait(driver).until(shows.presence_of_element_located((By.ID, "login-heading")))
    _shoot(driver, "login")
    assert daemon.post_alerts(payload("alertmanager_firing.json")).status_code == 200
    daemon.wait_for(lambda: daemon.api("/incidents")["incidents"], what="incident")
    sign_in(driver, daemon)
    for name, path, heading in PAGES:
        driver.get(f"{daemon.url}{path}")
        found = wait(driver).until(shows.presence_of_element_located((By.TAG_NAME, "h1")))
        assert heading in found.text, (path, found.text)
        _shoot(driver, name)
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors

    driver.set_window_size(390, 1400)
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    for name in ("home", "incident", "me"):
        path = next(p for n, p, _ in PAGES if n == name)
        driver.get(f"{daemon.url}{path}")
        wait(driver).until(shows.presence_of_element_located((By.TAG_NAME, "h1")))
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways on a phone ({width} px)"
        _shoot(driver, f"{name}-phone-dark")
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []


def _shoot(driver: WebDriver, name: str) -> None:
    """The whole page, however long: the window is made as tall as the page first."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, min(max(height, 700), 4000))
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
