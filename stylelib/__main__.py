"""``python -m stylelib``; also ``python stylelib`` from the repository root (what torchrun runs)."""

import sys

from stylelib.cli import main

sys.exit(main())
