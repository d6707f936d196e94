#!/usr/bin/env bash
# Fails unless libane_bridge.so exports exactly the functions declared in ane_bridge.h:
# no missing one, and nothing else (no C++ symbols of the static layers, no libstdc++).
# usage: check_exports.sh NM LIBRARY HEADER
set -euo pipefail
nm_tool=$1 lib=$2 header=$3
expected=$(grep -oE '\bane_bridge_[a-z0-9_]+\(' "$header" | tr -d '(' | sort -u)
# Defined dynamic symbols, without version suffixes; the version node itself (an absolute
# symbol named after the version, e.g. ANE_BRIDGE_0) is not a function and is skipped.
actual=$("$nm_tool" -D --defined-only "$lib" | awk '$2 != "A" {print $3}' | sed 's/@.*//' | sort -u)
missing=$(comm -23 <(echo "$expected") <(echo "$actual"))
extra=$(comm -13 <(echo "$expected") <(echo "$actual"))
status=0
if [ -n "$missing" ]; then echo "declared in $header but not exported:"; echo "$missing"; status=1; fi
if [ -n "$extra" ]; then echo "exported but not part of the ABI:"; echo "$extra"; status=1; fi
if [ $status -eq 0 ]; then echo "exports OK: $(echo "$expected" | wc -l) functions"; fi
exit $status
