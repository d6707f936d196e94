#!/usr/bin/env bash
# Writes the binary formats' seed corpora (fuzz/corpus/<family>/) from files OpenANE itself
# writes for a micro model, so that the fuzzers start from valid inputs past every magic
# number and checksum:  fuzz/make-seeds.sh [ANE]   (default build/src/tools/ane)
# The hand-written MIL programs in fuzz/corpus/mil/ are kept; the trainer's kernels join them.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
ane=${1:-$root/build/src/tools/ane}
corpus=$root/fuzz/corpus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

seed() {  # seed FAMILY NAME FILE
  mkdir -p "$corpus/$1"
  cp "$3" "$corpus/$1/$2"
}

# A model small enough that its files stay a few KB: dim 8, one layer, 2 heads, vocab 16.
cat > "$work/micro.json" <<'JSON'
{"name": "micro", "dim": 8, "hidden_dim": 16, "n_layers": 1, "n_heads": 2, "n_kv_heads": 2,
 "head_dim": 4, "vocab_size": 16, "seq_len": 4}
JSON
seed model micro.json "$work/micro.json"
"$ane" info > /dev/null  # fails early, with its own message, if the binary is missing

# Token shards: raw uint16, and llm.c's 1024-byte header (magic, version 1, token count).
python3 - "$work" <<'PY'
import struct, sys
tokens = [(7 * i) % 16 for i in range(64)]
raw = struct.pack(f"<{len(tokens)}H", *tokens)
open(f"{sys.argv[1]}/tokens.bin", "wb").write(raw)
header = struct.pack("<3i", 20240520, 1, len(tokens)) + bytes(1024 - 12)
open(f"{sys.argv[1]}/tokens_llmc.bin", "wb").write(header + raw)
# A llama2.c tokenizer: max_token_length, then per token its score, byte length and bytes.
pieces = [b"<unk>", b"<s>", b"</s>"] + [bytes([c]) for c in b"abcdefgh"] + [b"ab", b"cd", b"abcd", b" e", b"\xe2\x96\x81"]
out = struct.pack("<I", max(len(p) for p in pieces))
for i, p in enumerate(pieces):
    out += struct.pack("<fi", -float(i), len(p)) + p
open(f"{sys.argv[1]}/tokenizer.bin", "wb").write(out)
PY
# A BPE vocabulary with byte fallback, trained by `ane tokenizer` on this repository's README
# (the text fuzzer encodes with it), and text to encode: English, UTF-8 of several widths.
grep -v '^\s*$' "$root/README.md" > "$work/corpus.txt"
"$ane" tokenizer train --vocab 512 "$work/corpus.txt" -o "$work/bpe512.bin" > /dev/null
seed tokenizer bpe512.bin "$work/bpe512.bin"
head -c 2000 "$work/corpus.txt" > "$work/english.txt"
seed text english.txt "$work/english.txt"
printf 'na\xc3\xafve caf\xc3\xa9 \xe2\x86\x92 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x99\x82\n\ttabs  and\x00NUL' > "$work/utf8.txt"
seed text utf8.txt "$work/utf8.txt"
seed token raw.bin "$work/tokens.bin"
seed token llmc.bin "$work/tokens_llmc.bin"
seed tokenizer tokenizer.bin "$work/tokenizer.bin"

# A training run's files: OANECKPT and BLZT checkpoints and a metrics log.
"$ane" train --config "$work/micro.json" --data "$work/tokens.bin" --val-data "$work/tokens.bin" --steps 2 \
  --eval-every 1 --eval-windows 1 --threads 1 --peak-gflops 1 --ckpt "$work/micro.ckpt" --blzt "$work/micro.blzt" \
  --metrics "$work/metrics.jsonl" > /dev/null
seed checkpoint micro.ckpt "$work/micro.ckpt"
seed blzt micro.blzt "$work/micro.blzt"
seed metrics metrics.jsonl "$work/metrics.jsonl"

# The same weights as llama2.c models, both versions OpenANE writes.
for v in 0 1; do
  "$ane" export --ckpt "$work/micro.ckpt" -o "$work/model_v$v.bin" --version "$v" > /dev/null
  seed llama2 "v$v.bin" "$work/model_v$v.bin"
done

# MIL weight blobs, as the kernel generator writes them, and an .npy array.
"$ane" kernels --config "$work/micro.json" -o "$work/kernels" > /dev/null
for blob in "$work"/kernels/weights/*.bin; do seed weight "$(basename "$blob")" "$blob"; done
for mil in "$work"/kernels/*.mil; do seed mil "kernel_$(basename "$mil")" "$mil"; done
seed npy rmsnorm_x.npy "$root/examples/mil/rmsnorm_x.npy"
