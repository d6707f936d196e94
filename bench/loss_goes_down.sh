#!/usr/bin/env bash
# The "loss goes down" benchmark: 300 steps of Stories15M-shaped training (dim 288, 6 layers,
# 6 heads, hidden 768, seq 256) from scratch on real English text (the main job's fortunes
# data, with its 512-token vocabulary), and the validation loss before and after.
#   bench/loss_goes_down.sh [DATADIR]   (default demo/, made by scripts/make-demo-data.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$root/demo}
ane=${ANE:-$root/build/src/tools/ane}
[ -s "$data/train.bin" ] || "$root/scripts/make-demo-data.sh" "$data"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/config.json" <<'JSON'
{"name": "stories15M-512", "dim": 288, "hidden_dim": 768, "n_layers": 6, "n_heads": 6, "n_kv_heads": 6,
 "head_dim": 48, "vocab_size": 512, "seq_len": 256}
JSON
"$ane" train --config "$work/config.json" --data "$data/train.bin" --val-data "$data/val.bin" --steps 300 \
  --lr 1e-3 --warmup 30 --eval-every 100 --eval-windows 32 --ckpt "$work/run.ckpt" --metrics "$work/m.jsonl"
python3 - "$work/m.jsonl" <<'PY'
import json, sys
evals = [r for r in map(json.loads, open(sys.argv[1])) if r["type"] == "eval"]
first, last = evals[0]["val_loss"], evals[-1]["val_loss"]
print(f"validation loss {first:.3f} -> {last:.3f}: down {first - last:.2f} nats (bar: 2)")
sys.exit(0 if first - last >= 2 else 1)
PY
