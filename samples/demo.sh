#!/usr/bin/env bash
# The main job end to end on the shipped samples: inspect, plan, resample, weights, evaluate,
# advise, adjust, and the image work (file checks, mask pixels, augmentation, similarity-aware undersampling),
# with HTML reports to look at (demo-out/*.html).
# Outputs go to demo-out/ (the samples themselves are never modified).
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v rebalance >/dev/null 2>&1; then rb=(rebalance); else rb=(python3 -m rebalance); fi
mkdir -p demo-out
rm -rf demo-out/street-aug demo-out/street-cluster-aug  # augment never overwrites: a rerun starts afresh
# the image feature cache too: nothing of the demo lands outside demo-out/
export REBALANCE_CACHE_DIR="$PWD/demo-out/cache"
set -x
"${rb[@]}" inspect samples/longtail.csv --top 5
"${rb[@]}" resample samples/longtail.csv --only-split train --target sqrt --dry-run --top 3
"${rb[@]}" resample samples/longtail.csv -o demo-out/longtail-balanced.csv --only-split train \
  --target sqrt --min-per-class 5 --provenance --plan-out demo-out/plan.json
"${rb[@]}" inspect demo-out/longtail-balanced.csv --no-split --top 3 --json > demo-out/after.json
"${rb[@]}" resample samples/fraud.csv -o demo-out/fraud-smote-tomek.parquet --method smote-tomek \
  --features 'v*' --features amount --provenance
"${rb[@]}" weights samples/fraud.csv --scheme effective --beta 0.999 --format torch -o demo-out/fraud-weights.json
"${rb[@]}" weights samples/longtail.csv --from-split train --missing-weight 0 --format csv -o demo-out/longtail-weights.csv
"${rb[@]}" inspect samples/street.csv --check-files --mask-col mask --mask-classes samples/street-classes.json --no-split \
  --html demo-out/street-report.html
"${rb[@]}" inspect samples/longtail.csv --html demo-out/longtail-report.html --json > demo-out/longtail.json
"${rb[@]}" weights samples/street.csv --mask-col mask --scheme median --format torch -o demo-out/street-weights.json
"${rb[@]}" resample samples/street.csv -o demo-out/street-augmented.csv --only-split train --target max \
  --method augment --image-dir demo-out/street-aug --mask-col mask --augment rotate=10,flip,zoom=0.1,color=0.2 \
  --preview demo-out/street-augment-preview.html
"${rb[@]}" resample samples/street.csv -o demo-out/street-cluster.csv --only-split train --method cluster --target 8 \
  --provenance --preview demo-out/street-cluster-preview.html
# outputs feed the next command: the cluster output's paths were rewritten for demo-out/
"${rb[@]}" resample demo-out/street-cluster.csv -o demo-out/street-cluster-augmented.csv --only-split train \
  --method augment --target max --image-dir demo-out/street-cluster-aug --provenance
"${rb[@]}" inspect demo-out/street-cluster-augmented.csv --check-files --fail-on-bad-files --no-split
# image datasets as they lie on disk: class folders, COCO (written back as COCO), YOLO (an image list)
"${rb[@]}" inspect samples/shapes --top 3
"${rb[@]}" resample samples/shapes-coco/annotations/instances_train.json --target repeat-factor:0.3 \
  -o demo-out/shapes-rfs.json --plan-out demo-out/shapes-rfs-plan.json
"${rb[@]}" inspect demo-out/shapes-rfs.json --check-files --fail-on-bad-files --no-split --top 3
"${rb[@]}" resample samples/shapes-yolo --only-split train --target repeat-factor:0.3 -o demo-out/shapes-train.txt
"${rb[@]}" evaluate samples/fraud-predictions.csv --positive fraud --at-specificity 0.95 \
  --html demo-out/report.html -o demo-out/report.json --fail-under 'recall[fraud]=0.5'
"${rb[@]}" advise samples/fraud.csv --remedies balanced-weights,random-under,smote --folds 5 --repeats 1 \
  --html demo-out/advice.html -o demo-out/advice.json
"${rb[@]}" adjust samples/fraud-predictions.csv --train-manifest samples/fraud.csv --target-priors uniform \
  -o demo-out/fraud-predictions-adjusted.csv
