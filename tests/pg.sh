# Source this to start a throwaway PostgreSQL server for the tests (as root: initdb refuses root,
# so the server runs as the postgres user). Exports DIPWATCH_TEST_PG, which tests/conftest.py reads.
start_postgres() {
  local bin=/usr/lib/postgresql/15/bin
  PG_TEST_DATA=$(mktemp -d /tmp/dipwatch-pg.XXXXXX)
  chown postgres "$PG_TEST_DATA"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  runuser -u postgres -- "$bin/initdb" -D "$PG_TEST_DATA" --auth=trust -U postgres >/dev/null
  runuser -u postgres -- "$bin/pg_ctl" -D "$PG_TEST_DATA" -l "$PG_TEST_DATA/log" -w \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  runuser -u postgres -- psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE dipwatch_test" >/dev/null
  export DIPWATCH_TEST_PG="postgresql+psycopg://postgres@127.0.0.1:$port/dipwatch_test"
  echo "PostgreSQL for tests: $DIPWATCH_TEST_PG"
}

stop_postgres() {
  [ -n "${PG_TEST_DATA:-}" ] || return 0
  runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$PG_TEST_DATA" -m immediate stop >/dev/null || true
  rm -rf "$PG_TEST_DATA"
}
