"""Print the README's table of bundled models from their JSON recipes (the figures record_quality.py wrote).

    python scripts/models_table.py
"""

from __future__ import annotations

import json
from pathlib import Path

MODELS = Path(__file__).resolve().parents[1] / "stylelib" / "assets" / "models"


def row(recipe_path: Path) -> str:
    r = json.loads(recipe_path.read_text())
    q, c = r.get("quality"), r["config"]
    figures = (f"{q['content_mean']:.2f} / **{q['content_max']:.2f}** | {q['style_mean']:.2f} / **{q['style_max']:.2f}**"
               if q else "not measured | not measured")
    schedule = f", lr {c['lr']:g}" if c.get("lr", 1e-3) != 1e-3 else ""
    schedule += ", cosine lr" if c.get("lr_schedule") == "cosine" else ""
    schedule += f", lr to 0 over the last {c['lr_tail']:.0%}" if c.get("lr_schedule") == "tail" else ""
    if "rollbacks" in r:  # trained with the divergence guard: say what it did
        acted = [f"{len(r[k])} {what}" for k, what in (("skipped", "steps skipped"), ("rollbacks", "steps back"))
                 if r.get(k)]
        schedule += f", guard: {', '.join(acted) or 'never acted'}"
    net = {"pretrained": "pretrained: the any-painting network, fine-tuned",
           "photo-coded": "photo-coded: the any-painting network, fine-tuned, a code per photo"}.get(
        r["network"], f"{r['network']}, width {r['width']}")
    net += f", {c['noise']} noise inputs" if c.get("noise") else ""
    crops = f"{c['batch_size']} × {c['image_size']} px crops"
    unit = ", style over the photo's own" if c.get("style_norm") == "photo" else ""
    unit += f" down to {c['style_target']:g}" if c.get("style_target") else ""
    unit += f", content held only above {c['content_target']:g}" if c.get("content_target") else ""
    recipe = (f"{net}, {r['steps']:,} steps of {crops}, β = {c['style_weight']:g}{unit}, "
              f"painting at {c['style_size'] or 'the default size'}, content {c['content_layer']}{schedule}")
    minutes = f"{r['cpu_seconds'] / 60:.0f}" if "cpu_seconds" in r else f"({r['seconds'] / 60:.0f} wall)"
    return f"| `{recipe_path.stem}` | {recipe} | {figures} | {minutes} |"


def main() -> None:
    print("| model | recipe | content mean / **worst** | style mean / **worst** | CPU minutes |")
    print("|---|---|---|---|---|")
    for path in sorted(MODELS.glob("*.safetensors")):
        print(row(path.with_suffix(".json")))


if __name__ == "__main__":
    main()
