"""The sandbox's pretend phones in a real headless Chromium against `pager serve` with the
sandbox alone (the quick start): the newest message is in sight and a refresh keeps a phone
where its reader scrolled; a key pressed on a call shows on the phone with what the call said;
a call's keys go once it is answered or its incident acknowledged.

Screenshot for a human look: /tmp/pager-sandbox.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.e2e.browser import SCREENSHOTS, needs_chromium, wait
from tests.e2e.daemon import Daemon, start_daemon
from tests.fakes.twilio import FakeTwilio
from tests.helpers import payload

pytestmark = [pytest.mark.e2e, needs_chromium]

SANDBOX_ONLY = """\
database_url: ${{PAGER_TEST_DB}}
rotations: {rotations}
public_url: {url}
api_tokens: ["${{PAGER_API_TOKEN}}"]
providers:
  - name: sandbox
    type: sandbox
integrations:
  payments-am:
    service: payments
    source: alertmanager
    token: ${{PAYMENTS_AM_TOKEN}}
"""

# One person, so she is on call at any instant; each incident texts and calls her at once.
ALICE_ALONE = """\
people:
  alice:
    {name: Alice Example, phone: "+447700900101", timezone: Europe/London, handoff_notices: false}
rotations:
  sre-primary: {timezone: Europe/London, start: 2026-01-05T09:00, shift: 1w, members: [alice]}
policies:
  sre:
    steps:
      - {targets: [rotation:sre-primary], channels: [sms, voice], wait: 30m}
services:
  payments: {policy: sre}
"""


@contextmanager
def sandbox_alone(tmp_path: Path) -> Iterator[Daemon]:
    """`pager serve` as the quick start runs it: the sandbox its only provider, Alice alone."""
    rotations = tmp_path / "rotations"
    rotations.mkdir()
    (rotations / "team.yaml").write_text(ALICE_ALONE)
    with FakeTwilio() as unused:  # the config names no Twilio; start_daemon wants one
        running = start_daemon(tmp_path, unused, rotations=rotations, config_template=SANDBOX_ONLY)
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    with sandbox_alone(tmp_path) as running:
        yield running


def sandbox_url(daemon: Daemon) -> str:
    [url] = re.findall(r"sandbox phones: (\S+)", daemon.log.read_text())
    return url


def fire(daemon: Daemon, name: str) -> None:
    body = payload("alertmanager_firing.json")
    body["groupKey"] = f'{{}}:{{alertname="{name}"}}'
    for alert in body["alerts"]:
        alert["labels"]["alertname"] = name
        alert["fingerprint"] = f"{name}-{alert['fingerprint']}"
    assert daemon.post_alerts(body).status_code == 200


def scroll(driver: WebDriver) -> dict[str, int]:
    return driver.execute_script(
        "const m = document.querySelector('.phone .msgs');"
        "return {top: m.scrollTop, height: m.scrollHeight, view: m.clientHeight};"
    )


def reloaded(driver: WebDriver) -> None:
    """Wait for the page's own 5 s refresh (a marker set on this page is gone after it)."""
    driver.execute_script("window.pagerMarker = 1;")
    wait(driver, 20).until(lambda d: d.execute_script("return window.pagerMarker === undefined;"))
    wait(driver).until(lambda d: d.execute_script("return document.readyState") == "complete")


def keypads(driver: WebDriver) -> int:
    count: int = driver.execute_script("return document.querySelectorAll('form.keypad').length;")
    return count


def phone_text(driver: WebDriver) -> str:
    """The first phone's messages, read in the page in one step: the page reloads itself every
    5 s, and an element looked up before a reload is gone after it."""
    text: str = driver.execute_script("return document.querySelector('.msgs').innerText;")
    return text


def test_it_keeps_the_newest_message_in_sight_and_takes_each_call_once(
    daemon: Daemon, browser: WebDriver
) -> None:
    for name in ("DiskFull", "QueueStuck", "CertExpiring"):
        fire(daemon, name)
    messages_url = sandbox_url(daemon).replace("/sandbox?", "/sandbox/messages.json?")
    daemon.wait_for(
        lambda: len(requests.get(messages_url, timeout=5).json()["messages"]) >= 6,
        what="three SMS and three calls on Alice's phone",
    )

    browser.get(sandbox_url(daemon))
    place = scroll(browser)
    assert place["height"] > place["view"], "the phone's messages overflow, or this proves nothing"
    assert place["top"] + place["view"] >= place["height"] - 8  # the newest at the bottom, in sight
    assert keypads(browser) == 3  # three calls, each still ringing for a triggered incident

    # Scrolled up to read, the refresh keeps the place; back at the bottom, it follows the newest.
    browser.execute_script("document.querySelector('.phone .msgs').scrollTop = 0;")
    reloaded(browser)
    assert scroll(browser)["top"] == 0
    browser.execute_script(
        "const m = document.querySelector('.phone .msgs');m.scrollTop = m.scrollHeight;"
    )
    reloaded(browser)
    place = scroll(browser)
    assert place["top"] + place["view"] >= place["height"] - 8

    # Press 1 on the newest call: the phone shows the press and what the call said; that call
    # takes no more keys, the two others still do.
    last = browser.find_elements(By.CSS_SELECTOR, "form.keypad")[-1]
    last.find_element(By.XPATH, ".//button[@value='1']").click()
    wait(browser).until(lambda d: "pressed 1" in phone_text(d))
    phone = phone_text(browser)
    assert re.search(r"Incident \d+ acknowledged\. Goodbye\.", phone), phone
    assert keypads(browser) == 2
    browser.save_screenshot(str(SCREENSHOTS / "pager-sandbox.png"))

    # Acknowledged by SMS: the calls about those incidents take no more keys either.
    reply = browser.find_element(By.CSS_SELECTOR, "form.reply input[name=body]")
    reply.send_keys("ACK ALL")
    browser.find_element(By.CSS_SELECTOR, "form.reply button").click()
    wait(browser).until(lambda d: keypads(d) == 0)
    statuses = {i["status"] for i in daemon.api("/incidents")["incidents"]}
    assert statuses == {"acknowledged"}
