#!/usr/bin/env bash
# Unpacks the arm64 packages that are not Multi-Arch (libyaml-cpp-dev and its library) into
# SYSROOT, for cmake/toolchains/aarch64-linux-gnu.cmake: installing them with apt would remove
# their amd64 copies, which the native build needs. Idempotent: does nothing when SYSROOT
# already holds them. Usage: scripts/aarch64-sysroot.sh SYSROOT
set -euo pipefail
sysroot=${1:?usage: $0 SYSROOT}
if [ -f "$sysroot/usr/lib/aarch64-linux-gnu/cmake/yaml-cpp/yaml-cpp-config.cmake" ]; then
  exit 0
fi
mkdir -p "$sysroot"
sysroot=$(cd "$sysroot" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# apt-get download writes into the current folder, as user _apt where it can: give it a
# folder it may write.
chmod 0777 "$tmp"
(cd "$tmp" && apt-get download -qq libyaml-cpp-dev:arm64 libyaml-cpp0.7:arm64)
for deb in "$tmp"/*.deb; do
  dpkg -x "$deb" "$sysroot"
done
echo "aarch64-sysroot: unpacked $(cd "$tmp" && ls *.deb | tr '\n' ' ')into $sysroot"
