#!/usr/bin/env bash
# The gRPC listener against a real gRPC stack from another language: grpcio (Python) in a
# virtual environment under .build/, stubs generated from Protos/, a real convened.
# Usage: scripts/grpc-python-tests.sh [unittest arguments, e.g. test_interop]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=$(swift build --show-bin-path)
python=$(scripts/python-venv.sh)
venv=$(dirname "$(dirname "$python")")
gen=$root/.build/pygen
rm -rf "$gen" && mkdir -p "$gen"
# Convene's own protos keep their paths. gRPC's interop protos are generated under
# convene_interop/ so that their Python package does not shadow grpcio's `grpc`.
"$venv/bin/python" -m grpc_tools.protoc -I Protos --python_out="$gen" --grpc_python_out="$gen" \
  $(cd Protos && find convene -name '*.proto' | sort)
mkdir -p "$gen/src/convene_interop/grpc/testing"
for file in Protos/grpc/testing/*.proto; do
  sed 's#import "grpc/testing/#import "convene_interop/grpc/testing/#' "$file" \
    > "$gen/src/convene_interop/grpc/testing/$(basename "$file")"
done
"$venv/bin/python" -m grpc_tools.protoc -I "$gen/src" --python_out="$gen" --grpc_python_out="$gen" \
  "$gen"/src/convene_interop/grpc/testing/*.proto
cd Tests/GRPCPython
CONVENED="$bin/convened" PYTHONPATH="$gen:$PWD:$root/scripts" "$venv/bin/python" -m unittest ${@:-discover -p 'test_*.py'} -v
