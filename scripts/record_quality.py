"""Write a model's measured quality (bench/fast_quality.py's JSON) into its recipe, MODEL.json.

    python scripts/record_quality.py MODEL.safetensors QUALITY.json

The recipe then carries the kit's relative content and style errors on the
six held-out photos at 384 px (mean and worst), which `stylelib models`,
the app and the README show.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from stylelib.files import write_atomic


def main() -> None:
    model, quality = Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text())[0]
    recipe_path = model.with_suffix(".json")
    recipe = json.loads(recipe_path.read_text())
    recipe["quality"] = {
        "judged_by": "bench/fast_quality.py: stylelib.evaluate.relative_errors on the six bundled photos at 384 px",
        **{k: round(quality[k], 3) for k in ("content_mean", "content_max", "style_mean", "style_max")},
        "photos": {p: {k: round(v, 3) for k, v in r.items() if k != "ms"} for p, r in quality["photos"].items()},
    }
    write_atomic(recipe_path, json.dumps(recipe, indent=2) + "\n")
    print(f"{model.name}: content {recipe['quality']['content_max']:.2f}, style {recipe['quality']['style_max']:.2f} "
          "(worst held-out photo)")


if __name__ == "__main__":
    main()
