"""Loaded by pytest before anything else: settings for every test and every lesson run."""

import os
import tempfile

# Lessons run in fast mode under pytest (smaller images, fewer steps; every cell still runs).
os.environ.setdefault("STYLELIB_FAST", "1")
# Gradio reads this when it is imported: keep its uploads and outputs out of /tmp/gradio.
os.environ.setdefault("GRADIO_TEMP_DIR", tempfile.mkdtemp(prefix="stylelib-gradio-"))
