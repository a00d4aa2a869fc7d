#!/usr/bin/env bash
# The Python virtual environment the gRPC suite and the attack script run in (grpcio, h2):
# .build/pyvenv, (re)installed when Tests/GRPCPython/requirements.txt changes. Prints its python.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$PWD/.build/pyvenv
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv" >&2; fi
if ! cmp -s Tests/GRPCPython/requirements.txt "$venv/requirements.txt"; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r Tests/GRPCPython/requirements.txt >&2
  cp Tests/GRPCPython/requirements.txt "$venv/requirements.txt"
fi
echo "$venv/bin/python"
