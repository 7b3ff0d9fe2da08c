#!/usr/bin/env bash
# start|stop a throwaway PostgreSQL 15 cluster on 127.0.0.1:55432 (trust auth, fsync off) under .services/postgres.
set -euo pipefail
cd "$(dirname "$0")/../.."
port=55432
dir=$PWD/.services/postgres
bin=/usr/lib/postgresql/15/bin
url="Host=127.0.0.1;Port=$port;Username=postgres;Password=postgres"
as_postgres() { runuser -u postgres -- "$@"; }

case "${1:-}" in
  start)
    [ -x "$bin/initdb" ] || scripts/install-packages.sh postgresql
    mkdir -p .services
    if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
      if [ ! -s "$dir/PG_VERSION" ]; then
        rm -rf "$dir"; mkdir -p "$dir"; chown postgres:postgres "$dir"
        as_postgres "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
      fi
      as_postgres "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
        -w -t 60 start >/dev/null
    fi
    deadline=$((SECONDS + 60))
    until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; do
      [ $SECONDS -lt $deadline ] || { echo "PostgreSQL did not become ready on port $port" >&2; exit 1; }
      sleep 0.2
    done
    grep -qs '^export AC_TEST_POSTGRES=' .services/env || echo "export AC_TEST_POSTGRES='$url'" >> .services/env
    echo "PostgreSQL ready on 127.0.0.1:$port" ;;
  stop)
    if [ -s "$dir/postmaster.pid" ]; then
      as_postgres "$bin/pg_ctl" -D "$dir" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir" ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
