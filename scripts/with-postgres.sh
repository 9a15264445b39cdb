#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster on a private socket and loopback port,
# with SVIDOK_DATABASE_URL pointing at it; the cluster is removed afterwards, whatever happens.
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[[ -n "$bindir" ]] || bindir=$(dirname "$(command -v initdb)")
[[ -x "$bindir/initdb" ]] || { echo "error: PostgreSQL server not found (apt-get install postgresql)" >&2; exit 2; }

cluster=$(mktemp -d /tmp/svidok-pg.XXXXXX)
run_as=()
if [[ $(id -u) -eq 0 ]]; then
  # initdb refuses to run as root: use the postgres account Debian's package creates.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$cluster"
  run_as=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

cleanup() {
  "${run_as[@]}" "$bindir/pg_ctl" -D "$cluster/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$cluster"
}
trap cleanup EXIT INT TERM

"${run_as[@]}" "$bindir/initdb" -D "$cluster/data" -U svidok --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${run_as[@]}" "$bindir/pg_ctl" -D "$cluster/data" -l "$cluster/log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $cluster -c fsync=off -c max_connections=100" start >/dev/null
echo "throwaway PostgreSQL on 127.0.0.1:$port" >&2

export SVIDOK_DATABASE_URL="postgresql://svidok@127.0.0.1:$port/postgres"
status=0
"$@" || status=$?
exit $status
