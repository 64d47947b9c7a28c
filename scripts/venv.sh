#!/usr/bin/env bash
# Creates .venv and installs requirements-dev.txt (which pulls in
# requirements.txt) into it. make calls this only when a requirements file is
# newer than .venv/.installed, so an unchanged set costs nothing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
VENV=.venv
STAMP="$VENV/.installed"

die() { printf 'venv.sh: %s\n' "$*" >&2; exit 1; }
new_enough() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }

command -v "$PYTHON" >/dev/null ||
    die "$PYTHON not found: install Python >= 3.11 (Debian 12: sudo apt-get install python3 python3-venv)"
new_enough "$PYTHON" ||
    die "Python >= 3.11 is needed, but $PYTHON is $("$PYTHON" -V 2>&1); set PYTHON=/path/to/python3.11"

# Debian splits venv's pip bootstrap (ensurepip) into python3.X-venv.
if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
    pkg="python$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv"
    if [ "$(id -u)" -eq 0 ]; then
        echo "Installing $pkg with apt-get..."
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "$pkg" >/dev/null
    else
        die "Python's venv support is missing: run 'sudo apt-get install $pkg'"
    fi
fi

# A venv outlives the interpreter it was made from (a removed pyenv version,
# an upgraded distro, an interrupted creation): rebuild it rather than fail
# later with a confusing error.
if [ -e "$VENV" ] && ! { new_enough "$VENV/bin/python" && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; }; then
    echo "Rebuilding $VENV: its Python is missing, too old or has no pip."
    rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "Creating $VENV with $("$PYTHON" -V 2>&1)..."
    "$PYTHON" -m venv "$VENV"
fi

rm -f "$STAMP"
echo "Installing Python dependencies into $VENV..."
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
touch "$STAMP"
echo "Python dependencies installed in ${SECONDS} s."
