#!/usr/bin/env bash
# Builds the demo data set for `make run` in OUTDIR: English text from Debian's fortunes
# package as one corpus (fortunes in a fixed shuffled order, each followed by a "%" line), a
# BPE tokenizer trained on it, and train/validation token shards (the last 5% of fortunes).
#   scripts/make-demo-data.sh OUTDIR
# Environment: ANE (the ane binary, default build/src/tools/ane), VOCAB (default 512),
# FORTUNES_DIR (default /usr/share/games/fortunes). Steps whose outputs exist are skipped;
# delete a file to redo its step and the ones after it.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
out=$1
root=$(cd "$(dirname "$0")/.." && pwd)
ane=${ANE:-$root/build/src/tools/ane}
vocab=${VOCAB:-512}
fortunes=${FORTUNES_DIR:-/usr/share/games/fortunes}
if [ ! -x "$ane" ]; then
  echo "$0: no ane binary at $ane (build it with \`make build\`, or set ANE)" >&2
  exit 1
fi
mkdir -p "$out"
corpus=$out/corpus.txt tokenizer=$out/tokenizer.bin train=$out/train.bin val=$out/val.bin

if [ -s "$corpus" ]; then
  echo "corpus: $corpus exists, kept"
else
  # The plain-text fortune files; ascii-art holds pictures rather than English.
  files=()
  for f in "$fortunes"/*; do
    case $f in *.dat | *.u8 | */ascii-art) continue ;; esac
    [ -f "$f" ] && [ ! -L "$f" ] && files+=("$f")
  done
  if [ ${#files[@]} -eq 0 ]; then
    echo "$0: no fortune files in $fortunes (install the Debian package fortunes)" >&2
    exit 1
  fi
  # Overstrikes ("X<backspace>Y" prints Y) resolved, other control characters and trailing
  # blanks dropped; the order is shuffled with a fixed seed so that validation is a sample.
  perl -e '
    my @docs;
    for my $file (@ARGV) {
      open(my $fh, "<", $file) or die "$file: $!\n";
      my $text = do { local $/; <$fh> };
      for my $doc (split /^%[ \t]*\n/m, $text) {
        1 while $doc =~ s/[^\x08\n]\x08//;
        $doc =~ s/[\x00-\x08\x0B-\x1F\x7F]//g;
        $doc =~ s/[ \t]+$//mg;
        $doc =~ s/^\s+|\s+$//g;
        push @docs, $doc if length $doc;
      }
    }
    srand(7);
    for (my $i = $#docs; $i > 0; --$i) {
      my $j = int(rand($i + 1));
      @docs[$i, $j] = @docs[$j, $i];
    }
    print map { "$_\n%\n" } @docs;
  ' "${files[@]}" > "$corpus.tmp"
  mv "$corpus.tmp" "$corpus"
  echo "corpus: $corpus, $(wc -c < "$corpus") bytes, $(grep -c '^%$' "$corpus") fortunes from ${#files[@]} files"
fi

if [ -s "$tokenizer" ]; then
  echo "tokenizer: $tokenizer exists, kept"
else
  # Trained without the "%" lines, which would otherwise take a vocabulary slot.
  text=$out/corpus-text.tmp
  trap 'rm -f "$text"' EXIT
  grep -v '^%$' "$corpus" > "$text"
  "$ane" tokenizer train --vocab "$vocab" "$text" -o "$tokenizer"
  rm -f "$text"
fi

if [ -s "$train" ] && [ -s "$val" ]; then
  echo "shards: $train and $val exist, kept"
else
  "$ane" tokenize --tokenizer "$tokenizer" "$corpus" --doc-separator '\n%\n' --val-fraction 0.05 \
    -o "$train" --val-out "$val"
fi

"$ane" inspect "$train"
"$ane" inspect "$val"
