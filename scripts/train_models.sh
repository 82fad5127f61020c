#!/usr/bin/env bash
# Train the bundled fast-style models with the recipe of docs/fast_recipe.md. Run from the repository root.
#   scripts/train_models.sh [PAINTING...]            # default: every bundled painting, then the paper network
# Settings come from the environment, so that one script serves the CPU and a GPU (scripts/train_models_gpu.sh):
#   STEPS WIDTH SIZE BATCH DEVICE OUT THREADS DATA NETWORK BETA NORM LR SUFFIX (added to each model's name), and EXTRA
#   for any other `stylelib train` flags.
# The photos: ../shared/data/photos minus the six bundled example photos (kept for validation), copied
# into the git-ignored train_photos/. Each model resumes from its checkpoint, so a killed run loses little.
set -euo pipefail
WIDTH=${WIDTH:-32}; DEVICE=${DEVICE:-auto}
OUT=${OUT:-stylelib/assets/models}; PY=${PY:-.venv/bin/python}; EXTRA=${EXTRA:-}
# The recipe (docs/fast_recipe.md): the any-painting network with the painting baked in, fine-tuned
# (--network pretrained), on the optimisation's own layers and relative errors, the painting at the size
# the models are judged at, four 128 px crops a step. The Starry Night's and Inokashira in snow's models take
# one 256 px crop a step, each photo's style error over the photo's own (the judge's unit), β = 1.2 (s15) and
# 5,600 steps (s16): better for them, but The Great Wave, Composition VIII and Moulin de la Galette took less of
# the painting that way.
# Networks trained from random weights (improved, paper) take 3,800 steps at β = 1.75 and lr 1e-3.
NETWORK=${NETWORK:-pretrained}
RECIPE="--style-layers relu1_1 relu2_1 relu3_1 relu4_1 relu5_1 --content-layer relu4_2 --style-size 384"
DATA=${DATA:-train_photos}
if [ "$DATA" = train_photos ] && [ ! -d train_photos ]; then
    mkdir -p train_photos
    for f in ../shared/data/photos/*.jpg; do
        case $(basename "$f") in
            grace-hopper.jpg|astronaut.jpg|chelsea-the-cat.jpg|neuschwanstein-castle.jpg|machu-picchu.jpg|kingfisher.jpg) ;;
            *) cp "$f" train_photos/ ;;
        esac
    done
fi
mkdir -p "$OUT"
paintings=("$@")
[ ${#paintings[@]} -gt 0 ] || paintings=(starry-night great-wave composition-viii cafe-terrace moulin-de-la-galette inokashira-snow paper:starry-night)
for p in "${paintings[@]}"; do
    network=$NETWORK; name=$p${SUFFIX:-}
    if [[ $p == paper:* ]]; then network=paper; p=${p#paper:}; name=$p-paper; fi
    if [ "$network" != pretrained ]; then d=(3800 1.75 1e-3 128 4 painting)
    elif [[ $p =~ ^(starry-night|inokashira-snow)$ ]]; then d=(5600 1.2 5e-4 256 1 photo)
    else d=(3000 1.5 5e-4 128 4 painting); fi
    steps=${STEPS:-${d[0]}}; beta=${BETA:-${d[1]}}; lr=${LR:-${d[2]}}; size=${SIZE:-${d[3]}}; batch=${BATCH:-${d[4]}}
    norm=${NORM:-${d[5]}}
    # shellcheck disable=SC2086
    OMP_NUM_THREADS=${THREADS:-${OMP_NUM_THREADS:-}} $PY -m stylelib train "$p" --data "$DATA" \
        -o "$OUT/$name.safetensors" --network "$network" --steps "$steps" --width "$WIDTH" --image-size "$size" \
        --batch-size "$batch" --device "$DEVICE" --checkpoint-every 100 --preview-every 500 --resume $RECIPE \
        --style-weight "$beta" --style-norm "$norm" --lr "$lr" $EXTRA
    $PY bench/fast_quality.py "$OUT/$name.safetensors" > "$OUT/$name.quality.json"
    $PY scripts/record_quality.py "$OUT/$name.safetensors" "$OUT/$name.quality.json"
done
