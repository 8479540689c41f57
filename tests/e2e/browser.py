"""A real headless Chromium (Debian's chromium and chromium-driver) for browser tests; the
`browser` fixture that starts one is in tests/e2e/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path("/tmp")
WAIT = 15  # seconds, for any one thing the browser must show

needs_chromium = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)


def wait(driver: WebDriver, seconds: float = WAIT) -> WebDriverWait[WebDriver]:
    """Wait for a condition; an element gone stale because the page reloaded under the check
    (the sandbox refreshes itself) is looked up again, not a failure."""
    return WebDriverWait(driver, seconds, ignored_exceptions=(StaleElementReferenceException,))
