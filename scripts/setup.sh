#!/usr/bin/env bash
# Installs the system packages kuzet needs on Debian/Ubuntu (root or sudo).
#   scripts/setup.sh          build and run: pkg-config, libsoapysdr-dev, libhdf5-dev, g++
#   scripts/setup.sh --test   also what the tests drive: h5py/numpy, hdf5-tools,
#                             soapysdr-tools, tmux
# Installs only what is missing, so a second run is quick.
set -euo pipefail
pkgs=(pkg-config libsoapysdr-dev libhdf5-dev g++)
if [ "${1:-}" = "--test" ]; then
  pkgs+=(python3 python3-h5py python3-numpy python3-venv hdf5-tools soapysdr-tools tmux)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust (https://rustup.rs) and run again" >&2
  exit 1
fi
