#!/usr/bin/env bash
# Brings up the services the service-backed tests use, on loopback only: Postgres on 127.0.0.1:5432
# (role `tolk`, password `tolk`, database `test`, allowed to create the scratch databases each test
# server uses) and Redis on 127.0.0.1:6379. A service that already answers is used as it is and
# nothing about it is changed. Installs from Debian packages what is missing; needs no systemd.
# Idempotent: a second run finds both answering and does nothing.
set -euo pipefail

PG_PORT=5432
REDIS_PORT=6379
REDIS_DIR=/var/lib/tolk-test-redis

if [ "$(id -u)" = 0 ]; then SUDO=(); AS_POSTGRES=(runuser -u postgres --); else SUDO=(sudo); AS_POSTGRES=(sudo -u postgres); fi

answers() { # answers PORT: true when something accepts TCP connections on 127.0.0.1:PORT
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

wait_for() { # wait_for PORT NAME: up to 30 s
  for _ in $(seq 1 150); do answers "$1" && return 0; sleep 0.2; done
  echo "services: $2 did not answer on 127.0.0.1:$1 within 30 s" >&2
  return 1
}

apt_install() { # apt_install PKG...: installs the packages that are not installed yet
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "services: installing Debian packages: ${missing[*]}"
  "${SUDO[@]}" apt-get update -q
  # policy-rc.d 101: the packages' install scripts must not start services (no init system here);
  # this script starts them itself, on loopback.
  local policy=/usr/sbin/policy-rc.d created=
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null; "${SUDO[@]}" chmod +x "$policy"; created=1; fi
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q "${missing[@]}" || { [ -n "$created" ] && "${SUDO[@]}" rm -f "$policy"; return 1; }
  [ -n "$created" ] && "${SUDO[@]}" rm -f "$policy"
  return 0
}

start_postgres() {
  apt_install postgresql
  local cluster version name
  cluster=$(pg_lsclusters --no-header 2>/dev/null | awk -v p="$PG_PORT" '$3 == p { print $1 " " $2; exit }')
  if [ -z "$cluster" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    echo "services: creating Postgres cluster $version/main on port $PG_PORT"
    "${SUDO[@]}" pg_createcluster --port "$PG_PORT" "$version" main -- --auth-local=peer --auth-host=scram-sha-256 >/dev/null
    cluster="$version main"
  fi
  read -r version name <<<"$cluster"
  echo "services: starting Postgres $version/$name (127.0.0.1:$PG_PORT)"
  "${SUDO[@]}" pg_ctlcluster "$version" "$name" start
  wait_for "$PG_PORT" Postgres
  # The test role and database: created once, loopback password auth (Debian's pg_hba default).
  "${AS_POSTGRES[@]}" psql -q -p "$PG_PORT" -v ON_ERROR_STOP=1 <<'SQL'
SELECT 'CREATE ROLE tolk LOGIN CREATEDB PASSWORD ''tolk'''
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tolk') \gexec
SELECT 'CREATE DATABASE test OWNER tolk'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'test') \gexec
SQL
}

start_redis() {
  apt_install redis-server
  echo "services: starting Redis (127.0.0.1:$REDIS_PORT)"
  "${SUDO[@]}" mkdir -p "$REDIS_DIR"
  # No persistence: the tests' state is scratch.
  "${SUDO[@]}" redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DIR" \
    --save '' --appendonly no --logfile "$REDIS_DIR/redis.log" --pidfile "$REDIS_DIR/redis.pid"
  wait_for "$REDIS_PORT" Redis
}

if answers "$PG_PORT"; then echo "services: Postgres answers on 127.0.0.1:$PG_PORT (used as it is)"; else start_postgres; fi
if answers "$REDIS_PORT"; then echo "services: Redis answers on 127.0.0.1:$REDIS_PORT (used as it is)"; else start_redis; fi
