"""Copy the bundled example images from ../shared/data, downscaled, with credits.

Run from the repository root: python scripts/make_examples.py [SHARED_DATA_DIR]
Writes stylelib/assets/examples/{*.jpg,CREDITS.csv}. Photos are downscaled to
at most 768 px on the longest side (JPEG quality 90); paintings keep their
size (at most 768 px already) and are re-encoded at the same quality.
"""

import csv
import sys
from pathlib import Path

from PIL import Image

# name -> (kind, path in the shared data)
EXAMPLES = {
    "grace-hopper": ("content", "photos/grace-hopper.jpg"),
    "astronaut": ("content", "photos/astronaut.jpg"),
    "chelsea-the-cat": ("content", "photos/chelsea-the-cat.jpg"),
    "neuschwanstein": ("content", "photos/neuschwanstein-castle.jpg"),
    "machu-picchu": ("content", "photos/machu-picchu.jpg"),
    "kingfisher": ("content", "photos/kingfisher.jpg"),
    "starry-night": ("style", "styles/van-gogh-starry-night.jpg"),
    "great-wave": ("style", "styles/hokusai-great-wave.jpg"),
    "composition-viii": ("style", "styles/kandinsky-composition-viii.jpg"),
    "cafe-terrace": ("style", "styles/van-gogh-cafe-terrace-at-night.jpg"),
    "moulin-de-la-galette": ("style", "styles/renoir-bal-du-moulin-de-la-galette.jpg"),
    "inokashira-snow": ("style", "styles/hiroshige-benzaiten-shrine-inokashira-snow.jpg"),
}
MAX_SIDE = 768


def main(shared: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(shared / "CREDITS.csv", encoding="utf-8") as f:
        credits = {row["path"]: row for row in csv.DictReader(f)}
    rows = []
    for name, (kind, rel) in EXAMPLES.items():
        image = Image.open(shared / rel).convert("RGB")
        if max(image.size) > MAX_SIDE:
            s = MAX_SIDE / max(image.size)
            image = image.resize((round(image.width * s), round(image.height * s)), Image.Resampling.LANCZOS)
        image.save(out / f"{name}.jpg", quality=90, optimize=True)
        row = dict(credits[rel])
        row["notes"] = (row["notes"] + f"; stylelib: saved at {image.width}x{image.height}, JPEG q90").strip("; ")
        rows.append({"name": name, "kind": kind, "file": f"{name}.jpg", **row})
    with open(out / "CREDITS.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"), Path("stylelib/assets/examples"))
