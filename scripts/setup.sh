#!/usr/bin/env bash
# Installs the system packages kuzet needs on Debian/Ubuntu (root or sudo).
#   scripts/setup.sh          build and run: pkg-config, libsoapysdr-dev, libhdf5-dev, g++
#   scripts/setup.sh --test   also what the tests drive: h5py/numpy, hdf5-tools,
#                             soapysdr-tools, tmux, mosquitto and openssl (federation tests:
#                             a broker and a test CA), and a Python venv (/opt/kuzet-py) with
#                             the `sigmf` and `itusm2117` packages for the interop tests
# Installs only what is missing, so a second run is quick.
set -euo pipefail
pkgs=(pkg-config libsoapysdr-dev libhdf5-dev g++)
if [ "${1:-}" = "--test" ]; then
  pkgs+=(python3 python3-h5py python3-numpy python3-venv hdf5-tools soapysdr-tools tmux mosquitto openssl)
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
if [ "${1:-}" = "--test" ]; then
  venv=/opt/kuzet-py
  if ! "$venv/bin/python" -c "import sigmf, itusm2117, h5py" >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo /usr/bin/python3 -m venv --system-site-packages "$venv"
    $sudo "$venv/bin/pip" install -q sigmf==1.14.0 itusm2117==0.0.1
  fi
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust (https://rustup.rs) and run again" >&2
  exit 1
fi
