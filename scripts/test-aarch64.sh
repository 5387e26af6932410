#!/usr/bin/env bash
# The aarch64 half of the test suite (docs/acl.md): cross-builds hetmap and the ACL backend's
# tests (scripts/build-aarch64.sh with HETMAP_TESTS=ON) and runs them under
# qemu-aarch64-static. Emulated timings are meaningless: these tests check numbers and files,
# never speed. Usage: scripts/test-aarch64.sh [BUILD_DIR]   (default build-aarch64)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-aarch64}
HETMAP_TESTS=ON bash scripts/build-aarch64.sh "$build"
cmake --build "$build" -j2 --target test_acl_backend
# Bounded: the suite takes about a minute under qemu on 2 cores.
ctest --test-dir "$build" --output-on-failure -j2 -R '^AclBackend\.' --timeout 600
