#!/usr/bin/env bash
# Starts a private etcd for lab 10's availability tests and comparisons: a one-member cluster with
# its own data directory, its client port and its peer port on loopback only. Prints the address
# the tests take (PLATFORM_ETCD_URL, HOST:PORT of its JSON gateway) on its last line; the server
# runs until `etcd.sh stop DIR`. Needs Debian's etcd-server, etcd 3.4 (.ci/compare-platform installs
# it).
#
# Usage: etcd.sh start DIR [PORT]     etcd.sh stop DIR
set -euo pipefail

action=${1:?usage: etcd.sh start|stop DIR [PORT]}
dir=${2:?usage: etcd.sh start|stop DIR [PORT]}
port=${3:-23790}

if [[ $action == stop ]]; then
  if [[ -f $dir/etcd.pid ]]; then
    pid=$(cat "$dir/etcd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$dir/etcd.pid"
  fi
  exit 0
fi

# Its peers' port: ten above the clients', unless something listens there already.
peer=$((port + 10))
if (exec 3<>"/dev/tcp/127.0.0.1/$peer") 2>/dev/null; then
  peer=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
# etcd 3.4 runs on amd64, ppc64le and s390x, and elsewhere only when this names Go's architecture.
if [[ -z ${ETCD_UNSUPPORTED_ARCH:-} ]]; then
  case $(uname -m) in
    x86_64 | ppc64le | s390x) ;;
    aarch64) ETCD_UNSUPPORTED_ARCH=arm64 ;;
    armv*) ETCD_UNSUPPORTED_ARCH=arm ;;
    i?86) ETCD_UNSUPPORTED_ARCH=386 ;;
    *) ETCD_UNSUPPORTED_ARCH=$(uname -m) ;;
  esac
  [[ -z ${ETCD_UNSUPPORTED_ARCH:-} ]] || export ETCD_UNSUPPORTED_ARCH
fi

mkdir -p "$dir"
name=platform-$port
/usr/bin/etcd --name "$name" --data-dir "$dir/data" --logger zap --log-outputs stderr \
  --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
  --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
  --initial-cluster "$name=http://127.0.0.1:$peer" --initial-cluster-state new </dev/null >"$dir/etcd.log" 2>&1 &
pid=$!
echo "$pid" >"$dir/etcd.pid"
# Ready once its JSON gateway answers a read, and it is still running (so that the answer is not
# another server's on a port it could not have).
ready() {
  curl -s -X POST "http://127.0.0.1:$port/v3/kv/range" -d '{"key":"eA=="}' 2>/dev/null | grep -q '"header"' &&
    kill -0 "$pid" 2>/dev/null
}
for _ in $(seq 300); do
  ready && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if ! ready; then
  cat "$dir/etcd.log" >&2
  bash "$0" stop "$dir"
  exit 1
fi
echo "127.0.0.1:$port"
