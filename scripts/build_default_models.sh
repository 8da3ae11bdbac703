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
GENKI=${GENKI:-../shared/data/GENKI-4K-dev}
WORK=${WORK:-work-models}
# SplitGAN and ComplexGAN are trained in stages, as the shipped ones were: a first stage with the
# earlier default settings (*_BASE_STEPS), then the current default preset started from its weights
# (ComplexGAN: plus a stage whose smile head judges 4x-pooled crops), a continuation with a new seed, and
# last the stages whose smile loss judges the edit as the editor pastes it (judge_delivered).
# Each stage restarts the learning-rate schedule; a stage set to 0 steps is skipped.
SPLITGAN_BASE_STEPS=${SPLITGAN_BASE_STEPS:-1400}
SPLITGAN_EDIT_STEPS=${SPLITGAN_EDIT_STEPS:-1500}
SPLITGAN_MORE_STEPS=${SPLITGAN_MORE_STEPS:-2800}
SPLITGAN_DELIVERED_STEPS=${SPLITGAN_DELIVERED_STEPS:-2000}
COMPLEXGAN_BASE_STEPS=${COMPLEXGAN_BASE_STEPS:-1400}
COMPLEXGAN_MID_STEPS=${COMPLEXGAN_MID_STEPS:-2000}
COMPLEXGAN_POOLED_STEPS=${COMPLEXGAN_POOLED_STEPS:-1500}
COMPLEXGAN_DELIVERED_STEPS=${COMPLEXGAN_DELIVERED_STEPS:-2000}
COMPLEXGAN_DELIVERED2_STEPS=${COMPLEXGAN_DELIVERED2_STEPS:-1500}
SIMPLEGAN_STEPS=${SIMPLEGAN_STEPS:-1000}
CLASSIFIER_STEPS=${CLASSIFIER_STEPS:-1500}
JUDGE_STEPS=${JUDGE_STEPS:-1500}
FILL_GREY_STEPS=${FILL_GREY_STEPS:-1000}   # the mouth fill's first steps, at the old critic weight 0.03
FILL_STEPS=${FILL_STEPS:-5000}
FILL_THIN_STEPS=${FILL_THIN_STEPS:-7000}   # ... and at last with barely parted lips too (thin gaps stay dark)
ORIGINAL_STEPS=${ORIGINAL_STEPS:-$SPLITGAN_EDIT_STEPS}
STAGES=${STAGES:-"caches warp teeth fill splitgan classifier complexgan shape simplegan original judge evaluate export"}
OUT=${OUT:-resources/models}

has() { [[ " $STAGES " == *" $1 "* ]]; }

# stage SETUP FROM TO STEPS SEED [train options...]: train run TO started from run FROM's weights and
# print TO, so the next stage starts from the last one that ran (a 0-step stage leaves FROM in place).
stage() {
  local setup=$1 from=$2 to=$3 steps=$4 seed=$5; shift 5
  if [ "$steps" -gt 0 ]; then
    "$KS" train --setup "$setup" --data "$WORK/cache/train64" --out "$WORK/runs/$to" --steps "$steps" --resume \
      --checkpoint-every 100 --seed "$seed" --init-from "$WORK/runs/$from" "$@" >&2
    echo "$to"
  else
    echo "$from"
  fi
}

if has caches; then
  "$KS" prepare --dataset "mtfl:$MTFL" --size 64 --split training --out "$WORK/cache/train64"
  "$KS" prepare --dataset "mtfl:$MTFL" --size 64 --split testing --out "$WORK/cache/test64"
  # The original recipe's data: frontal faces only, its axis-aligned nose-to-chin box squashed to 64x64.
  "$KS" prepare --dataset "mtfl:$MTFL" --size 64 --split training --mode original --pose 3 --out "$WORK/cache/train64-original"
  "$KS" prepare --dataset "mtfl:$MTFL" --size 64 --split testing --mode original --pose 3 --out "$WORK/cache/test64-original"
fi
if has splitgan; then
  # Stage 1: a plain autoencoder (no smile head, no edit terms) learns to reconstruct.
  "$KS" train --setup splitgan --data "$WORK/cache/train64" --out "$WORK/runs/splitgan-base" --steps "$SPLITGAN_BASE_STEPS" --resume --checkpoint-every 100 --seed 0 \
    --arch smile_head=false --set lambda_cls=0 --set lambda_edit=0 --set lambda_edit_adv=0 --set cls_blur=1 --set cls_r1_gamma=0
  # Stage 2: the default preset, which also trains z ± (mean_smile − mean_non) to decode as the other label;
  # stage 3 continues it with a new seed; stage 4 judges the edit as the editor pastes it.
  last=$(stage splitgan splitgan-base splitgan-edit "$SPLITGAN_EDIT_STEPS" 0)
  last=$(stage splitgan "$last" splitgan-more "$SPLITGAN_MORE_STEPS" 1)
  last=$(stage splitgan "$last" splitgan-delivered "$SPLITGAN_DELIVERED_STEPS" 2 --set judge_delivered=true)
  rm -rf "$WORK/runs/splitgan"; cp -r "$WORK/runs/$last" "$WORK/runs/splitgan"
  "$KS" latent --run "$WORK/runs/splitgan" --data "$WORK/cache/train64" --method logreg
fi
if has warp; then   # the landmark warp's smile shape: no training, 68 points of 1,500 + 1,500 MTFL faces
  "$KS" fit-shape --dataset "mtfl:$MTFL" --per-class 1500 --seed 0 --out "$OUT/warp"
  cp "$OUT/warp/smile_shape.json" "$OUT/warp-teeth/smile_shape.json"
fi
if has teeth; then  # real teeth the networks' smile shows between parted lips: no training, MTFL smiles
  "$KS" teeth-bank --dataset "mtfl:$MTFL" --limit 3000 --max-mouths 400 --seed 0 --out "$OUT/teeth"
fi
if has fill; then   # the mouth fill that paints teeth into warp-teeth's parted lips (resumes its run)
  "$KS" train-fill --mtfl "$MTFL" --genki "$GENKI" --out "$WORK/runs/mouthfill" --steps "$FILL_GREY_STEPS" --adv-weight 0.03
  "$KS" train-fill --mtfl "$MTFL" --genki "$GENKI" --out "$WORK/runs/mouthfill" --steps "$FILL_STEPS"
  "$KS" train-fill --mtfl "$MTFL" --genki "$GENKI" --out "$WORK/runs/mouthfill" --steps "$FILL_THIN_STEPS" --min-opening 0.02
fi
if has classifier; then
  [ -f "$WORK/runs/classifier/checkpoint.json" ] || \
    "$KS" train-classifier --data "$WORK/cache/train64" --val "$WORK/cache/test64" --out "$WORK/runs/classifier" --steps "$CLASSIFIER_STEPS" --seed 0
fi
if has complexgan; then
  "$KS" train --setup complexgan --data "$WORK/cache/train64" --out "$WORK/runs/complexgan-base" --steps "$COMPLEXGAN_BASE_STEPS" --resume --checkpoint-every 100 --seed 0 \
    --set n_critic=5 --set lambda_cls=1 --set lambda_mask=0.02
  last=$(stage complexgan complexgan-base complexgan-mid "$COMPLEXGAN_MID_STEPS" 0)
  last=$(stage complexgan "$last" complexgan-pooled "$COMPLEXGAN_POOLED_STEPS" 0 --set cls_blur=4)
  last=$(stage complexgan "$last" complexgan-delivered "$COMPLEXGAN_DELIVERED_STEPS" 2 --set cls_blur=4 --set judge_delivered=true)
  # The last stage pulls harder on the smile loss and is exported as the mean of its last 3 checkpoints.
  last=$(stage complexgan "$last" complexgan-delivered2 "$COMPLEXGAN_DELIVERED2_STEPS" 4 --set cls_blur=4 --set judge_delivered=true \
    --set lambda_cls_g=10 --checkpoint-every 250)
  rm -rf "$WORK/runs/complexgan"; cp -r "$WORK/runs/$last" "$WORK/runs/complexgan"
fi
if has shape; then
  # Shape x texture (--shape-edits: networks that move the photo's pixels and paint only the parted lips),
  # started from the image runs' weights (encoders and critics carry over), in the stages the shipped
  # models were trained in. A stage that was stopped early in the shipped run is given its steps here
  # with decay_start=1 (the learning rate had not started to decay when it stopped).
  # shape_stage SETUP FROM TO STEPS SEED [options]: FROM is a folder (the first stage starts from the
  # image-output models as exported: fp16, ComplexGAN's mean of 3 checkpoints)
  shape_stage() {
    local setup=$1 from=$2 to=$3 steps=$4 seed=$5; shift 5
    "$KS" train --setup "$setup" --data "$WORK/cache/train64" --out "$WORK/runs/$to" --steps "$steps" --resume \
      --checkpoint-every 100 --seed "$seed" --batch-size 16 --shape-edits --init-from "$from" "$@"
  }
  "$KS" export --run "$WORK/runs/splitgan" --out "$WORK/image-models/splitgan"
  "$KS" export --run "$WORK/runs/complexgan" --out "$WORK/image-models/complexgan" --average 3
  shape_stage splitgan "$WORK/image-models/splitgan" splitgan-shape-a 700 0 --set edit_margin=1.0 --set decay_start=1.0
  shape_stage splitgan "$WORK/runs/splitgan-shape-a" splitgan-shape 1000 1 --set edit_margin=1.0 --set cls_blur=4 \
    --set lambda_paint=5 --set lambda_edit_adv=1.0 --set lambda_adv=0.3
  # ... and a stage with a wider edit margin: its edits became visible smiles (GENKI judge part, strength 1: 10 -> 46 %)
  shape_stage splitgan "$WORK/runs/splitgan-shape" splitgan-shape-c 800 5 --set edit_margin=2.0 --set cls_blur=4 \
    --set lambda_paint=5 --set lambda_edit_adv=1.0 --set lambda_adv=0.3
  # ... and one trained fold-free up to strength 2 with a wider margin: the slider no longer stops at 0.75
  # (GENKI judge part: cap 0.75 -> 1.6; success at 1 / 1.5 / 2: 46 / 46 / 46 -> 40 / 53 / 57 %)
  shape_stage splitgan "$WORK/runs/splitgan-shape-c" splitgan-shape-d 800 7 --set edit_margin=3.0 --set cls_blur=4 \
    --set lambda_paint=5 --set lambda_edit_adv=1.0 --set lambda_adv=0.3 --set lambda_fold=10 --set fold_reach=2
  "$KS" latent --run "$WORK/runs/splitgan-shape-d" --data "$WORK/cache/train64" --method logreg
  shape_stage complexgan "$WORK/image-models/complexgan" complexgan-shape-a 1200 0 --set decay_start=1.0
  shape_stage complexgan "$WORK/runs/complexgan-shape-a" complexgan-shape-b 500 1 --set cls_blur=4 --set edit_margin=2.0 \
    --set lambda_cls_g=10 --set decay_start=1.0
  shape_stage complexgan "$WORK/runs/complexgan-shape-b" complexgan-shape-c 700 2 --set cls_blur=4 --set edit_margin=2.0 \
    --set lambda_cls_g=10 --set lambda_fold=10
  shape_stage complexgan "$WORK/runs/complexgan-shape-c" complexgan-shape 500 3 --set cls_blur=4 --set edit_margin=2.0 \
    --set lambda_cls_g=10 --set lambda_fold=10 --set fold_reach=2
  # ... and 800 more with a lighter cycle reconstruction (lambda_rec 10 -> 3): GENKI judge part, success at
  # 1 / 1.5 / 2: 29 / 50 / 50 -> 32 / 52 / 53 %, removal 87 -> 93 %, large-face sharpness 0.95 -> 0.99
  shape_stage complexgan "$WORK/runs/complexgan-shape" complexgan-shape-e 800 12 --set cls_blur=4 --set edit_margin=2.0 \
    --set lambda_cls_g=10 --set lambda_fold=10 --set fold_reach=2 --set lambda_rec=3 --batch-size 32
  # ... and 800 more whose unit edit moves the corners as MTFL's mean smile does (lambda_shape; the field had
  # made about half of it): GENKI judge part, success at 1 / 1.5 / 2: 32 / 53 / 54 -> 37 / 53 / 53 %
  shape_stage complexgan "$WORK/runs/complexgan-shape-e" complexgan-shape-f 800 12 --set cls_blur=4 --set edit_margin=2.0 \
    --set lambda_cls_g=10 --set lambda_fold=10 --set fold_reach=2 --set lambda_rec=3 --set lambda_shape=1000 --batch-size 32
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
if has judge; then
  # The face-level smile judge (GENKI-4K-dev "judge" part + MTFL); its eval-part figures go to judge.json.
  [ -f "$WORK/runs/judge/checkpoint.json" ] || \
    "$KS" train-judge --genki "$GENKI" --mtfl "$MTFL" --out "$WORK/runs/judge" --steps "$JUDGE_STEPS" --seed 0 --cache "$WORK/judge-cache"
fi
if has evaluate; then
  "$KS" evaluate --model "$WORK/runs/splitgan" --model "$WORK/runs/complexgan" \
    --classifier "$WORK/runs/classifier" --data "$WORK/cache/test64" --out "$WORK/evaluation"
  "$KS" evaluate --model "$WORK/runs/splitgan-original" \
    --classifier "$WORK/runs/classifier-original" --data "$WORK/cache/test64-original" --out "$WORK/evaluation-original"
fi
if has export; then
  for name in simplegan classifier; do
    "$KS" export --run "$WORK/runs/$name" --out "$OUT/$name"
  done
  # The shipped SplitGAN and ComplexGAN are the shape x texture runs (the image-output runs they start
  # from are exported only when the shape stage did not run).
  if [ -d "$WORK/runs/splitgan-shape-d" ]; then
    "$KS" export --run "$WORK/runs/splitgan-shape-d" --out "$OUT/splitgan"
    "$KS" export --run "$WORK/runs/complexgan-shape-f" --out "$OUT/complexgan"
  else
    "$KS" export --run "$WORK/runs/splitgan" --out "$OUT/splitgan"
    "$KS" export --run "$WORK/runs/complexgan" --out "$OUT/complexgan" --average 3
  fi
  "$KS" export --run "$WORK/runs/mouthfill" --out "$OUT/mouthfill"
  # The judge run is already an fp16 model folder: copy its files (the README in OUT/judge stays).
  if [ -f "$WORK/runs/judge/checkpoint.json" ]; then
    mkdir -p "$OUT/judge"; cp "$WORK/runs/judge/"{checkpoint.json,model.safetensors,judge.json} "$OUT/judge/"
  fi
fi
