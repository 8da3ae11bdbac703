#!/usr/bin/env bash
# Rebuild the models shipped in resources/models/ from the MTFL data, end to end and resumably:
# rerunning the script continues every run from its last checkpoint (caches are reused).
#
#   MTFL=../shared/data/MTFL WORK=work-models bash scripts/build_default_models.sh
#
# Step counts are environment variables (the shipped models' values are in resources/models/README.md);
# on a GPU (picked automatically) the whole script takes minutes, on 2 CPU cores hours.
set -euo pipefail
cd "$(dirname "$0")/.."
KS=${KS:-.venv/bin/keepsmiling}
MTFL=${MTFL:-../shared/data/MTFL}
WORK=${WORK:-work-models}
SPLITGAN_STEPS=${SPLITGAN_STEPS:-3000}
COMPLEXGAN_STEPS=${COMPLEXGAN_STEPS:-3000}
SIMPLEGAN_STEPS=${SIMPLEGAN_STEPS:-3000}
CLASSIFIER_STEPS=${CLASSIFIER_STEPS:-1500}
ORIGINAL_STEPS=${ORIGINAL_STEPS:-$SPLITGAN_STEPS}
STAGES=${STAGES:-"caches splitgan classifier complexgan simplegan original evaluate export"}
OUT=${OUT:-resources/models}

has() { [[ " $STAGES " == *" $1 "* ]]; }

if has caches; then
  "$KS" prepare --dataset "mtfl:$MTFL" --size 64 --split training --out "$WORK/cache/train64"
  "$KS" prepare --dataset "mtfl:$MTFL" --size 64 --split testing --out "$WORK/cache/test64"
  # The original recipe's data: frontal faces only, its axis-aligned nose-to-chin box squashed to 64x64.
  "$KS" prepare --dataset "mtfl:$MTFL" --size 64 --split training --mode original --pose 3 --out "$WORK/cache/train64-original"
  "$KS" prepare --dataset "mtfl:$MTFL" --size 64 --split testing --mode original --pose 3 --out "$WORK/cache/test64-original"
fi
if has splitgan; then
  "$KS" train --setup splitgan --data "$WORK/cache/train64" --out "$WORK/runs/splitgan" --steps "$SPLITGAN_STEPS" --resume --checkpoint-every 100 --seed 0
  "$KS" latent --run "$WORK/runs/splitgan" --data "$WORK/cache/train64" --method logreg
fi
if has classifier; then
  [ -f "$WORK/runs/classifier/checkpoint.json" ] || \
    "$KS" train-classifier --data "$WORK/cache/train64" --val "$WORK/cache/test64" --out "$WORK/runs/classifier" --steps "$CLASSIFIER_STEPS" --seed 0
fi
if has complexgan; then
  "$KS" train --setup complexgan --data "$WORK/cache/train64" --out "$WORK/runs/complexgan" --steps "$COMPLEXGAN_STEPS" --resume --checkpoint-every 100 --seed 0
fi
if has simplegan; then
  "$KS" train --setup simplegan --data "$WORK/cache/train64" --out "$WORK/runs/simplegan" --steps "$SIMPLEGAN_STEPS" --resume --checkpoint-every 100 --seed 0
fi
if has original; then
  # The 2018 recipe, bugs fixed: its networks and losses, its crops, difference of class means.
  "$KS" train --setup splitgan --preset original --data "$WORK/cache/train64-original" --out "$WORK/runs/splitgan-original" --steps "$ORIGINAL_STEPS" --resume --checkpoint-every 100 --seed 0
  "$KS" latent --run "$WORK/runs/splitgan-original" --data "$WORK/cache/train64-original" --method meandiff
  # Its crops are framed differently, so it is judged by a classifier trained on crops framed like them.
  [ -f "$WORK/runs/classifier-original/checkpoint.json" ] || \
    "$KS" train-classifier --data "$WORK/cache/train64-original" --val "$WORK/cache/test64-original" --out "$WORK/runs/classifier-original" --steps "$CLASSIFIER_STEPS" --seed 0
fi
if has evaluate; then
  "$KS" evaluate --model "$WORK/runs/splitgan" --model "$WORK/runs/complexgan" \
    --classifier "$WORK/runs/classifier" --data "$WORK/cache/test64" --out "$WORK/evaluation"
  "$KS" evaluate --model "$WORK/runs/splitgan-original" \
    --classifier "$WORK/runs/classifier-original" --data "$WORK/cache/test64-original" --out "$WORK/evaluation-original"
fi
if has export; then
  for name in splitgan complexgan simplegan classifier; do
    "$KS" export --run "$WORK/runs/$name" --out "$OUT/$name"
  done
fi
