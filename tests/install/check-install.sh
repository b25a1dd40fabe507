#!/usr/bin/env bash
# check-install.sh BUILD_DIR SOURCE_DIR: cmake --install into a temp prefix, then build a
# downstream project with find_package(s3dlio) and with pkg-config, and run both.
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d -t s3dlio-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in bin/s3dlio-mpi include/s3dlio/s3dlio.h; do
  [ -e "$tmp/prefix/$f" ] || { echo "not installed: $f" >&2; exit 1; }
done
mkdir -p "$tmp/data/sub" && echo x >"$tmp/data/a" && echo y >"$tmp/data/sub/b"
cflags=${CONSUMER_CFLAGS:-}
cmake -S "$src/tests/install" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_C_FLAGS="$cflags" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
LD_LIBRARY_PATH=$tmp/prefix/lib:$tmp/prefix/lib64:${LD_LIBRARY_PATH:-} "$tmp/consumer/consumer" "file://$tmp/data/" | tee "$tmp/out"
grep -q ": 2 objects" "$tmp/out"
pc=$(find "$tmp/prefix" -name s3dlio.pc | head -1)
[ -n "$pc" ] || { echo "s3dlio.pc not installed" >&2; exit 1; }
PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --exists s3dlio || { echo "pkg-config cannot use s3dlio.pc" >&2; exit 1; }
# shellcheck disable=SC2046
# shellcheck disable=SC2086  # cflags: a word list on purpose
${CC:-cc} $cflags -o "$tmp/pc-consumer" "$src/tests/install/consumer.c" $(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs s3dlio)
LD_LIBRARY_PATH=$tmp/prefix/lib:$tmp/prefix/lib64:${LD_LIBRARY_PATH:-} "$tmp/pc-consumer" "file://$tmp/data/" | grep -q ": 2 objects"
echo "1 passed, 0 failed"
