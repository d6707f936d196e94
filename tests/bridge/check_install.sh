#!/usr/bin/env bash
# Installs the build into a temporary prefix, then compiles examples/c/run_kernel.c against
# the INSTALLED header, library and ane_bridge.pc (pkg-config) and runs it.
# usage: check_install.sh CMAKE BUILD_DIR EXAMPLE_C [EXTRA_CFLAGS...]
set -euo pipefail
cmake_tool=$1 build=$2 example=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$cmake_tool" --install "$build" --prefix "$tmp/prefix" > "$tmp/install.log"
pc=$(find "$tmp/prefix" -name ane_bridge.pc)
[ -n "$pc" ] || { echo "ane_bridge.pc was not installed"; cat "$tmp/install.log"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
cflags=$(pkg-config --cflags ane_bridge)
libs=$(pkg-config --libs ane_bridge)
libdir=$(pkg-config --variable=libdir ane_bridge)
echo "pkg-config: $cflags $libs"
[ -f "$(pkg-config --variable=includedir ane_bridge)/ane_bridge.h" ] || { echo "header not installed"; exit 1; }
ls "$libdir"/libane_bridge.so* > /dev/null
${CC:-cc} -std=c11 -Wall -Wextra -Werror "$@" "$example" $cflags $libs -lm -Wl,-rpath,"$libdir" -o "$tmp/run_kernel"
"$tmp/run_kernel"
