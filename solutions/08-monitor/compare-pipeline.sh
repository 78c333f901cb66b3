#!/usr/bin/env bash
# The reference's data path beside VictoriaMetrics, and the store under SIGKILL:
#
#   1. remote write: an agent sends to `monitor relay`, which routes to a `monitor store` and also
#      forwards every point over Prometheus remote write to a real VictoriaMetrics; after a few
#      steps, a series read from our store's query API and from VictoriaMetrics's export API must
#      hold the same points;
#   2. crashes: `monitor store` is killed with SIGKILL at a random moment while `storeload` (the
#      lab's examples/storeload.rs) sends to it over four connections, and started again, KILLS
#      times; then every point the store acknowledged must be there once, with its value.
#
#   bash solutions/08-monitor/compare-pipeline.sh            # 20 kills
#   KILLS=5 bash solutions/08-monitor/compare-pipeline.sh    # a quick run
#
# Needs victoria-metrics and python3 (Debian: apt-get install victoria-metrics). Exits 1 only when
# points differ, are lost or duplicated, never because of a time.
set -euo pipefail
cd "$(dirname "$0")/../.."

kills=${KILLS:-20}
vm=${VICTORIA_METRICS:-$(command -v victoria-metrics || echo /usr/bin/victoria-metrics)}
[ -x "$vm" ] || { echo "compare-pipeline.sh: victoria-metrics is needed" >&2; exit 2; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
# Named by target, not by package: the workspace's default members then choose the features, as for
# every other release build of the course, so one build serves them all (see .ci/run).
cargo build --quiet --release --bin monitor-ref --example storeload
monitor=$CARGO_TARGET_DIR/release/monitor-ref
storeload=$CARGO_TARGET_DIR/release/examples/storeload

. solutions/08-monitor/compare-lib.sh
work_dir monitor-pipeline

# 1. remote write
vm_port=$(free_port)
"$vm" -httpListenAddr="127.0.0.1:$vm_port" -storageDataPath="$work/vm" -retentionPeriod=1 \
  -search.latencyOffset=0s >"$work/vm.log" 2>&1 &
pids+=($!)
echo "VictoriaMetrics $(dpkg-query -W -f '${Version}' victoria-metrics 2>/dev/null || echo '(version unknown)')"
"$monitor" store --listen 127.0.0.1:0 --http 127.0.0.1:0 --dir "$work/store" >"$work/store.out" 2>"$work/store.log" &
pids+=($!)
wait_lines "$work/store.out" 2
store_addr=$(awk '/^store listening on/ {print $4}' "$work/store.out")
store_http=$(awk '/^query API on/ {sub("http://", "", $4); print $4}' "$work/store.out")
"$monitor" relay --listen 127.0.0.1:0 --shard "$store_addr" \
  --remote-write "http://127.0.0.1:$vm_port/api/v1/write" >"$work/relay.out" 2>"$work/relay.log" &
pids+=($!)
wait_lines "$work/relay.out" 1
relay_addr=$(awk '{print $4}' "$work/relay.out")
"$monitor" agent --host pipeline --step 1 --relay "$relay_addr" --spool "$work/spool" >/dev/null 2>"$work/agent.log" &
agent_pid=$!
pids+=($agent_pid)
python3 - "$store_http" "$vm_port" <<'PY'
import json, sys, time, urllib.parse, urllib.request
store_http, vm_port = sys.argv[1:]
def get(url):
    with urllib.request.urlopen(url, timeout=5) as answer:
        return answer.read().decode()
def ours(start, end):
    query = urllib.parse.urlencode({"host": "pipeline", "metric": "load.1min", "start": start, "end": end})
    return [(int(t), v) for t, v in json.loads(get(f"http://{store_http}/api/v1/query_range?{query}"))["data"]["points"]]
def theirs(start, end):
    query = urllib.parse.urlencode({"match[]": 'load_1min{host="pipeline"}', "start": start, "end": end})
    lines = [json.loads(line) for line in get(f"http://127.0.0.1:{vm_port}/api/v1/export?{query}").splitlines() if line]
    return sorted((t, v) for line in lines for t, v in zip(line["timestamps"], line["values"]))
start = time.time() - 5
deadline = time.time() + 60
while time.time() < deadline:
    time.sleep(1)
    end = time.time() - 2  # what the agent read until two seconds ago has reached both by now
    a, b = ours(start, end), theirs(start, end)
    if len(a) >= 5 and a == b:
        print(f"remote write: load.1min of the agent, {len(a)} points, identical in monitor store and VictoriaMetrics")
        break
else:
    sys.exit(f"compare-pipeline.sh: the store and VictoriaMetrics differ:\n  ours   {a}\n  theirs {b}")
PY
kill "$agent_pid"

# 2. crashes
echo "crash test: $kills SIGKILLs of monitor store under load from storeload (4 connections, 100 points a batch)"
crash_dir=$work/crash
# Round r sends the hour r hours after the start, 50 minutes of it at most: all of it in the past,
# where the store takes it.
start_ms=$(( ($(date +%s) - (kills + 2) * 3600) * 1000 ))
restart_store() {
  # Emptied first: the last run's lines would otherwise pass for this one's until it starts.
  : >"$work/crash.out"
  "$monitor" store --listen "127.0.0.1:$crash_port" --http "127.0.0.1:$crash_http" --dir "$crash_dir" \
    >"$work/crash.out" 2>>"$work/crash.log" &
  crash_pid=$!
  wait_lines "$work/crash.out" 2
}
crash_port=$(free_port)
crash_http=$(free_port)
for round in $(seq "$kills"); do
  restart_store
  # Each round's batches are an hour of the series' time after the last round's.
  "$storeload" send --store "127.0.0.1:$crash_port" --log "$work/acked" \
    --start-ms $((start_ms + round * 3600 * 1000)) --batches 3000 >"$work/storeload.out" 2>>"$work/storeload.log" &
  load_pid=$!
  sleep "$(python3 -c 'import random; print(round(random.uniform(0.2, 1.5), 2))')"
  kill -9 "$crash_pid"
  wait "$crash_pid" 2>/dev/null || true
  wait "$load_pid" || true
  printf '  kill %2d: %s\n' "$round" "$(cat "$work/storeload.out")"
done
restart_store
pids+=($crash_pid)
"$storeload" check --http "127.0.0.1:$crash_http" --log "$work/acked"
if grep -q "unexpected answer" "$work/storeload.log" 2>/dev/null; then
  echo "compare-pipeline.sh: the store refused points it should take:" >&2
  grep "unexpected answer" "$work/storeload.log" | head -3 >&2
  exit 1
fi
if grep -qi panic "$work/crash.log"; then
  echo "compare-pipeline.sh: the store panicked:" >&2
  grep -i -A3 panic "$work/crash.log" >&2
  exit 1
fi
echo "warnings at restarts (a torn log tail cut): $(grep -ci 'warn' "$work/crash.log" || true)"
