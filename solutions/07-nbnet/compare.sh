#!/usr/bin/env bash
# Measures the reference `memkv` against real memcached 1.6 (started with -t 2), side by side in
# one run, on loopback:
#
#   1. correctness: the same client script (pymemcache: set/get/gets/cas/incr/decr/delete/touch,
#      many-key get, noreply, errors, cache_memlimit, stats groups, shutdown; and raw protocol
#      lines byte for byte, gat/gats, verbosity, stats groups and memcached's 32-bit numbers among
#      them) against both servers, whose outputs must be identical; libmemcached's conformance
#      suite (memccapable -a) and its memccp/memccat/memcstat/memcdump against memkv;
#   2. throughput: the lab's own load generator (`memload`: 50 connections, one request in flight
#      each, 90 % gets and 10 % sets of 1 KiB values over 10,000 keys) against each server in
#      turn, alternating the order, the median of a few rounds: ops/s, p50 and p99 latency;
#   3. idle connections: 10,000 connections held open at once, and each server's resident memory
#      (VmRSS) before and after, per connection.
#
#   bash solutions/07-nbnet/compare.sh                              # 20 s runs, 3 rounds
#   RUN_SECONDS=3 ROUNDS=1 bash solutions/07-nbnet/compare.sh       # a quick run
#
# Needs memcached, libmemcached-tools and python3-pymemcache (Debian: apt-get install memcached
# libmemcached-tools python3-pymemcache). Exits 1 only on a correctness failure (different client
# results, load generator errors, a failed copy, idle connections refused), never because of a time.
set -euo pipefail
cd "$(dirname "$0")/../.."

run_seconds=${RUN_SECONDS:-20}
rounds=${ROUNDS:-3}
conns=${CONNS:-50}
idle=${IDLE:-10000}
memcached=${MEMCACHED:-$(command -v memcached || echo /usr/bin/memcached)}
python=""
for candidate in python3 /usr/bin/python3; do
  if "$candidate" -c 'import pymemcache' 2>/dev/null; then python=$candidate; break; fi
done
[ -n "$python" ] || { echo "compare.sh: python3 with pymemcache is needed" >&2; exit 2; }
for tool in "$memcached" memccp memccat memcstat memcdump memccapable; do
  command -v "$tool" >/dev/null || { echo "compare.sh: $tool is needed" >&2; exit 2; }
done
# Every idle connection is a descriptor in the client and in the server.
ulimit -n $((2 * idle + 4096)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
# Named by target, not by package: the workspace's default members then choose the features, as for
# every other release build of the course, so one build serves them all (see .ci/run).
cargo build --quiet --release --bin memkv-ref --example memload
memkv=$CARGO_TARGET_DIR/release/memkv-ref
memload=$CARGO_TARGET_DIR/release/examples/memload

work=$(mktemp -d "${TMPDIR:-/tmp}/memkv-compare.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mc_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
user=()
[ "$(id -u)" = 0 ] && user=(-u root)
"$memcached" "${user[@]}" -l 127.0.0.1 -p "$mc_port" -U 0 -t 2 -m 64 -c $((idle + 1024)) &
pids+=($!)
mc_pid=$!
"$memkv" --listen 127.0.0.1:0 --threads 2 --memory 64 --max-conns $((idle + 1024)) >"$work/memkv.out" &
pids+=($!)
kv_pid=$!
for _ in $(seq 100); do
  grep -q listening "$work/memkv.out" 2>/dev/null && "$python" -c "import socket; socket.create_connection(('127.0.0.1', $mc_port)).close()" 2>/dev/null && break
  sleep 0.1
done
kv_addr=$(sed -n 's/^memkv listening on //p' "$work/memkv.out")
kv_port=${kv_addr##*:}
echo "memcached $("$memcached" -V | cut -d' ' -f2) on port $mc_port (-t 2), memkv-ref on port $kv_port (--threads 2)" >&2

failures=0

# 1. The client script, identical results from both servers.
cat >"$work/client.py" <<'PY'
import socket, sys
from pymemcache.client.base import Client
from pymemcache.exceptions import MemcacheError

port = int(sys.argv[1])
c = Client(("127.0.0.1", port), connect_timeout=5, timeout=10)
def show(what, f):
    try:
        print(what, repr(f()))
    except MemcacheError as e:
        print(what, type(e).__name__, e)
c.flush_all()
show("set", lambda: c.set("alpha", b"one", noreply=False))
show("get", lambda: c.get("alpha"))
show("get missing", lambda: c.get("nope"))
show("set flags", lambda: c.set("flagged", b"x", noreply=False, flags=42))
show("add existing", lambda: c.add("alpha", b"two", noreply=False))
show("add new", lambda: c.add("beta", b"two", noreply=False))
show("replace", lambda: c.replace("beta", b"three", noreply=False))
show("replace missing", lambda: c.replace("gamma", b"x", noreply=False))
show("append", lambda: c.append("alpha", b"+tail", noreply=False))
show("prepend", lambda: c.prepend("alpha", b"head+", noreply=False))
show("get_many", lambda: sorted(c.get_many(["alpha", "beta", "nope", "flagged"]).items()))
value, cas = c.gets("alpha")
print("gets value", repr(value), "cas is int", isinstance(cas, bytes) and cas.isdigit())
show("cas ok", lambda: c.cas("alpha", b"swapped", cas, noreply=False))
show("cas stale", lambda: c.cas("alpha", b"again", cas, noreply=False))
show("cas missing", lambda: c.cas("nope", b"x", b"1", noreply=False))
show("get after cas", lambda: c.get("alpha"))
show("set counter", lambda: c.set("n", b"10", noreply=False))
show("incr", lambda: c.incr("n", 5, noreply=False))
show("decr", lambda: c.decr("n", 7, noreply=False))
show("decr floor", lambda: c.decr("n", 100, noreply=False))
show("get padded", lambda: c.get("n"))
show("incr missing", lambda: c.incr("nope", 1, noreply=False))
show("incr non-numeric", lambda: c.incr("alpha", 1, noreply=False))
show("touch", lambda: c.touch("alpha", 100, noreply=False))
show("touch missing", lambda: c.touch("nope", 100, noreply=False))
show("delete", lambda: c.delete("beta", noreply=False))
show("delete missing", lambda: c.delete("beta", noreply=False))
c.set("quiet", b"q", noreply=True)
show("get after noreply", lambda: c.get("quiet"))
big = bytes(range(256)) * 2000
show("set 512 KB", lambda: c.set("big", big, noreply=False))
show("get 512 KB equal", lambda: c.get("big") == big)
show("set 2 MB", lambda: c.set("huge", b"x" * (2 << 20), noreply=False))
show("get 2 MB", lambda: c.get("huge"))
keys = [f"k{i}" for i in range(200)]
show("set_many", lambda: c.set_many({k: k.encode() * 3 for k in keys}, noreply=False))
show("get_many 200", lambda: sorted(c.get_many(keys).items()) == sorted((k, k.encode() * 3) for k in keys))
show("cache_memlimit", lambda: c.cache_memlimit(64))
show("stats sizes", lambda: c.stats("sizes"))
show("stats settings has maxbytes", lambda: b"maxbytes" in c.stats("settings"))
show("stats slabs is a dict", lambda: isinstance(c.stats("slabs"), dict))
show("shutdown", lambda: c.shutdown())
c.close()

# Raw lines, byte for byte, each on a fresh connection.
raw = [b"bogus\r\n", b"\r\n", b"get\r\n", b"set a 0 0\r\n", b"set a x 0 1\r\nx\r\n", b"set a 0 0 -1\r\n",
       b"set a 0 0 3\r\nabcde\r\n", b"incr a x\r\n", b"incr a -1\r\n", b"delete a 5\r\n", b"touch a x\r\n",
       b"flush_all x\r\n", b"verbosity x\r\n", b"verbosity 1\r\n", b"get " + b"k" * 251 + b"\r\n",
       b"set k 0 0 1 noreply\r\nxx\r\n", b"cas k 0 0 1\r\ny\r\n", b"set k 0 0 1\nx\r\nget k\n",
       b"set f 42 0 1\r\nx\r\nget f\r\n", b"set a 0 0 1\r\nx\r\nquit\r\nget a\r\n",
       b"verbosity noreply\r\n", b"verbosity x noreply\r\n", b"verbosity 1 2\r\n", b"verbosity 1 2 3\r\n",
       b"version x\r\n", b"incr\r\n", b"decr a 18446744073709551616\r\n",
       b"set n 0 0 2\r\n10\r\nincr n 18446744073709551615\r\n", b"set n 0 0 3\r\n5 x\r\nincr n 1\r\n",
       b"set n 0 0 3\r\n-10\r\nincr n 1\r\n", b"gat\r\n", b"gat 10\r\n", b"gat x a\r\n", b"gats 10 nope\r\n",
       b"gat 1 " + b"k" * 251 + b"\r\n", b"set g 3 0 1\r\nx\r\ngat 100 g nope\r\n",
       b"set g 0 0 1\r\nx\r\ngat -1 g\r\nget g\r\n", b"stats reset\r\n", b"stats reset x\r\n",
       b"stats detail on\r\n", b"stats detail off\r\n", b"stats detail dump\r\n", b"stats detail\r\n",
       b"stats sizes\r\n", b"stats bogus\r\n", b"stats cachedump 2 0\r\n", b"stats cachedump 64 0\r\n",
       b"stats cachedump 1\r\n", b"stats cachedump x 0\r\n", b"cache_memlimit 7\r\n", b"cache_memlimit x\r\n",
       b"cache_memlimit 2000000000\r\n", b"cache_memlimit 64 noreply\r\n", b"cache_memlimit 64\r\n",
       b"shutdown\r\n", b"set c 0 4294967297 1\r\nx\r\nget c\r\n", b"set c 0 2147483648 1\r\nx\r\nget c\r\n",
       b"set d 0 0 4294967298\r\nxy\r\nget d\r\n", b"set d 0 0 2147483646\r\n",
       b"set e 18446744073709551615 0 1\r\nx\r\nget e\r\n", b"set e -0 0 1\r\nx\r\nget e\r\n",
       b"set e 0 0 1\r\nx\r\ntouch e 2147483648\r\nget e\r\n"]
for line in raw:
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(line + b"version\r\n")
    got = b""
    while b"VERSION " not in got:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            got += b"<closed>"
            break
        got += chunk
    s.close()
    print("raw", repr(line[:40]), repr(got.split(b"VERSION ")[0]))
PY
"$python" "$work/client.py" "$mc_port" >"$work/client-memcached.txt" 2>&1 || true
"$python" "$work/client.py" "$kv_port" >"$work/client-memkv.txt" 2>&1 || true
if diff -u "$work/client-memcached.txt" "$work/client-memkv.txt" >"$work/client.diff"; then
  echo "client script: $(wc -l <"$work/client-memkv.txt") results identical" >&2
else
  echo "compare.sh: the client script's results differ (memcached vs memkv):" >&2
  cat "$work/client.diff" >&2
  failures=$((failures + 1))
fi

# libmemcached's conformance suite, ASCII protocol (it flushes the server first).
if memccapable -a -h 127.0.0.1 -p "$kv_port" >"$work/memccapable.out" 2>&1 && grep -q "All tests passed" "$work/memccapable.out"; then
  echo "memccapable: every ASCII conformance test passes against memkv" >&2
else
  echo "compare.sh: memccapable -a failed against memkv:" >&2
  cat "$work/memccapable.out" >&2
  failures=$((failures + 1))
fi

# libmemcached's tools: a file copied in with memccp and out with memccat (which adds a newline)
# gives the same bytes from both servers; memcstat reads memkv's stats and memcdump its keys.
head -c 300000 /dev/urandom >"$work/blob.bin"
copy() { (cd "$work" && memccp --servers="127.0.0.1:$1" blob.bin && memccat --servers="127.0.0.1:$1" blob.bin); }
if copy "$mc_port" >"$work/blob.memcached" && copy "$kv_port" >"$work/blob.memkv" &&
  cmp -s "$work/blob.memcached" "$work/blob.memkv" && head -c 300000 "$work/blob.memkv" | cmp -s - "$work/blob.bin" &&
  memcstat --servers="127.0.0.1:$kv_port" | grep -q curr_items &&
  memcdump --servers="127.0.0.1:$kv_port" | grep -qx blob.bin; then
  echo "libmemcached: memccp, memccat, memcstat and memcdump give the same results against memkv" >&2
else
  echo "compare.sh: libmemcached's tools failed against memkv" >&2
  failures=$((failures + 1))
fi

# 2. Throughput, alternating the order each round.
for round in $(seq "$rounds"); do
  order=(memcached memkv)
  ((round % 2)) || order=(memkv memcached)
  for name in "${order[@]}"; do
    port=$mc_port
    [ "$name" = memkv ] && port=$kv_port
    if out=$("$memload" --addr "127.0.0.1:$port" --conns "$conns" --threads 2 --seconds "$run_seconds" 2>&1); then
      echo "$name $out" >>"$work/load"
      echo "round $round/$rounds $name: $out" >&2
      case $out in *errors=0) ;; *) echo "compare.sh: $name: the load generator saw errors" >&2; failures=$((failures + 1)) ;; esac
    else
      echo "compare.sh: $name: memload failed: $out" >&2
      failures=$((failures + 1))
    fi
  done
done

# 3. Idle connections: resident memory before and with $idle connections open.
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
for name in memcached memkv; do
  port=$mc_port pid=$mc_pid
  [ "$name" = memkv ] && port=$kv_port pid=$kv_pid
  before=$(rss "$pid")
  rm -f "$work/hold"
  mkfifo "$work/hold"
  "$memload" --addr "127.0.0.1:$port" --idle "$idle" <"$work/hold" >"$work/idle.out" 2>&1 &
  holder=$!
  exec 4>"$work/hold"
  for _ in $(seq 600); do
    grep -q '^idle' "$work/idle.out" 2>/dev/null && break
    kill -0 "$holder" 2>/dev/null || break
    sleep 0.1
  done
  if grep -q "^idle $idle\$" "$work/idle.out"; then
    after=$(rss "$pid")
    echo "$name $idle $before $after" >>"$work/idle"
  else
    echo "compare.sh: $name did not hold $idle idle connections: $(cat "$work/idle.out")" >&2
    failures=$((failures + 1))
  fi
  exec 4>&-
  wait "$holder" 2>/dev/null || true
done

"$python" - "$work/load" "$work/idle" "$conns" <<'PY'
import os, statistics, sys
runs = {}
if os.path.exists(sys.argv[1]):
    for line in open(sys.argv[1]):
        name, *fields = line.split()
        runs.setdefault(name, []).append(dict(f.split("=") for f in fields))
def med(name, key):
    return statistics.median(float(r[key]) for r in runs[name])
if runs:
    n = len(next(iter(runs.values())))
    print(f"\n{sys.argv[3]} connections, one request in flight each, 90 % get / 10 % set of 1 KiB values, median of {n} runs\n")
    print("| server | ops/s | p50 | p99 | ops/s vs memcached |")
    print("|---|---:|---:|---:|---:|")
    base = med("memcached", "ops_per_sec") if "memcached" in runs else 1
    for name, label in (("memcached", "memcached 1.6 `-t 2`"), ("memkv", "memkv-ref `--threads 2`")):
        if name in runs:
            print(f"| {label} | {med(name, 'ops_per_sec'):,.0f} | {med(name, 'p50_us'):.0f} µs | {med(name, 'p99_us'):.0f} µs | {med(name, 'ops_per_sec') / base:.2f} |")
if os.path.exists(sys.argv[2]):
    print("\n| server | idle connections | RSS before | RSS with them open | per connection |")
    print("|---|---:|---:|---:|---:|")
    for line in open(sys.argv[2]):
        name, n, before, after = line.split()
        n, before, after = int(n), int(before), int(after)
        print(f"| {name} | {n:,} | {before / 1024:.1f} MiB | {after / 1024:.1f} MiB | {(after - before) * 1024 / n:,.0f} B |")
PY
[ "$failures" -eq 0 ] || { echo "compare.sh: $failures correctness failure(s)" >&2; exit 1; }
