"""Make docs/app.png: the app in headless Chromium after a real run.

Run from the repository root: python scripts/screenshot_app.py [SIZE] [STEPS]
Needs Debian's chromium at /usr/bin/chromium.
"""

import sys
import time

from playwright.sync_api import sync_playwright

sys.path.insert(0, ".")  # app.py lives in the repository root
import app  # noqa: E402

size, steps = (int(a) for a in (sys.argv[1:3] if len(sys.argv) > 2 else (256, 80)))
_, url, _ = app.demo.launch(prevent_thread_lock=True, quiet=True, **app.launch_options(port=7899))
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    page = browser.new_page(viewport={"width": 1440, "height": 1180}, device_scale_factor=1)
    page.goto(url)
    page.wait_for_selector("#run-button", timeout=60_000)
    page.locator("#content-examples button.thumbnail-item").nth(1).click()  # astronaut
    page.locator("#style-examples button.thumbnail-item").nth(1).click()  # great wave
    for elem_id, value in (("size-slider", size), ("steps-slider", steps)):
        box = page.locator(f"#{elem_id} input[type=number]")
        box.fill(str(value))
        box.press("Enter")
    page.locator("#run-button").click()
    deadline = time.time() + 900
    while "Done" not in page.locator("#status").inner_text() and time.time() < deadline:
        time.sleep(0.5)
    time.sleep(1.5)
    page.screenshot(path="docs/app.png")
    browser.close()
app.demo.close()
print("wrote docs/app.png")
