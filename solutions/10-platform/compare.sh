#!/usr/bin/env bash
# Lab 10 measured, side by side in one run on this machine:
#
#   1. The storage tests (stage 1) on SQLite and on a real MariaDB: the same tests, each on a fresh
#      database of each backend.
#   2. The records' batch goal: a run on HOSTS hosts, every host's result written in batches of
#      BATCH as a master reports them, ROUNDS rounds on SQLite and on MariaDB; then the same with
#      a transaction a result (batches of 1, on ONE_BY_ONE hosts), the way it is not done.
#
# MariaDB is the server PLATFORM_MARIADB_URL names, or a private one started here with
# solutions/10-platform/mariadb.sh (Debian's mariadb-server; .ci/compare-platform installs it) and
# stopped at the end. Exits 1 only when a test fails or a result is missing; the timings are
# printed, never asserted.
#
# Usage: solutions/10-platform/compare.sh     (HOSTS=10000 BATCH=1000 ROUNDS=5 ONE_BY_ONE=2000 for
#        the chapter; the defaults are CI's)
set -euo pipefail
cd "$(dirname "$0")/../.."

HOSTS=${HOSTS:-10000}
BATCH=${BATCH:-1000}
ROUNDS=${ROUNDS:-3}
ONE_BY_ONE=${ONE_BY_ONE:-500}

work=$(mktemp -d)
started_mariadb=
cleanup() {
  [[ -n $started_mariadb ]] && bash solutions/10-platform/mariadb.sh stop "$work/mariadb"
  rm -rf "$work"
}
trap cleanup EXIT

url=${PLATFORM_MARIADB_URL:-}
if [[ -z $url ]]; then
  # A free loopback port for the private server.
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  started_mariadb=yes
  url=$(bash solutions/10-platform/mariadb.sh start "$work/mariadb" "$port" | tail -n 1)
fi
echo "MariaDB: $(mariadb --version 2>/dev/null | head -n 1)"

echo
echo "== the storage tests on SQLite and MariaDB"
PLATFORM_MARIADB_URL=$url cargo test --release -q -p platform-ref --test stage1_records 2>&1 | grep -E '^test result|panicked|FAILED' || true
PLATFORM_MARIADB_URL=$url cargo test --release -q -p platform-ref --test stage1_records >/dev/null 2>&1 || {
  echo "compare: the storage tests failed on SQLite or MariaDB" >&2
  PLATFORM_MARIADB_URL=$url cargo test --release -p platform-ref --test stage1_records 2>&1 | tail -n 40 >&2
  exit 1
}

cargo build --release -q -p platform-ref --example batch
batch=$PWD/target/release/examples/batch

echo
echo "== $HOSTS results in batches of $BATCH, $ROUNDS rounds a database"
"$batch" --hosts "$HOSTS" --batch "$BATCH" --rounds "$ROUNDS" "$url"

echo
echo "== for contrast: $ONE_BY_ONE results, a transaction each"
"$batch" --hosts "$ONE_BY_ONE" --batch 1 --rounds 1 "$url"
