#!/usr/bin/env bash
# Runs the whole suite on SQLite and, wherever DATABASE_URL/REDIS_URL reach them, again on PostgreSQL and
# Redis. The two passes share nothing (own MEND_VAR_DIR, own database, free ports), so they run side by side:
# the PostgreSQL and Redis pass prints as it goes, the SQLite pass's output follows once both are done.
# With MEND_REQUIRE_SERVICES=1 (set by .ci/run) an unreachable service is a failure, not a skip.
# Each pass runs in one process unless MEND_TEST_WORKERS asks for pytest-xdist workers (e.g. 2 for a pass
# alone on two cores): each worker has its own test database, tests/conftest.py keeps the browser tests on
# one worker, the scale-out test on one, and each worker's Redis keys apart. Not the default yet: on a
# clean clone with two workers, two browser tests of tests/e2e/test_nothing_lost.py (which restart the
# server) errored once under load, and two passes side by side on two cores gain nothing from more workers.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
tmp=$(mktemp -d -t mend-test.XXXXXX)
sqlite_pid=""
cleanup() {
  if [ -n "$sqlite_pid" ]; then pkill -TERM -P "$sqlite_pid" 2>/dev/null; kill "$sqlite_pid" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

pg_ok=0; redis_ok=0
if [ -n "${DATABASE_URL:-}" ] && $BIN/python scripts/reachable.py database "$DATABASE_URL"; then pg_ok=1; fi
if [ -n "${REDIS_URL:-}" ] && $BIN/python scripts/reachable.py redis "$REDIS_URL"; then redis_ok=1; fi
if [ "${MEND_REQUIRE_SERVICES:-0}" = "1" ]; then
  [ "$pg_ok" = 1 ] || { echo "MEND_REQUIRE_SERVICES=1 but PostgreSQL is not reachable at DATABASE_URL"; exit 1; }
  [ "$redis_ok" = 1 ] || { echo "MEND_REQUIRE_SERVICES=1 but Redis is not reachable at REDIS_URL"; exit 1; }
fi

WORKERS="${MEND_TEST_WORKERS:-0}"
parallel=()
if [ "$WORKERS" != 0 ]; then parallel=(-n "$WORKERS" --dist loadgroup); fi

# The secret and keys an embedded run keeps in MEND_VAR_DIR are made before the workers start, so that
# they do not race to make them.
make_keys() {
  env MEND_VAR_DIR="$1" $BIN/python -c "from mend import env; env.read()"
}

sqlite_pass() {
  make_keys "$tmp/sqlite"
  env -u DATABASE_URL -u REDIS_URL MEND_VAR_DIR="$tmp/sqlite" $BIN/pytest -q "${parallel[@]}" "$@"
}

if [ "$pg_ok" = 0 ] && [ "$redis_ok" = 0 ]; then
  echo "== suite on SQLite, in-process channel layer"
  echo "== no DATABASE_URL/REDIS_URL reachable: the PostgreSQL and Redis pass is skipped"
  sqlite_pass "$@"
  exit
fi

services="$( [ $pg_ok = 1 ] && echo PostgreSQL )$( [ $pg_ok = 1 ] && [ $redis_ok = 1 ] && echo ' and ' )$( [ $redis_ok = 1 ] && echo Redis )"
echo "== suite on SQLite (in-process channel layer) and on $services, side by side"
sqlite_pass "$@" >"$tmp/sqlite.log" 2>&1 &
sqlite_pid=$!

echo "== suite on $services"
services_status=0
make_keys "$tmp/services"
env $( [ $pg_ok = 1 ] || echo -u DATABASE_URL ) $( [ $redis_ok = 1 ] || echo -u REDIS_URL ) \
  MEND_VAR_DIR="$tmp/services" $BIN/pytest -q "${parallel[@]}" "$@" || services_status=$?

sqlite_status=0
wait "$sqlite_pid" || sqlite_status=$?
sqlite_pid=""
echo "== suite on SQLite, in-process channel layer"
cat "$tmp/sqlite.log"

echo "== SQLite pass: $( [ $sqlite_status = 0 ] && echo passed || echo "FAILED ($sqlite_status)" );" \
  "$services pass: $( [ $services_status = 0 ] && echo passed || echo "FAILED ($services_status)" )"
[ "$sqlite_status" = 0 ] && [ "$services_status" = 0 ]
