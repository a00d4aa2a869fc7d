#!/usr/bin/env bash
# Runs a command beside a private PostgreSQL, for the tests that need one:
#   scripts/with-postgres.sh COMMAND [ARGUMENTS...]
# Installs Debian's postgresql when it is missing (as root), makes a cluster in a temporary
# folder (initdb), starts it on a free port of 127.0.0.1 with TLS on (a certificate made for
# this run), and exports to COMMAND:
#   CONVENE_TEST_POSTGRES_URL  postgres://convene@127.0.0.1:PORT/convene (a superuser; trust auth)
#   CONVENE_TEST_POSTGRES_CA   the PEM certificate the server presents (for sslmode=verify-full)
#   CONVENE_REQUIRE_POSTGRES=1 (tests that need the database fail rather than skip without it)
# The instance is stopped and its folder removed when COMMAND ends, however it ends.
set -euo pipefail

find_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

bin=$(find_bin)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing postgresql (Debian's packages)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin=$(find_bin)
  else
    echo "PostgreSQL is not installed; install it with: sudo apt-get install -y postgresql" >&2
    exit 1
  fi
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/convene-postgres.XXXXXX")
chmod 755 "$dir"
# initdb and postgres refuse to run as root: as root, the cluster belongs to the postgres user.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi

stop() {
  as_owner "$bin/pg_ctl" -D "$dir/data" stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_owner "$bin/initdb" -D "$dir/data" -A trust -U convene -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -addext "basicConstraints=critical,CA:TRUE" \
  -keyout "$dir/data/server.key" -out "$dir/data/server.crt" >/dev/null 2>&1
chmod 600 "$dir/data/server.key"
if [ "$(id -u)" = 0 ]; then chown postgres "$dir/data/server.key" "$dir/data/server.crt"; fi
cp "$dir/data/server.crt" "$dir/ca.crt"
# fsync off: a test instance need not survive a power cut, and it spares a shared disk.
as_owner "$bin/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/postgres.log" \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c ssl=on" start >/dev/null ||
  { cat "$dir/postgres.log" >&2; exit 1; }
"$bin/createdb" -h 127.0.0.1 -p "$port" -U convene convene

export CONVENE_TEST_POSTGRES_URL="postgres://convene@127.0.0.1:$port/convene"
export CONVENE_TEST_POSTGRES_CA="$dir/ca.crt"
export CONVENE_REQUIRE_POSTGRES=1
echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') for the tests on 127.0.0.1:$port ($dir)" >&2
"$@"
