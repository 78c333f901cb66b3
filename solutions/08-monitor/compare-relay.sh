#!/usr/bin/env bash
# The relay's three load goals, measured with the reference's own processes: `monitor relay` and two
# `monitor store` shards, and simulated agents in separate processes (the lab's examples/agents.rs:
# many agents a process, each with the real sender and its own on-disk spool).
#
#   1. rate: agents send past readings as fast as they are acked, at most RATE points a second in
#      all; printed: the points a second the relay took, and the points a second the two stores
#      acknowledged to it (its counters at its clean stop, over the time from the first send to the
#      last ack);
#   2. hold: AGENTS agents × SERIES series every AGENT_STEP seconds for HOLD seconds (the relay's
#      queues bound at QUEUE_POINTS points a shard, 20 s of this fleet); the resident memory
#      of the relay and of each store is read from /proc every 10 s, and printed as a table and as
#      the first minute's mean against the last minute's;
#   3. outage: the same fleet (or OUTAGE_AGENTS × OUTAGE_SERIES every OUTAGE_STEP s); the relay is
#      stopped (SIGTERM: it drains its queues; a SIGKILL would lose what it had acked and queued, by
#      design) for OUTAGE seconds while the agents go on reading into their spools, then started
#      again on the same port; every point read must then be in the stores once, with its value,
#      and no store may have refused one as late (the relay counts what a store's acks reject).
#
# After each part the stores are asked for the agents' series (all of them for the rate and the
# outage, the first SAMPLE of every agent for the hold) and must hold every point read, once, with
# its value; in the rate part, the points the relay dropped past its queue's bound (counted, and
# printed) are the only ones allowed to be missing.
#
#   bash solutions/08-monitor/compare-relay.sh          # 10,000 agents for 5 minutes, a 60 s outage
#   AGENTS=2000 HOLD=60 RATE_SECONDS=10 bash solutions/08-monitor/compare-relay.sh   # CI's size
#   PARTS=hold KEEP=1 bash solutions/08-monitor/compare-relay.sh   # one part, its logs kept
#
# Needs python3. Exits 1 only when points are lost, duplicated, wrong or refused, never because of
# a time: the rates and the memory are printed for reading.
set -euo pipefail
cd "$(dirname "$0")/../.."

rate=${RATE:-600000}
rate_seconds=${RATE_SECONDS:-20}
agents=${AGENTS:-10000}
series=${SERIES:-50}
step=${AGENT_STEP:-10}
hold=${HOLD:-300}
sample=${SAMPLE:-1}
outage=${OUTAGE:-60}
outage_agents=${OUTAGE_AGENTS:-$agents}
outage_series=${OUTAGE_SERIES:-$series}
outage_step=${OUTAGE_STEP:-$step}
procs=${PROCS:-4}
# The relay's bound on each shard's queue in the hold and the outage: the default, 100,000 points,
# is 4 s of this fleet's 25,000 points a second a shard, shorter than a store's checkpoint of
# 250,000 series holds its appends.
queue_points=${QUEUE_POINTS:-1000000}
parts=${PARTS:-rate hold outage}

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
# Named by target, not by package: the workspace's default members then choose the features, as for
# every other release build of the course, so one build serves them all (see .ci/run).
cargo build --quiet --release --bin monitor-ref --example agents
monitor=$CARGO_TARGET_DIR/release/monitor-ref
sim=$CARGO_TARGET_DIR/release/examples/agents

# 10,000 agents hold a socket and two spool files each, spread over the agents' processes, and the
# relay holds their 10,000 sockets.
ulimit -n "$(ulimit -Hn)"

. solutions/08-monitor/compare-lib.sh
work_dir monitor-relay
now() { date +%s.%N; }
seconds() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }

# Two store shards for part $1, in $work/$1: sets store_addrs, store_https and store_pids.
start_stores() {
  store_addrs=() store_https=() store_pids=()
  for shard in 1 2; do
    local dir=$work/$1/store$shard
    mkdir -p "$dir"
    "$monitor" store --listen 127.0.0.1:0 --http 127.0.0.1:0 --dir "$dir/data" >"$dir.out" 2>"$work/$1-store$shard.log" &
    store_pids+=($!)
    pids+=($!)
    wait_lines "$dir.out" 2
    store_addrs+=("$(awk '/^store listening on/ {print $4}' "$dir.out")")
    store_https+=("$(awk '/^query API on/ {sub("http://", "", $4); print $4}' "$dir.out")")
  done
}
# The relay for part $1 on port $2 to the stores, with the options after, its log appended to:
# sets relay_pid.
start_relay() {
  local part=$1 port=$2 out=$work/$1/relay.out
  shift 2
  : >"$out"
  "$monitor" relay --listen "127.0.0.1:$port" --shard "${store_addrs[0]}" --shard "${store_addrs[1]}" "$@" \
    >"$out" 2>>"$work/$part-relay.log" &
  relay_pid=$!
  pids+=($relay_pid)
  wait_lines "$out" 1
}
# Stops the relay with SIGTERM (it drains its queues into the stores) and waits for it.
stop_relay() {
  kill -TERM "$relay_pid"
  wait_exit "$relay_pid"
}
# The relay's counters at its stops, summed over its runs in part $1: accepted sent dropped failed,
# then the points its last run accepted.
relay_counters() {
  python3 - "$work/$1-relay.log" <<'PY'
import re, sys
runs = [line for line in open(sys.argv[1]) if "relay stopped" in line]
if not runs:
    sys.exit("compare-relay.sh: the relay never said it stopped")
total = lambda name: sum(int(n) for line in runs for n in re.findall(rf"\b{name}: (\d+)", line))
last = [int(n) for n in re.findall(r"\baccepted: (\d+)", runs[-1])]
print(total("accepted"), total("sent"), total("dropped"), total("failed"), last[0] if last else 0)
PY
}
# Runs agents check for part $1 over the manifests; prints its summary; its status is check's.
check_stores() {
  local part=$1
  shift
  local manifests=()
  for manifest in "$work/$part"/manifest.*; do manifests+=(--manifest "$manifest"); done
  "$sim" check --store "${store_https[0]}" --store "${store_https[1]}" "${manifests[@]}" "$@" \
    >"$work/$part/check.out" 2>"$work/$part/check.err"
}
# The sum of the field NAME=N over the agents' summaries of part $1.
agents_total() { cat "$work/$1"/agents.*.out | grep -o "\b$2=[0-9]*" | awk -F= '{ n += $2 } END { print n + 0 }'; }
# Starts $2 agents of $3 series in $procs processes for part $1, with the run's other options after.
start_agents() {
  local part=$1 count=$2 each_series=$3
  shift 3
  agent_pids=()
  local each=$(((count + procs - 1) / procs)) first=0
  for proc in $(seq "$procs"); do
    local n=$((count - first < each ? count - first : each))
    [ "$n" -gt 0 ] || break
    "$sim" run --relay "127.0.0.1:$relay_port" --agents "$n" --first "$first" --series "$each_series" \
      --spool "$work/$part/spool" --manifest "$work/$part/manifest.$proc" "$@" \
      >"$work/$part/agents.$proc.out" 2>"$work/$part/agents.$proc.log" &
    agent_pids+=($!)
    pids+=($!)
    first=$((first + n))
  done
}
# Waits until every agents process has opened its spools and begun, for at most 5 minutes.
wait_agents_sending() {
  for proc in $(seq "${#agent_pids[@]}"); do wait_lines "$work/$1/agents.$proc.log" 1 300; done
}
wait_agents() {
  for pid in "${agent_pids[@]}"; do wait "$pid" || fail "an agents process failed: $(cat "$work"/*/agents.*.log | tail -3)"; done
}

# 1. rate
if [[ " $parts " == *" rate "* ]]; then
mkdir -p "$work/rate"
start_stores rate
relay_port=$(free_port)
start_relay rate "$relay_port"
rate_procs=2
echo "rate: $rate_procs processes × 10 agents × 50 series, past readings as fast as acked (at most $rate points/s), for $rate_seconds s"
relay_cpu() { awk '{print $14 + $15}' "/proc/$relay_pid/stat"; }
procs=$rate_procs start_agents rate 20 50 --fast --step 1 --threads 10 --duration "$rate_seconds" \
  --rate $((rate / rate_procs))
wait_agents
cpu=$(relay_cpu)
stop_relay
ended=$(now)
read -r accepted sent dropped failed _ < <(relay_counters rate)
produced=$(agents_total rate produced)
# From the first agent's first send to the relay's exit, once its queues are empty: every point
# the stores acknowledged was acknowledged within it.
python3 - "$produced" "$accepted" "$sent" "$dropped" "$ended" "$cpu" "$(getconf CLK_TCK)" "$work"/rate/agents.*.out <<'PY'
import re, sys
produced, accepted, sent, dropped = map(int, sys.argv[1:5])
ended, cpu, tick = float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
runs = [open(path).read() for path in sys.argv[8:]]
began = min(float(re.search(r"began=([\d.]+)", run).group(1)) for run in runs)
stopped = max(float(re.search(r"ended=([\d.]+)", run).group(1)) for run in runs)
print(f"  the relay acked {accepted:,} points to the agents: {accepted / (stopped - began):,.0f} points/s"
      f" ({stopped - began:.1f} s from the first send to the last ack)")
print(f"  the stores acknowledged {sent:,} of them to the relay: {sent / (ended - began):,.0f} points/s"
      f" end to end ({ended - began:.1f} s from the first send to the relay's exit, its queues empty);"
      f" dropped past the relay's queue bound: {dropped:,}")
print(f"  the relay's CPU: {cpu / tick:.1f} s, {cpu / tick / max(sent, 1) * 1e6:.2f} µs a point")
PY
check_stores rate || true
cat "$work/rate/check.out"
read -r lost duplicated unexpected wrong < <(grep -o '[0-9]* lost, [0-9]* duplicated, [0-9]* unexpected, [0-9]* with' "$work/rate/check.out" | tr -dc '0-9 \n' | tr -s ' ')
[ "$accepted" -ge "$produced" ] || fail "the agents read $produced points, the relay took $accepted"
[ "$((duplicated + unexpected + wrong + failed))" -eq 0 ] || { cat "$work/rate/check.err" >&2; fail "points duplicated, unexpected, wrong or refused in the rate run"; }
[ "$lost" -eq "$dropped" ] || { cat "$work/rate/check.err" >&2; fail "$lost points lost, of which the relay dropped $dropped"; }
for pid in "${store_pids[@]}"; do kill "$pid"; wait_exit "$pid"; done
fi

# 2. hold
if [[ " $parts " == *" hold "* ]]; then
mkdir -p "$work/hold"
start_stores hold
relay_port=$(free_port)
start_relay hold "$relay_port" --queue-points "$queue_points"
echo "hold: $agents agents × $series series every $step s in $procs processes, for $hold s (relay queues of $queue_points points a shard)"
started=$(now)
start_agents hold "$agents" "$series" --step "$step" --duration "$hold" --threads 16
wait_agents_sending hold
python3 - "$hold" "$relay_pid" "${store_pids[@]}" >"$work/hold/rss" <<'PY'
import sys, time
hold, pids = float(sys.argv[1]), sys.argv[2:]
def rss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
start = time.time()
tick = 0
while tick <= hold:
    time.sleep(max(0.0, start + tick - time.time()))
    print(tick, *(f"{rss(pid):.1f}" for pid in pids), flush=True)
    tick += 10
PY
wait_agents
stop_relay
read -r accepted sent dropped failed _ < <(relay_counters hold)
produced=$(agents_total hold produced)
echo "  resident memory (MiB), every 10 s:"
python3 - "$work/hold/rss" "$hold" <<'PY'
import sys
rows = [list(map(float, line.split())) for line in open(sys.argv[1])]
hold = float(sys.argv[2])
print(f"  {'s':>5} {'relay':>8} {'store 1':>8} {'store 2':>8}")
for row in rows:
    print(f"  {row[0]:>5.0f} {row[1]:>8.1f} {row[2]:>8.1f} {row[3]:>8.1f}")
minute = min(60.0, hold / 3)
first = [r for r in rows if 0 < r[0] <= minute]  # 0 is before the agents connect
last = [r for r in rows if r[0] >= hold - minute]
mean = lambda rs, i: sum(r[i] for r in rs) / len(rs)
for i, name in enumerate(["relay", "store 1", "store 2"], 1):
    a, b = mean(first, i), mean(last, i)
    print(f"  {name:<8} first {minute:.0f} s {a:7.1f} MiB, last {minute:.0f} s {b:7.1f} MiB ({(b - a) / a * 100:+.1f} %)")
PY
echo "  $produced points read, the relay took $accepted and the stores acknowledged $sent (dropped $dropped, refused $failed)"
check_stores hold --sample "$sample" || { cat "$work/hold/check.out"; cat "$work/hold/check.err" >&2; fail "the stores lost points of the hold run"; }
cat "$work/hold/check.out"
[ "$((dropped + failed))" -eq 0 ] || fail "points dropped or refused in the hold run"
for pid in "${store_pids[@]}"; do kill "$pid"; wait_exit "$pid"; done
fi

# 3. outage
if [[ " $parts " == *" outage "* ]]; then
mkdir -p "$work/outage"
start_stores outage
relay_port=$(free_port)
start_relay outage "$relay_port" --queue-points "$queue_points"
lead=10 tail=10
echo "outage: $outage_agents agents × $outage_series series every $outage_step s in $procs processes; the relay stopped from $lead s for $outage s"
start_agents outage "$outage_agents" "$outage_series" --step "$outage_step" --duration $((lead + outage + tail)) --threads 16
wait_agents_sending outage
sleep "$lead"
stop_relay
stopped=$(now)
sleep "$outage"
start_relay outage "$relay_port" --queue-points "$queue_points"
echo "  relay down for $(seconds "$stopped" "$(now)") s, started again on the same port"
wait_agents
stop_relay
read -r accepted sent dropped failed after < <(relay_counters outage)
produced=$(agents_total outage produced)
left=$(agents_total outage spooled)
echo "  $produced points read, $left left in the spools; the relay took $accepted ($after of them once started again: the spooled and the later; a batch resent after a lost ack counts twice), the stores acknowledged $sent (dropped $dropped, refused as late or invalid $failed)"
check_stores outage || { cat "$work/outage/check.out"; cat "$work/outage/check.err" >&2; fail "the stores do not hold every point of the outage run"; }
cat "$work/outage/check.out"
[ "$((dropped + failed + left))" -eq 0 ] || fail "points dropped or refused in the outage run"
fi
