#!/usr/bin/env bash
# Runs the whole suite on SQLite, then again on PostgreSQL and Redis wherever DATABASE_URL/REDIS_URL reach them.
# With MEND_REQUIRE_SERVICES=1 (set by .ci/run) an unreachable service is a failure, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
tmp=$(mktemp -d -t mend-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

echo "== suite on SQLite, in-process channel layer"
env -u DATABASE_URL -u REDIS_URL MEND_VAR_DIR="$tmp/sqlite" $BIN/pytest -q "$@"

pg_ok=0; redis_ok=0
if [ -n "${DATABASE_URL:-}" ] && $BIN/python scripts/reachable.py database "$DATABASE_URL"; then pg_ok=1; fi
if [ -n "${REDIS_URL:-}" ] && $BIN/python scripts/reachable.py redis "$REDIS_URL"; then redis_ok=1; fi
if [ "${MEND_REQUIRE_SERVICES:-0}" = "1" ]; then
  [ "$pg_ok" = 1 ] || { echo "MEND_REQUIRE_SERVICES=1 but PostgreSQL is not reachable at DATABASE_URL"; exit 1; }
  [ "$redis_ok" = 1 ] || { echo "MEND_REQUIRE_SERVICES=1 but Redis is not reachable at REDIS_URL"; exit 1; }
fi
if [ "$pg_ok" = 1 ] || [ "$redis_ok" = 1 ]; then
  echo "== suite on $( [ $pg_ok = 1 ] && echo PostgreSQL )$( [ $pg_ok = 1 ] && [ $redis_ok = 1 ] && echo ' and ' )$( [ $redis_ok = 1 ] && echo Redis )"
  env $( [ $pg_ok = 1 ] || echo -u DATABASE_URL ) $( [ $redis_ok = 1 ] || echo -u REDIS_URL ) \
    MEND_VAR_DIR="$tmp/services" $BIN/pytest -q "$@"
else
  echo "== no DATABASE_URL/REDIS_URL reachable: PostgreSQL and Redis runs skipped"
fi
