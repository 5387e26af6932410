#!/usr/bin/env bash
# Installs hetmap's build and test dependencies from Debian 12 packages. Idempotent.
# clang builds the sanitizer and fuzzing jobs (scripts/test-sanitizers.sh): libclang-rt-14-dev
# holds the ASan, UBSan, TSan and libFuzzer runtimes (clang only recommends it), llvm-14 the
# llvm-symbolizer that turns their reports' addresses into file:line, lld links them.
# --aarch64: also what cross-building for Arm boards needs (docs/boards.md): the aarch64
# compiler, qemu-user-static to run the result, and Debian's arm64 multiarch libraries
# (the Arm Compute Library 20.08 among them). yaml-cpp's arm64 package is not Multi-Arch:
# scripts/aarch64-sysroot.sh unpacks it beside the build instead.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build pkg-config git
  libyaml-cpp-dev libboost-graph-dev libtbb-dev libeigen3-dev libcli11-dev
  libspdlog-dev libfmt-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev
  libpagmo-dev
  libonnx-dev libprotobuf-dev
  openmpi-bin libopenmpi-dev
  python3 python3-matplotlib
  clang libclang-rt-14-dev llvm-14 lld
)

if [ "${1:-}" = "--aarch64" ]; then
  PKGS+=(
    g++-aarch64-linux-gnu qemu-user-static
    libarm-compute-dev:arm64 libfmt-dev:arm64 libspdlog-dev:arm64 libboost-dev:arm64
    libgtest-dev:arm64 libgmock-dev:arm64
  )
fi

# A name without an architecture means the machine's own (or an architecture-independent
# package): an arm64 copy installed beside it must not count.
native=$(dpkg --print-architecture)
installed() {
  case "$1" in
    *:*) dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q "^install ok installed$" ;;
    *) dpkg-query -W -f='${Status} ${Architecture}\n' "$1" 2>/dev/null |
         grep -Eq "^install ok installed ($native|all)$" ;;
  esac
}
missing=()
for p in "${PKGS[@]}"; do
  installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all dependencies present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if printf '%s\n' "${missing[@]}" | grep -q ':arm64$' && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
