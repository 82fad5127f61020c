"""The page in a real browser: headless Chromium clicks examples and Run, and sees the preview change.

Needs Debian's chromium (/usr/bin/chromium); .ci/run installs it and sets
STYLELIB_REQUIRE_BROWSER=1 so that CI fails, not skips, without it. Set
STYLELIB_SCREENSHOT=path to also write the screenshot there (the README's).
"""

import os
import shutil
import time

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


def result_src(page):
    img = page.locator("#result-image img")
    return img.first.get_attribute("src") if img.count() else None


def test_click_example_and_run_updates_the_preview(url, tmp_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1300})
        page.goto(url)
        page.wait_for_selector("#run-button", timeout=60_000)
        page.locator("#content-examples button.thumbnail-item").nth(0).click()
        page.locator("#style-examples button.thumbnail-item").nth(0).click()
        set_slider(page, "size-slider", 128)
        set_slider(page, "steps-slider", 60)
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
        browser.close()
