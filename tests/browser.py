"""Headless Chromium for real-browser tests: Debian's ``chromium`` driven through Debian's ``chromedriver`` (given
as a path, so Selenium Manager downloads nothing); autoplay with sound allowed; ``--mute-audio`` keeps the machine's
speakers quiet (pages that measure sound do it on an element's captured stream, which muting does not touch)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.procutil import REQUIRE_ALL, need_tool

CHROMIUM, CHROMEDRIVER = "chromium", "chromedriver"
ARGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--autoplay-policy=no-user-gesture-required", "--no-first-run", "--mute-audio")


def need_selenium() -> None:
    try:
        import selenium.webdriver  # noqa: F401
    except ImportError:
        msg = "needs selenium (pip install -e '.[dev]'; .ci/run does)"
        if REQUIRE_ALL:
            pytest.fail(msg)
        pytest.skip(msg)


@contextmanager
def headless_chromium(*, console_log: bool = False) -> Iterator:
    """A Selenium driver; ``console_log``: keep the browser console for ``driver.get_log("browser")``."""
    need_tool(CHROMIUM, CHROMEDRIVER)
    need_selenium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which(CHROMIUM)
    for arg in ARGS:
        options.add_argument(arg)
    if console_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
