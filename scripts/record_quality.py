"""Write a model's measured quality (bench/fast_quality.py's JSON) into its recipe, MODEL.json.

    python scripts/record_quality.py MODEL.safetensors QUALITY.json

The recipe then carries the kit's relative content and style errors on the
six held-out photos at 384 px (mean and worst), which `stylelib models`,
the app and the README show. Figures of the polished picture
(``bench/fast_quality.py --refine N``) go under "quality_polished", with
the steps and style weight they were measured at.
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
    key, polish = ("quality_polished", {"steps": quality["refine"], "style_weight": quality["refine_style_weight"]}) \
        if quality.get("refine") else ("quality", {})
    recipe[key] = {
        "judged_by": "bench/fast_quality.py: stylelib.evaluate.relative_errors on the six bundled photos at 384 px",
        **polish, **{k: round(quality[k], 3) for k in ("content_mean", "content_max", "style_mean", "style_max")},
        "photos": {p: {k: round(v, 3) for k, v in r.items() if k != "ms"} for p, r in quality["photos"].items()},
    }
    write_atomic(recipe_path, json.dumps(recipe, indent=2) + "\n")
    print(f"{model.name} {key}: content {recipe[key]['content_max']:.2f}, style {recipe[key]['style_max']:.2f} "
          "(worst held-out photo)")


if __name__ == "__main__":
    main()
