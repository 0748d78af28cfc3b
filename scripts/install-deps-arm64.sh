#!/usr/bin/env bash
# Installs what the arm64 (aarch64) cross-build of the hub side needs, from Debian 12 packages:
# the cross compiler, qemu-user to run the arm64 tests, and the :arm64 -dev packages of the hub's
# libraries (docs/packaging.md). Safe to run again; needs root (or sudo).
#
# Installing :arm64 -dev packages next to the amd64 ones can make apt REMOVE amd64 packages when a
# -dev package is not Multi-Arch: same (Debian 12's libyaml-cpp-dev is one). This script therefore
# simulates the install first and refuses to go on if apt would remove anything.
# libyaml-cpp-dev:arm64 is not installed: its files are unpacked (dpkg-deb -x, no dpkg database
# entry) into an overlay folder that cmake/toolchains/aarch64-linux-gnu.cmake searches.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Where the toolchain file looks for the unpacked yaml-cpp (keep in sync with the toolchain file).
OVERLAY="${HOMESAFE_ARM64_OVERLAY:-/opt/homesafe-cross/arm64}"

PACKAGES=(
  crossbuild-essential-arm64 qemu-user
  libpaho-mqttpp-dev:arm64 libpaho-mqtt-dev:arm64
  libsqlite3-dev:arm64
  libboost1.81-dev:arm64
  libssl-dev:arm64
  libfmt-dev:arm64
  libgtest-dev:arm64 libgmock-dev:arm64
  libyaml-cpp0.7:arm64
)

export DEBIAN_FRONTEND=noninteractive

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "install-deps-arm64: adding the arm64 architecture (dpkg --add-architecture arm64)"
  $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -q
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -q
  echo "install-deps-arm64: simulating the install of ${missing[*]}"
  simulation="$(apt-get -s install -y --no-install-recommends "${missing[@]}" 2>&1)" || {
    echo "$simulation" >&2
    echo "install-deps-arm64: apt cannot install these packages (simulation failed); nothing installed" >&2
    exit 1
  }
  removals="$(grep '^Remv ' <<<"$simulation" || true)"
  if [ -n "$removals" ]; then
    echo "$removals" >&2
    echo "install-deps-arm64: REFUSING to install: apt would remove the packages above" \
         "(a Multi-Arch conflict between amd64 and arm64 packages). Nothing was installed." >&2
    exit 1
  fi
  echo "install-deps-arm64: installing ${missing[*]}"
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps-arm64: all packages present"
fi

# yaml-cpp: libyaml-cpp-dev is not co-installable for two architectures. Unpack the arm64 -dev and
# runtime packages into the overlay (headers, CMake config, the .so to link against); at run time
# the arm64 binaries use the installed libyaml-cpp0.7:arm64.
yaml_version="$(dpkg-query -W -f='${Version}' libyaml-cpp0.7:arm64)"
stamp="$OVERLAY/.yaml-cpp-$yaml_version"
if [ ! -e "$stamp" ]; then
  echo "install-deps-arm64: unpacking libyaml-cpp-dev:arm64 $yaml_version into $OVERLAY"
  work="$(mktemp -d)"
  chmod 755 "$work"  # apt-get download runs as _apt
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get download -q "libyaml-cpp-dev:arm64=$yaml_version" \
                                     "libyaml-cpp0.7:arm64=$yaml_version")
  $SUDO rm -rf "$OVERLAY"
  $SUDO mkdir -p "$OVERLAY"
  for deb in "$work"/*.deb; do $SUDO dpkg-deb -x "$deb" "$OVERLAY"; done
  $SUDO touch "$stamp"
fi

echo "install-deps-arm64: ready (cmake --toolchain cmake/toolchains/aarch64-linux-gnu.cmake)"
