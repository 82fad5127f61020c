"""stylelib in the browser: stylise with a live preview and live loss curves, look inside, or paint instantly.

    python app.py                 # http://127.0.0.1:7860, this machine only
    python app.py --host 0.0.0.0  # share on the network (or GRADIO_SERVER_NAME=0.0.0.0)

The tabs live in webapp/ (one module each); this file assembles them.
"""

from __future__ import annotations

import argparse
import os

import gradio as gr

from stylelib.data import EXAMPLES_DIR
from webapp import inspect_tab, instant, stylise
from webapp.common import CONCURRENCY, CSS, UPLOAD_LIMIT

# delete_cache: Gradio's copies of uploads and previews older than an hour go, checked every 10 minutes
with gr.Blocks(title="stylelib: neural style transfer", delete_cache=(600, 3600)) as demo:
    gr.Markdown("# stylelib · neural style transfer\nGatys et al.'s optimisation (and Li & Wand's MRF loss), "
                "live: watch the picture change and each layer's error fall. Or paint any photo instantly.",
                elem_classes="stylelib-title")
    with gr.Tab("Stylise"):
        tab = stylise.build()
    with gr.Tab("Look inside"):
        inspect_tab.build(tab)
    with gr.Tab("Instant: any painting"):
        sheet = instant.build()
    demo.load(stylise.time_note, [tab.size, tab.steps, tab.scales], tab.time_md, show_progress="hidden",
              api_name=False, concurrency_limit=1, concurrency_id="note")  # calibrates: keep it off the runs' queue
    demo.load(instant.contact_sheet, None, sheet, show_progress="hidden", api_name=False,
              concurrency_limit=1, concurrency_id="sheet")  # its own queue: it must not hold up clicks


def launch_options(host: str | None = None, port: int | None = None) -> dict:
    """Keyword arguments for demo.launch(): local by default, bounded uploads, only our files served.

    ``host`` and ``port`` default to Gradio's own GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (then our
    STYLELIB_HOST / STYLELIB_PORT), else 127.0.0.1 and Gradio's first free port from 7860.
    """
    host = host or os.environ.get("GRADIO_SERVER_NAME") or os.environ.get("STYLELIB_HOST") or "127.0.0.1"
    if port is None:
        value = os.environ.get("GRADIO_SERVER_PORT") or os.environ.get("STYLELIB_PORT")
        port = int(value) if value else None
    return dict(
        server_name=host, server_port=port, max_file_size=UPLOAD_LIMIT, allowed_paths=[str(EXAMPLES_DIR)],
        theme=gr.themes.Soft(primary_hue="indigo"), css=CSS, show_error=True,
    )


demo.queue(max_size=32, default_concurrency_limit=CONCURRENCY)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="stylelib browser demo")
    parser.add_argument("--host", help="address to bind; 0.0.0.0 shares the app on your network "
                                       "(default: $GRADIO_SERVER_NAME, else 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: $GRADIO_SERVER_PORT, else 7860 or the next free one)")
    args = parser.parse_args()
    stylise.warm_up()  # the networks loaded before the first Run, not during it
    demo.launch(**launch_options(args.host, args.port))
