#!/usr/bin/env bash
# Installs the official Python execution specification (PyPI `ethereum-execution`, pinned) into
# a virtual environment, for lockstep's `t8n` executor: `DIR/bin/ethereum-spec-evm`.
# Usage: scripts/install-eels.sh [DIR]   (default: target/eels-venv beside this script's repo)
# Idempotent: does nothing when DIR already holds the pinned version. Touches no system package.
set -euo pipefail
version=2.20.0
cd "$(dirname "$0")/.."
dir=${1:-target/eels-venv}
python=${PYTHON:-python3}
if [ -x "$dir/bin/ethereum-spec-evm" ] &&
  "$dir/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('ethereum-execution') != '$version')" 2>/dev/null; then
  echo "install-eels: ethereum-execution $version already in $dir"
  exit 0
fi
"$python" -m venv "$dir"
"$dir/bin/python" -m pip install --quiet --disable-pip-version-check "ethereum-execution==$version"
"$dir/bin/ethereum-spec-evm" --help >/dev/null
echo "install-eels: ethereum-execution $version installed in $dir ($dir/bin/ethereum-spec-evm)"
