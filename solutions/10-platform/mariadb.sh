#!/usr/bin/env bash
# Starts a private MariaDB server for lab 10's storage tests and comparisons: its own data
# directory, its own socket, loopback only, a user `platform` with every right on databases named
# `platform%`. Prints the URL the tests take (PLATFORM_MARIADB_URL) on its last line; the server
# runs until `mariadb.sh stop DIR`. Needs Debian's mariadb-server (.ci/run installs it).
#
# Usage: mariadb.sh start DIR [PORT]     mariadb.sh stop DIR
set -euo pipefail

action=${1:?usage: mariadb.sh start|stop DIR [PORT]}
dir=${2:?usage: mariadb.sh start|stop DIR [PORT]}
port=${3:-33061}

if [[ $action == stop ]]; then
  if [[ -f $dir/mariadb.pid ]]; then
    kill "$(cat "$dir/mariadb.pid")" 2>/dev/null || true
    for _ in $(seq 100); do [[ -e $dir/mariadb.pid ]] || break; sleep 0.1; done
  fi
  exit 0
fi

# The server refuses to run as root unless told whom to run as; as anyone else, it runs as them.
user=$(id -un)
mkdir -p "$dir"
if [[ ! -d $dir/data/mysql ]]; then
  mariadb-install-db --no-defaults --user="$user" --datadir="$dir/data" --auth-root-authentication-method=socket \
    --skip-test-db >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; exit 1; }
fi
mariadbd --no-defaults --user="$user" --datadir="$dir/data" --socket="$dir/mariadb.sock" \
  --pid-file="$dir/mariadb.pid" --port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
  --innodb-buffer-pool-size=128M --max-connections=500 --log-error="$dir/error.log" &
for _ in $(seq 300); do
  mariadb --no-defaults -S "$dir/mariadb.sock" -u root -e 'SELECT 1' >/dev/null 2>&1 && break
  sleep 0.1
done
mariadb --no-defaults -S "$dir/mariadb.sock" -u root -e "
  CREATE USER IF NOT EXISTS 'platform'@'127.0.0.1' IDENTIFIED BY 'platform';
  GRANT ALL PRIVILEGES ON \`platform%\`.* TO 'platform'@'127.0.0.1';
  CREATE DATABASE IF NOT EXISTS platform;" || { cat "$dir/error.log" >&2; exit 1; }
echo "mysql://platform:platform@127.0.0.1:$port/platform"
