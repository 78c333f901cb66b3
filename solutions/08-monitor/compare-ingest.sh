#!/usr/bin/env bash
# The reference store beside VictoriaMetrics and Prometheus on the same data, in one run: the lab's
# examples/ingest.rs generates a fleet of node-like series (datasets::metrics, 161 series a host,
# every 10 s) and each system ingests it through its own bulk path:
#
#   monitor store      batches over four connections, each acknowledged after its fsync; run
#                      twice, with its rollups (the default) and without (--no-rollups: raw
#                      points only, what the other two keep);
#   VictoriaMetrics    one POST of Prometheus's text format to /api/v1/import/prometheus
#                      (acknowledged once buffered in memory, written within a second);
#   Prometheus         `promtool tsdb create-blocks-from openmetrics`, its offline bulk path.
#
# It prints each one's points per second and bytes per point on disk after a clean stop (all a
# store needs to answer queries: samples and series index, not caches), and
# checks that our store and VictoriaMetrics hold every point (a count).
#
#   bash solutions/08-monitor/compare-ingest.sh                    # 25 hosts, 4 hours: 5.8 M points
#   HOSTS=4 bash solutions/08-monitor/compare-ingest.sh            # a quick run (CI)
#
# Needs victoria-metrics, prometheus (for promtool) and python3. Exits 1 only when a store does not
# hold every point, never because of a time.
set -euo pipefail
cd "$(dirname "$0")/../.."

hosts=${HOSTS:-25}
ticks=${TICKS:-1440}
vm=${VICTORIA_METRICS:-$(command -v victoria-metrics || echo /usr/bin/victoria-metrics)}
promtool=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}
[ -x "$vm" ] && [ -x "$promtool" ] || { echo "compare-ingest.sh: victoria-metrics and promtool are needed" >&2; exit 2; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
# Named by target, not by package: the workspace's default members then choose the features, as for
# every other release build of the course, so one build serves them all (see .ci/run).
cargo build --quiet --release --bin monitor-ref --example ingest
monitor=$CARGO_TARGET_DIR/release/monitor-ref
ingest=$CARGO_TARGET_DIR/release/examples/ingest

. solutions/08-monitor/compare-lib.sh
work_dir monitor-ingest
# Ends three to five hours ago (inside every store's window for new data) and starts at a 2-hour
# window of the epoch, our store's chunk span: with 4 hours, the first half ends in whole sealed
# chunks (block files) and the second in whole open ones (the checkpoint), as in a store that has
# run for a while, whatever the time of day.
start_ms=$(( (($(date +%s) - 3 * 3600 - ticks * 10) / 7200 * 7200) * 1000 ))
points=$((hosts * 161 * ticks))
echo "the fleet: $hosts hosts × 161 series × $ticks steps of 10 s = $points points"
row() { python3 -c "import sys; n, s, b = map(float, sys.argv[2:]); print(f'  {sys.argv[1]:<28} {n / s:>12,.0f} points/s   {b / n:6.3f} bytes a point   ({s:.2f} s, {b / 1e6:.1f} MB)')" "$@"; }
rows=()

# monitor store: the time until the last batch is acknowledged (durable), then the bytes on disk
# after a clean stop (blocks, checkpoint, what is left of the log). Twice: as it runs by default,
# with its 5-minute and hourly rollups, and with raw points only, as VictoriaMetrics keeps them.
run_store() {
  local name=$1 dir=$work/store-$2
  shift 2
  local store_port store_http store_pid acked seconds
  store_port=$(free_port)
  store_http=$(free_port)
  "$monitor" store --listen "127.0.0.1:$store_port" --http "127.0.0.1:$store_http" --dir "$dir" "$@" \
    >/dev/null 2>"$dir.log" &
  store_pid=$!
  pids+=($store_pid)
  wait_http "http://127.0.0.1:$store_http/api/v1/hosts"
  read -r acked seconds _ < <("$ingest" send --store "127.0.0.1:$store_port" --hosts "$hosts" --ticks "$ticks" --start-ms "$start_ms")
  [ "$acked" -eq "$points" ] || fail "monitor store acknowledged $acked of $points points"
  kill -TERM "$store_pid"
  wait "$store_pid" || true
  rows+=("$(row "$name" "$points" "$seconds" "$(du -sb "$dir" | cut -f1)")")
  rm -rf "$dir"
}
run_store "monitor store (fsync, ack)" rollups
run_store "  the same, raw points only" raw --no-rollups

# VictoriaMetrics: the time of the import request, then the bytes on disk after a clean stop.
"$ingest" text --format prometheus --hosts "$hosts" --ticks "$ticks" --start-ms "$start_ms" >"$work/fleet.prom"
vm_port=$(free_port)
"$vm" -httpListenAddr="127.0.0.1:$vm_port" -storageDataPath="$work/vm" -retentionPeriod=1 \
  -search.latencyOffset=0s >"$work/vm.log" 2>&1 &
vm_pid=$!
pids+=($vm_pid)
wait_http "http://127.0.0.1:$vm_port/health"
seconds=$(python3 - "$vm_port" "$work/fleet.prom" <<'PY'
import sys, time, urllib.request
port, path = sys.argv[1:]
body = open(path, "rb").read()
started = time.time()
urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/import/prometheus", data=body), timeout=600).read()
print(f"{time.time() - started:.3f}")
PY
)
# Count what it holds (after its one-second flush of recent data).
python3 - "$vm_port" "$points" "$start_ms" <<'PY'
import json, sys, time, urllib.parse, urllib.request
port, points, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) / 1000
urllib.request.urlopen(f"http://127.0.0.1:{port}/internal/force_flush", timeout=60).read()
deadline = time.time() + 60
while True:
    query = urllib.parse.urlencode({"query": 'sum(count_over_time({host=~"node-.*"}[1d]))', "time": start + 86399})
    answer = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query?{query}", timeout=60).read())
    result = answer["data"]["result"]
    held = int(float(result[0]["value"][1])) if result else 0
    if held == points or time.time() > deadline:
        break
    time.sleep(1)
if held != points:
    sys.exit(f"compare-ingest.sh: VictoriaMetrics holds {held} of {points} points")
PY
kill -INT "$vm_pid"
wait "$vm_pid" || true
# Its samples (data/) and its series index (indexdb/), what it needs to answer a query, as our
# store's bytes count its series table; not cache/, which it rebuilds.
rows+=("$(row "VictoriaMetrics (import)" "$points" "$seconds" "$(du -scb "$work/vm/data" "$work/vm/indexdb" | tail -1 | cut -f1)")")
rows+=("$(row "  its samples alone (data/)" "$points" "$seconds" "$(du -sb "$work/vm/data" | cut -f1)")")
rm -f "$work/fleet.prom"

# Prometheus: promtool writes TSDB blocks from OpenMetrics, offline.
"$ingest" text --format openmetrics --hosts "$hosts" --ticks "$ticks" --start-ms "$start_ms" >"$work/fleet.om"
started=$(date +%s.%N)
"$promtool" tsdb create-blocks-from openmetrics "$work/fleet.om" "$work/prometheus" >"$work/promtool.log" 2>&1
seconds=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$started" "$(date +%s.%N)")
rows+=("$(row "Prometheus (create-blocks)" "$points" "$seconds" "$(du -sb "$work/prometheus" | cut -f1)")")

echo "ingest of the same fleet, each through its own bulk path, one after another on this machine:"
printf '%s\n' "${rows[@]}"
