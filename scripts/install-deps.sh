#!/usr/bin/env bash
# Installs hetmap's build and test dependencies from Debian 12 packages. Idempotent.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build pkg-config git
  libyaml-cpp-dev libboost-graph-dev libtbb-dev libeigen3-dev libcli11-dev
  libspdlog-dev libfmt-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev
  libpagmo-dev
  libonnx-dev libprotobuf-dev
  openmpi-bin libopenmpi-dev
  python3 python3-matplotlib
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all dependencies present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
