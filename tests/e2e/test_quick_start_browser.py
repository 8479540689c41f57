"""The quick start's whole journey in a real headless Chromium, against `pager serve` with the
sandbox alone: sign in as Alice with the code read off her pretend phone on the sandbox page,
acknowledge the incident an Alertmanager payload opened, and find the audit trail naming her
(and the sign-in), all through the browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as shows

from tests.e2e.browser import needs_chromium, wait
from tests.e2e.daemon import Daemon
from tests.e2e.test_sandbox_browser import fire, sandbox_alone, sandbox_url

pytestmark = [pytest.mark.e2e, needs_chromium]


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    with sandbox_alone(tmp_path) as running:
        yield running


def code_on_the_sandbox_phone(driver: WebDriver, daemon: Daemon) -> str:
    """The newest sign-in code on Alice's pretend phone, read off the sandbox page in a tab of
    its own (as a person would, keeping the sign-in form open in the first)."""
    form = driver.current_window_handle
    driver.switch_to.new_window("tab")
    driver.get(sandbox_url(daemon))

    def newest_code(d: WebDriver) -> str | None:
        text: str = d.execute_script(
            "const p = document.querySelector('.phone[data-number=\"+447700900101\"] .msgs');"
            "return p ? p.innerText : '';"
        )
        found = re.findall(r"(\d{6}) is your pager sign-in code", text)
        return found[-1] if found else None

    code: str = wait(driver, 20).until(newest_code)
    driver.close()
    driver.switch_to.window(form)
    return code


def test_the_quick_start_signs_in_from_the_sandbox_and_acknowledges(
    daemon: Daemon, browser: WebDriver
) -> None:
    fire(daemon, "HighErrorRate")
    incident = daemon.wait_for(lambda: daemon.api("/incidents")["incidents"], what="incident")[0]

    browser.get(f"{daemon.url}/")
    wait(browser).until(shows.url_contains("/login"))
    browser.find_element(By.ID, "who").send_keys("alice")
    browser.find_element(By.XPATH, "//button[normalize-space()='Text me a code']").click()
    wait(browser).until(shows.presence_of_element_located((By.ID, "code")))
    code = code_on_the_sandbox_phone(browser, daemon)
    browser.find_element(By.ID, "code").send_keys(code)
    browser.find_element(By.XPATH, "//button[normalize-space()='Sign in']").click()
    wait(browser).until(shows.presence_of_element_located((By.ID, "open-heading")))

    card = browser.find_element(By.CSS_SELECTOR, ".incident")
    card.find_element(By.XPATH, ".//button[normalize-space()='Acknowledge']").click()
    wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, ".badge").text == "ACKNOWLEDGED")

    browser.get(f"{daemon.url}/audit?actor=Alice+Example")
    rows = wait(browser).until(
        lambda d: [r.text for r in d.find_elements(By.CSS_SELECTOR, "table.audit tbody tr")]
    )
    assert any(
        "incident_acknowledged" in row and f"incident #{incident['id']}" in row for row in rows
    ), rows
    browser.get(f"{daemon.url}/audit?action=signed_in")
    signed = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "table.audit tbody tr")]
    assert len(signed) == 1 and "alice" in signed[0] and "sms code" in signed[0], signed
