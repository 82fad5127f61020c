"""The browser demo's parts: one module per tab, and what they share (common.py).

``app.py`` at the repository root assembles them into ``demo``.
"""
