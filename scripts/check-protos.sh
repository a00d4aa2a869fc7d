#!/usr/bin/env bash
# Fails, naming the files, when the committed generated code differs from what `make protos`
# writes now (a proto, a plugin or a generator changed without `make protos`).
# usage: scripts/check-protos.sh BIN   (BIN: where protoc-gen-swift and protoc-gen-convene are)
set -euo pipefail
cd "$(dirname "$0")/.."
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
scripts/generate-protos.sh "$fresh" "$1"
status=0
for dir in $(cd "$fresh" && find . -type d \( -name Generated -o -name gen \) -prune -print | sort); do
  diff -r "$dir" "$fresh/$dir" >/dev/null || { diff -rq "$dir" "$fresh/$dir" || true; status=1; }
done
for file in Tests/PluginFixtures/Faults/faults_descriptor_set.h; do
  cmp -s "$file" "$fresh/$file" || { echo "$file differs"; status=1; }
done
if [ $status -ne 0 ]; then echo "generated code is stale: run make protos and commit the result" >&2; exit 1; fi
echo "generated code is what Protos/ and Plugins/plugins.list make"
