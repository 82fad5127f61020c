"""How soon the first picture appears: the app's Stylise tab after Run, and ``stylelib stylize --live``.

    python bench/first_preview.py [--sizes 256 512 1024] [--repeats 3]
    python bench/first_preview.py --browser     # also Run clicked in headless Chromium (/usr/bin/chromium)
    python bench/first_preview.py --tiny        # CI: 64 px, once (figures not asserted)
    python bench/first_preview.py --cli-only    # only ``stylelib stylize --live``

The app is launched in this process and driven through gradio_client, as a
browser drives it: the clock starts when the request is submitted (the
photo and painting are uploaded as part of it) and stops when the first
output carrying an image arrives. The first request after start-up is
reported apart ("cold"; the app warms up before it serves, as ``python
app.py`` does, unless ``--no-warm-up``), with the time to the first
step's picture beside the first picture's.
The client shares this process with the server (and its GIL), where a
browser would not: if anything, the app's figures are a little high. For
the CLI every run is cold: the clock starts when the process is started
and stops when OUTPUT first exists on disk (the NumPy picture of
:mod:`stylelib.anystyle_np`, written before torch loads); a second clock stops
when the file is next rewritten (torch's one-pass picture at full size).
Python importing torch and stylelib is reported apart. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # app.py sits at the repository root

from gatys_speed import machine  # noqa: E402

PHOTO, PAINTING = "grace-hopper", "starry-night"


def app_first_picture(client, size: int, steps: int) -> tuple[float, float]:
    """Seconds from submitting Run to the first output that holds an image, and to the second (the first step's)."""
    from gradio_client import handle_file
    from stylelib.data import example_path

    start, seen = time.perf_counter(), []
    job = client.submit(content=handle_file(str(example_path(PHOTO))), style=handle_file(str(example_path(PAINTING))),
                        size=size, steps=steps, api_name="/stylize")
    while len(seen) < 2:
        done = job.done()  # read before the outputs: a job that ends between the two reads is looked at again
        pictures = sum(1 for out in job.outputs() if out[0])
        seen += [time.perf_counter() - start] * (min(pictures, 2) - len(seen))
        if done and len(seen) < 2:
            raise RuntimeError(f"the app's run at {size} px gave {len(seen)} pictures, not a first one and a step")
        time.sleep(0.005)
    job.result()  # let the (short) run finish, so that the next one starts on an idle server
    return seen[0], seen[1]


def browser_first_picture(url: str, size: int, repeats: int, chromium: str) -> list[float]:
    """Seconds from clicking Run in headless Chromium to the result panel showing a picture, on fresh pages."""
    from playwright.sync_api import sync_playwright

    args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=args)
        for _ in range(repeats):
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.wait_for_selector("#run-button", timeout=60_000)
            page.locator("#content-examples button.thumbnail-item").first.click()
            page.locator("#style-examples button.thumbnail-item").first.click()
            for elem, value in (("size-slider", size), ("steps-slider", 1)):
                box = page.locator(f"#{elem} input[type=number]")
                box.fill(str(value))
                box.press("Enter")
            page.wait_for_timeout(500)  # the examples and sliders settle
            start = time.perf_counter()
            page.locator("#run-button").click()
            page.wait_for_function("document.querySelector('#result-image img') !== null", timeout=60_000)
            times.append(time.perf_counter() - start)
            page.wait_for_function("document.querySelector('#status').innerText.includes('Done')",
                                   timeout=300_000)  # the run is over: the next page starts on an idle server
            page.close()
        browser.close()
    return times


def cli_first_picture(size: int, steps: int, folder: Path) -> tuple[float, float]:
    """Seconds from starting ``stylelib stylize --live`` to OUTPUT existing on disk, and to its next rewrite."""
    out = folder / f"live_{size}.png"
    start = time.perf_counter()
    log = folder / "stderr.txt"
    with open(log, "w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "stylelib", "stylize", PHOTO, PAINTING, "-o", str(out),
                                    "--size", str(size), "--steps", str(steps), "--live"],
                                   stdout=subprocess.DEVNULL, stderr=stderr)
        while not out.exists():
            if process.poll() is not None:
                raise RuntimeError(f"stylelib stylize --live ended without writing {out}: {log.read_text()}")
            time.sleep(0.005)
        seconds, first = time.perf_counter() - start, out.stat().st_mtime_ns
        while out.stat().st_mtime_ns == first and process.poll() is None:
            time.sleep(0.005)
        again = time.perf_counter() - start
        if process.wait() != 0:
            raise RuntimeError(log.read_text())
    out.unlink()
    return seconds, again


def import_seconds(modules: str = "stylelib.cli, stylelib.anystyle, stylelib.optimize") -> float:
    """Seconds for a new Python to import ``modules`` (by default torch's too: the one-pass network, the optimiser)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {modules}"], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--repeats", type=int, default=3, help="warm runs per size (the best is reported too)")
    parser.add_argument("--tiny", action="store_true", help="64 px, once: proves it runs (CI)")
    parser.add_argument("--browser", metavar="CHROMIUM", nargs="?", const="/usr/bin/chromium",
                        help="also time Run in headless Chromium (playwright), from the click to the picture")
    parser.add_argument("--cli-only", action="store_true", help="time only `stylelib stylize --live`")
    parser.add_argument("--no-warm-up", action="store_true",
                        help="serve without webapp.stylise.warm_up() (the first Run then loads the networks)")
    args = parser.parse_args()
    if args.tiny:
        args.sizes, args.repeats = [64], 1
    report = {"machine": machine(), "app": [], "cli": []}
    if not args.cli_only:
        time_app(args, report)
    report["cli_import_seconds"] = round(import_seconds(), 3)
    report["cli_numpy_import_seconds"] = round(import_seconds("stylelib.cli, stylelib.anystyle_np"), 3)  # no torch
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            runs, again = zip(*[cli_first_picture(size, 1, Path(folder)) for _ in range(args.repeats)])
            report["cli"].append({"size": size, "cold_seconds": [round(t, 3) for t in runs],
                                  "best": round(min(runs), 3), "torch_picture_seconds": [round(t, 3) for t in again]})
            print(json.dumps(report["cli"][-1]), flush=True)
    print(json.dumps(report, indent=1))


def time_app(args: argparse.Namespace, report: dict) -> None:
    """The app's rows of the report: the first request, then each size, and Run clicked in a browser."""
    import app  # after the path is set; Gradio reads GRADIO_TEMP_DIR etc. from the environment
    from gradio_client import Client

    if not args.no_warm_up:
        app.stylise.warm_up()  # as `python app.py` does before it serves
    _, url, _ = app.demo.launch(prevent_thread_lock=True, quiet=True, **app.launch_options())
    client = Client(url, verbose=False)
    try:
        cold, cold_step = app_first_picture(client, args.sizes[0], 1)
        report["app_cold"] = {"size": args.sizes[0], "seconds": round(cold, 3), "first_step_seconds":
                              round(cold_step, 3), "warmed_up": not args.no_warm_up}
        for size in args.sizes:
            runs, steps = zip(*[app_first_picture(client, size, 1) for _ in range(args.repeats)])
            report["app"].append({"size": size, "warm_seconds": [round(t, 3) for t in runs],
                                  "best": round(min(runs), 3), "first_step_seconds": [round(t, 3) for t in steps]})
            print(json.dumps(report["app"][-1]), flush=True)
        for size in args.sizes if args.browser else ():
            runs = browser_first_picture(url, size, args.repeats, args.browser)
            report.setdefault("browser", []).append({"size": size, "seconds": [round(t, 3) for t in runs],
                                                     "best": round(min(runs), 3)})
            print(json.dumps(report["browser"][-1]), flush=True)
    finally:
        app.demo.close()


if __name__ == "__main__":
    main()
