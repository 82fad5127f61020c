"""The page in a real browser: headless Chromium clicks examples and Run, and sees the preview change.

Needs Debian's chromium (/usr/bin/chromium); .ci/run installs it and sets
STYLELIB_REQUIRE_BROWSER=1 so that CI fails, not skips, without it. Set
STYLELIB_SCREENSHOT=path to also write the screenshot there (the README's).
"""

import contextlib
import os
import shutil
import time
from pathlib import Path

import pytest

from tests.test_app import app_module, url  # noqa: F401  (fixtures: the same in-process server)

CHROMIUM = os.environ.get("STYLELIB_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
pytestmark = pytest.mark.filterwarnings("default")

if not os.path.exists(CHROMIUM):
    if os.environ.get("STYLELIB_REQUIRE_BROWSER"):
        raise RuntimeError(f"{CHROMIUM} not found: apt-get install chromium")
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


def set_slider(page, elem_id, value):
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Enter")


@contextlib.contextmanager
def page_with(url, *, example=0, size=128, steps=60, height=1300):
    """A fresh page of the app with an example photo and painting picked, and size and steps set."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": height})
        page.goto(url)
        page.wait_for_selector("#run-button", timeout=60_000)
        page.locator("#content-examples button.thumbnail-item").nth(example).click()
        page.locator("#style-examples button.thumbnail-item").nth(example).click()
        set_slider(page, "size-slider", size)
        set_slider(page, "steps-slider", steps)
        try:
            yield page
        finally:
            browser.close()


def result_src(page):
    img = page.locator("#result-image img")
    return img.first.get_attribute("src") if img.count() else None


def test_click_example_and_run_updates_the_preview(url, tmp_path):  # noqa: F811
    with page_with(url) as page:
        page.locator("#run-button").click()
        sources, deadline = [], time.time() + 180
        while time.time() < deadline:
            src = result_src(page)
            if src and (not sources or src != sources[-1]):
                sources.append(src)
            if "Done" in page.locator("#status").inner_text():
                break
            time.sleep(0.2)
        assert "Done" in page.locator("#status").inner_text(), "the run did not finish"
        assert len(sources) >= 2, f"the preview should change while it optimises; saw {len(sources)} image(s)"
        shot = tmp_path / "app.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        if os.environ.get("STYLELIB_SCREENSHOT"):
            shutil.copy(shot, os.environ["STYLELIB_SCREENSHOT"])


def test_stop_says_where_it_stopped_and_keeps_the_picture(url):  # noqa: F811
    with page_with(url, example=1, steps=1000) as page:
        page.locator("#run-button").click()
        deadline = time.time() + 120
        while "Step" not in page.locator("#status").inner_text() and time.time() < deadline:
            time.sleep(0.2)
        assert "Step" in page.locator("#status").inner_text(), "the run never reported a step"
        shown = result_src(page)
        page.locator("#stop-button").click()
        deadline = time.time() + 30
        while "Stopped" not in page.locator("#status").inner_text() and time.time() < deadline:
            time.sleep(0.2)
        status = page.locator("#status").inner_text()
        assert "Stopped at step" in status and "/1000" in status, status
        assert result_src(page) == shown or result_src(page), "the partial picture stays on screen"
        page.wait_for_function("document.querySelector('#run-button').innerText.includes('Run')", timeout=30_000)


def test_first_time_view(url, tmp_path):  # noqa: F811
    """What a newcomer sees: few settings open, the instant tab's first preview fast, captions whole."""
    with page_with(url, size=384, steps=20, height=1000) as page:
        assert not page.locator("#advanced").locator("text=Content weight").is_visible(), "Advanced starts folded"
        assert page.locator("#size-slider").is_visible() and page.locator("#steps-slider").is_visible()
        start = time.time()
        page.locator("#run-button").click()
        page.wait_for_function("document.querySelector('#result-image img') !== null", timeout=60_000)
        first_preview = time.time() - start
        page.screenshot(path=str(tmp_path / "first.png"))
        if os.environ.get("STYLELIB_SCREENSHOT_DIR"):
            shutil.copy(tmp_path / "first.png", Path(os.environ["STYLELIB_SCREENSHOT_DIR"]) / "first.png")
        # the any-painting network's picture comes first; generous bound for a loaded CI machine
        assert first_preview < 10, first_preview

