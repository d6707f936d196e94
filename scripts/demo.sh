#!/usr/bin/env bash
# The main job of `make run`: trains a small llama2-shaped model (configs/demo.json) from
# scratch on the fortunes corpus for one to two minutes on two cores, with validation and
# generated samples along the way, then draws the loss curves, exports the model for
# llama2.c's run.c and generates from it.
#   scripts/demo.sh [OUTDIR]      (default demo/)
# Environment: ANE (the ane binary, default build/src/tools/ane), STEPS (default 2000),
# THREADS (default: the ane default, physical cores), PROMPT (the generation prompt).
# The data in OUTDIR is reused; training always starts afresh.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-demo}
export ANE=${ANE:-$root/build/src/tools/ane}
ane=$ANE
steps=${STEPS:-2000}
prompt=${PROMPT:-A man}
threads=()
[ -n "${THREADS:-}" ] && threads=(--threads "$THREADS")
start=$(date +%s)

step() { printf '\n== %s\n' "$*"; }

step "data: fortunes corpus, 512-token BPE tokenizer, train/validation shards"
"$root/scripts/make-demo-data.sh" "$out"

step "train: configs/demo.json from scratch, $steps steps"
# A fresh run each time: the previous checkpoints would otherwise stay beside the new ones.
rm -f "$out"/demo.ckpt "$out"/demo.ckpt.* "$out"/metrics.jsonl
"$ane" train --config "$root/configs/demo.json" --data "$out/train.bin" --val-data "$out/val.bin" \
  --steps "$steps" --lr 2e-3 --warmup 100 --eval-every 200 --eval-windows 32 "${threads[@]}" \
  --tokenizer "$out/tokenizer.bin" --sample-every 500 --sample-tokens 48 \
  --metrics "$out/metrics.jsonl" --ckpt "$out/demo.ckpt"

step "plot: loss and learning rate"
"$ane" plot "$out/metrics.jsonl" -o "$out/loss.png" --lr --title "configs/demo.json on the fortunes corpus"

step "export: llama2.c model file"
"$ane" export --ckpt "$out/demo.ckpt" -o "$out/model.bin"

step "generate: '$prompt' continued by the trained model"
"$ane" generate --model "$out/model.bin" --tokenizer "$out/tokenizer.bin" --prompt "$prompt" \
  --temperature 0.8 --steps 128 --seed 42 "${threads[@]}"

printf '\ndone in %ds.\n' $(($(date +%s) - start))
printf '  checkpoint  %s (best validation loss: %s.best)\n' "$out/demo.ckpt" "$out/demo.ckpt"
printf '  loss plot   %s\n' "$out/loss.png"
printf '  model       %s (llama2.c format; with %s for run.c)\n' "$out/model.bin" "$out/tokenizer.bin"
printf '  metrics     %s\n' "$out/metrics.jsonl"
