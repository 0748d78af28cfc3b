#!/usr/bin/env bash
# Installs every build, test and demo dependency from Debian 12 packages.
# Safe to run again; needs root (or sudo).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libpaho-mqttpp-dev libpaho-mqtt-dev
  mosquitto mosquitto-clients
  libsqlite3-dev sqlite3
  libpq-dev postgresql
  libboost1.81-dev libssl-dev openssl curl
  libyaml-cpp-dev
  nlohmann-json3-dev libfmt-dev
  libgtest-dev libgmock-dev googletest
  libbenchmark-dev
  clang-format
  tzdata
  chromium fonts-noto-cjk nodejs
)
# npm: Debian's package, unless the installed Node.js brings its own (NodeSource's provides npm).
command -v npm > /dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi

# The console's browser test (tests/console): playwright-core, pinned in its package-lock.json.
# It drives Debian's chromium; no browser is downloaded.
npm ci --prefix "$(dirname "$0")/../tests/console" --no-audit --no-fund

# The system mosquitto service is not used: tests and the demo start their own broker on a free
# loopback port and stop it by PID.
# Nor is the system PostgreSQL cluster (the `postgresql` package may start one): the township's
# PostgreSQL tests initdb and start their own server on a free loopback port, as the `postgres`
# user when run as root, and stop it by PID (tests/support/postgres.hpp).
