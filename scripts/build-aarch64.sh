#!/usr/bin/env bash
# Cross-builds hetmap for 64-bit Arm boards with the Arm Compute Library backend, on Debian 12
# x86-64 (docs/boards.md), and packs what a board needs into BUILD_DIR/hetmap-aarch64.tar.gz:
#   bin/hetmap        a launcher that finds lib/ (no install step, no root on the board)
#   libexec/hetmap    the aarch64 binary
#   lib/              the shared libraries it needs beyond the C library (ACL 20.08,
#                     yaml-cpp, fmt, spdlog, libstdc++ of GCC 12)
#   models/           the shipped models
# Usage: scripts/build-aarch64.sh [BUILD_DIR]   (default build-aarch64)
# HETMAP_TESTS=ON also builds the test suites (scripts/test-aarch64.sh runs them under qemu).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-aarch64}
bash scripts/install-deps.sh --aarch64
bash scripts/aarch64-sysroot.sh "$build/sysroot"
sysroot=$(cd "$build/sysroot" && pwd)
cmake -S . -B "$build" -G Ninja \
  -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
  -DHETMAP_AARCH64_SYSROOT="$sysroot" -DHETMAP_ACL=ON -DHETMAP_BENCH=OFF \
  -DHETMAP_TESTS="${HETMAP_TESTS:-OFF}"
cmake --build "$build" -j2 --target hetmap

# The package: every shared library the binary needs, found recursively, except the C
# library's own (the board's glibc must be 2.36 or newer: Debian 12, Ubuntu 23.04, or later).
pkg="$build/package/hetmap-aarch64"
rm -rf "$build/package" && mkdir -p "$pkg/bin" "$pkg/libexec" "$pkg/lib"
cp "$build/hetmap" "$pkg/libexec/hetmap"
cp -r models "$pkg/models"
find_lib() {
  local d
  for d in "$sysroot/usr/lib/aarch64-linux-gnu" /usr/lib/aarch64-linux-gnu /lib/aarch64-linux-gnu; do
    if [ -e "$d/$1" ]; then echo "$d/$1"; return; fi
  done
  echo "build-aarch64: $1 not found for the package" >&2
  exit 1
}
todo=("$pkg/libexec/hetmap")
while [ ${#todo[@]} -gt 0 ]; do
  file=${todo[0]}
  todo=("${todo[@]:1}")
  for lib in $(aarch64-linux-gnu-readelf -d "$file" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
    case "$lib" in
      libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux-aarch64.so.*) continue ;;
    esac
    [ -e "$pkg/lib/$lib" ] && continue
    cp -L "$(find_lib "$lib")" "$pkg/lib/$lib"
    todo+=("$pkg/lib/$lib")
  done
done
cat > "$pkg/bin/hetmap" <<'LAUNCHER'
#!/bin/sh
# Runs the packaged aarch64 hetmap with the libraries packed beside it.
here=$(cd "$(dirname "$0")/.." && pwd)
LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/libexec/hetmap" "$@"
LAUNCHER
chmod +x "$pkg/bin/hetmap"
tar -C "$build/package" -czf "$build/hetmap-aarch64.tar.gz" hetmap-aarch64
echo "build-aarch64: $build/hetmap-aarch64.tar.gz ($(du -h "$build/hetmap-aarch64.tar.gz" | cut -f1)): $(ls "$pkg/lib" | tr '\n' ' ')"
