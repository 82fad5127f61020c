#!/usr/bin/env bash
# Train the bundled fast-style models. Run from the repository root.
#   scripts/train_models.sh [STEPS] [extra stylelib train flags...]
# The photos: ../shared/data/photos minus the six bundled example photos (kept for validation),
# copied into the git-ignored train_photos/.
set -euo pipefail
steps=${1:-2000}; shift || true
if [ ! -d train_photos ]; then
    mkdir -p train_photos
    for f in ../shared/data/photos/*.jpg; do
        case $(basename "$f") in
            grace-hopper.jpg|astronaut.jpg|chelsea-the-cat.jpg|neuschwanstein-castle.jpg|machu-picchu.jpg|kingfisher.jpg) ;;
            *) cp "$f" train_photos/ ;;
        esac
    done
fi
for style in starry-night great-wave composition-viii cafe-terrace; do
    .venv/bin/stylelib train "$style" --data train_photos -o "stylelib/assets/models/$style.safetensors" \
        --steps "$steps" --resume --width 16 --image-size 128 --batch-size 4 \
        --checkpoint-every 100 --preview-every 250 "$@"
done
