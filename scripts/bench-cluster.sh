#!/usr/bin/env bash
# The consultation write path (ConveneMeeting: a meeting, its invitations and its event in one
# transaction) on SQLite and on PostgreSQL, one server and three, with release builds:
#   scripts/with-postgres.sh scripts/bench-cluster.sh [SECONDS] [CONCURRENCY]
# (`make bench-cluster` runs exactly that.) Each configuration gets fresh servers and a fresh
# database; the parties and an operation with two contributors are registered through
# `convene call`, then `convene bench` convenes meetings as the Council President for SECONDS
# (default 10) with CONCURRENCY calls in flight (default 64), spread over every server.
# Prints one line per configuration: calls/s, p50, p99, errors.
set -euo pipefail
seconds=${1:-10}
concurrency=${2:-64}
: "${CONVENE_TEST_POSTGRES_URL:?run inside scripts/with-postgres.sh}"
bin=${CONVENE_BIN:-$(swift build -c release --show-bin-path)}  # CONVENE_BIN: another build's products
work=$(mktemp -d "${TMPDIR:-/tmp}/convene-bench-cluster.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# start NAME [convened options...]: starts a server on a free port; sets $port.
start() {
  local name=$1; shift
  "$bin/convened" --host 127.0.0.1 --port 0 --grpc-port 0 --data-dir "$work/$name" --log-level info "$@" \
    2> "$work/$name.log" &
  pids+=($!)
  port=""
  for _ in $(seq 600); do
    port=$(grep -oE 'address=\[IPv4\]127\.0\.0\.1/127\.0\.0\.1:[0-9]+' "$work/$name.log" | tail -n 1 | sed 's/.*://') || true
    [ -n "$port" ] && return 0
    sleep 0.1
  done
  echo "$name did not start:" >&2; cat "$work/$name.log" >&2; exit 1
}

# call TOKEN METHOD JSON FIELD: one call through the first target; prints FIELD of the answer.
call() {
  CONVENE_TOKEN=$1 "$bin/convene" --target "${targets%%,*}" call "$2" -d "$3" |
    python3 -c "import json, sys; print(json.load(sys.stdin)['$4'])"
}

party() {  # party NAME KIND ROLE → token
  local id
  id=$(call "$admin" convene.admin.v1.Administration/RegisterParty "{\"name\":\"$1\",\"kind\":\"$2\",\"roles\":[$3]}" id)
  call "$admin" convene.admin.v1.Administration/IssueCredential "{\"partyId\":\"$id\",\"label\":\"bench\"}" token
  echo "$id" > "$work/$1.id"
}

# run LABEL SERVERS [convened options...]
run() {
  local label=$1 count=$2; shift 2
  targets=""
  for index in $(seq "$count"); do
    start "$label-$index" "$@"
    targets="${targets:+$targets,}127.0.0.1:$port"
  done
  admin=$(cat "$work/$label-1/admin.token")
  local president secretariat operation
  president=$(party "President $label" MEMBER_STATE '"COUNCIL_PRESIDENT"')
  secretariat=$(party "Secretariat $label" SECRETARIAT '"SECRETARIAT_STAFF"')
  for troops in A B; do party "Troops $troops $label" MEMBER_STATE "" > /dev/null; done
  operation=$(call "$secretariat" convene.consultation.v1.Consultation/CreateOperation \
    '{"name":"UNBENCH","mandate":"Observe the ceasefire","useOfForce":"Self-defence only","phase":"PLANNING"}' id)
  for troops in A B; do
    call "$secretariat" convene.consultation.v1.Consultation/RecordContribution \
      "{\"operationId\":\"$operation\",\"partyId\":\"$(cat "$work/Troops $troops $label.id")\",\"kind\":\"TROOPS\",\"quantity\":100}" id > /dev/null
  done
  CONVENE_TOKEN=$president "$bin/convene" --target "$targets" bench --json --duration "$seconds" --concurrency "$concurrency" \
    --method convene.consultation.v1.Consultation/ConveneMeeting \
    -d "{\"operationId\":\"$operation\",\"form\":\"CONSULTATION_MEETING\",\"stage\":\"MANDATE_CHANGE\",\"scheduledTime\":\"2030-01-15T10:00:00Z\",\"informalPaper\":{\"agenda\":\"Change of mandate\",\"issues\":[\"Force structure\"]}}" \
    > "$work/$label.json"
  python3 - "$label" "$count" "$work/$label.json" <<'PY'
import json, sys
label, count, path = sys.argv[1], sys.argv[2], sys.argv[3]
r = json.load(open(path))
print(f"{label:<12} servers={count}  calls={r['requests']}  calls/s={r['rps']}  p50={r['p50_us']}us  p99={r['p99_us']}us  "
      f"errors={r['errors']} {r['errors_by_code'] or ''}")
PY
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}

# A fresh database for each PostgreSQL configuration.
database() {
  local name=bench_$1
  python3 - "$CONVENE_TEST_POSTGRES_URL" "$name" <<'PY'
import sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
print(urllib.parse.urlunsplit(url._replace(path="/" + sys.argv[2])))
PY
}

admin_url=$CONVENE_TEST_POSTGRES_URL
for setup in "sqlite 1" "postgres 1" "postgres 3"; do
  set -- $setup
  if [ "$1" = sqlite ]; then
    run "sqlite-$2" "$2"
  else
    url=$(database "$1_$2")
    psql "$admin_url" -qc "CREATE DATABASE bench_$1_$2" > /dev/null
    run "postgres-$2" "$2" --database "$url"
  fi
done
