#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a working `standin` on the PATH:
# Debian packages, pinned and sha256-verified models from npm, a Release build, install.
# Run as root (or with sudo). PREFIX defaults to /usr/local.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: run as root (sudo scripts/setup.sh): it installs Debian packages" >&2
  exit 1
fi

packages=(
  build-essential cmake pkg-config
  libopencv-dev libdlib-dev libdlib-data
  nlohmann-json3-dev libcli11-dev libfmt-dev libssl-dev libexiv2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  ffmpeg mkvtoolnix python3 python3-numpy python3-onnx python3-matplotlib
)
# npm fetches the pinned model packages; a machine that already has Node.js and npm from
# elsewhere keeps them (Debian's npm package would conflict with that Node.js).
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

echo "== models (npm, pinned, sha256-verified) -> $PREFIX/share/standin/models"
/usr/bin/python3 models/fetch.py "$PREFIX/share/standin/models"

echo "== build (Release)"
cmake --preset release -DCMAKE_INSTALL_PREFIX="$PREFIX" >/dev/null
cmake --build --preset release
cmake --install build/release >/dev/null
echo "== installed: $(command -v standin) ($("$PREFIX/bin/standin" --version))"
