#!/usr/bin/env bash
# Lab 09 measured, side by side in one run on this machine:
#
#   1. pssh over OpenSSH against the master and its agents: one command (/bin/echo) on HOSTS
#      loopback "hosts" (pssh: an sshd on 127.0.0.1, at pssh's own parallelism of 32, its fastest
#      here: 100 at once took longer on two cores; ours: a master and a swarm of HOSTS agents that
#      start real processes), ROUNDS rounds each, alternating; the median wall time of each and
#      their ratio.
#   2. The load test: a master and a swarm of AGENTS simulated agents in separate processes; the
#      master's resident memory per connected idle agent; then ROUNDS broadcasts to all of them
#      with `control run`, each gathered to the last result (median), and the master's CPU time
#      per broadcast.
#   3. A short fuzzing run of the master's side of the handshake (FUZZ_SECONDS).
#
# Needs root for sshd (it runs its own, on a free port, with keys made here), and Debian's pssh
# and openssh-server (.ci/compare-control installs them). Exits 1 only when an answer is wrong (a
# host missing, an output that is not the command's); the timings are printed, never asserted.
#
# Usage: solutions/09-control/compare.sh     (HOSTS=200 AGENTS=19000 ROUNDS=3 FUZZ_SECONDS=20 for
#        the chapter; the defaults are CI's)
set -euo pipefail
cd "$(dirname "$0")/../.."
# The course's compare helpers: this script uses start_sshd (its own cleanup, below, stands).
source solutions/08-monitor/compare-lib.sh

HOSTS=${HOSTS:-200}
AGENTS=${AGENTS:-2000}
ROUNDS=${ROUNDS:-3}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}

# Named by target, not by package: the workspace's default members then choose the features, as for
# every other release build of the course, so one build serves them all (see .ci/run).
cargo build --release -q --bin control-ref --example fuzz-handshake
control=$PWD/target/release/control-ref
fuzz=$PWD/target/release/examples/fuzz-handshake

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# Starts a master in directory $1 (auto-accepting, trusting $2); sets master_pid, master_addr,
# master_key.
start_master() {
  local dir=$1 operator=$2
  mkdir -p "$dir"
  (cd "$dir" && exec "$control" master --listen 127.0.0.1:0 --key master.key --keys keys --auto-accept \
    --operator "$operator" --heartbeat 30 >master.out 2>master.log) &
  master_pid=$!
  pids+=("$master_pid")
  for _ in $(seq 100); do
    [[ -s $dir/master.out && $(wc -l <"$dir/master.out") -ge 3 ]] && break
    sleep 0.1
  done
  master_addr=$(awk '/^master listening on/ { print $4 }' "$dir/master.out")
  master_key=$(awk '/^master key/ { print $3 }' "$dir/master.out")
  [[ -n $master_addr && -n $master_key ]] || { cat "$dir/master.log" >&2; echo "compare.sh: the master did not start" >&2; exit 1; }
}

# Starts a swarm of $2 agents for the master in $1 (extra options after); waits until all are
# connected, then sets swarm_pid and connect_seconds.
start_swarm() {
  local dir=$1 count=$2
  shift 2
  local started
  started=$(now)
  "$control" swarm --agents "$count" --master "$master_addr" --master-key "$master_key" \
    --operator "$operator_key" "$@" >"$dir/swarm.out" 2>"$dir/swarm.log" &
  swarm_pid=$!
  pids+=("$swarm_pid")
  for _ in $(seq 1800); do
    grep -q "agents connected" "$dir/swarm.out" 2>/dev/null && break
    kill -0 "$swarm_pid" 2>/dev/null || { cat "$dir/swarm.log" >&2; echo "compare.sh: the swarm stopped" >&2; exit 1; }
    sleep 0.1
  done
  grep -q "agents connected" "$dir/swarm.out" || { echo "compare.sh: the swarm never connected" >&2; exit 1; }
  connect_seconds=$(echo "$(now) - $started" | bc)
}

# Runs /bin/echo hello on every agent of the master in $1 with `control run --json`; prints the
# wall seconds and checks that all $2 hosts are done, having printed $3.
run_all() {
  local dir=$1 count=$2 expected=$3 started took
  started=$(now)
  (cd "$dir" && "$control" run --key "$work/operator.key" --json '*' -- /bin/echo hello >run.json)
  took=$(echo "$(now) - $started" | bc)
  python3 - "$dir/run.json" "$count" "$expected" <<'PY'
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1])]
hosts, totals = lines[:-1], lines[-1]
expected, said = int(sys.argv[2]), sys.argv[3] + "\n"
wrong = [h for h in hosts if h["ending"] != "done" or h["stdout"] != said]
if totals["hosts"] != expected or totals["counts"].get("done") != expected or wrong:
    sys.exit(f"compare.sh: {totals} and {len(wrong)} wrong answers, e.g. {wrong[:1]}")
PY
  echo "$took"
}

operator_key=$("$control" keygen --out "$work/operator.key")

echo "== pssh over OpenSSH against control, /bin/echo on $HOSTS loopback hosts, $ROUNDS rounds each"
start_sshd "$work/ssh"
for _ in $(seq "$HOSTS"); do echo "127.0.0.1:$ssh_port $(id -un)"; done >"$work/ssh/hosts"

start_master "$work/small" "$operator_key"
printf '/bin/echo\n' >"$work/allow.txt"
start_swarm "$work/small" "$HOSTS" --processes --allow "$work/allow.txt" --sources 1
pssh_times=() control_times=()
for round in $(seq "$ROUNDS"); do
  started=$(now)
  parallel-ssh -h "$work/ssh/hosts" -t 120 -x "$ssh_options" -i echo hello >"$work/ssh/pssh.log" 2>&1 ||
    { tail -5 "$work/ssh/pssh.log" >&2; echo "compare.sh: pssh failed" >&2; exit 1; }
  pssh_times+=("$(echo "$(now) - $started" | bc)")
  answered=$(grep -c 'SUCCESS' "$work/ssh/pssh.log" || true)
  said=$(grep -c '^hello$' "$work/ssh/pssh.log" || true)
  [[ $answered -eq $HOSTS && $said -eq $HOSTS ]] ||
    { echo "compare.sh: pssh: $answered of $HOSTS hosts succeeded, $said said hello" >&2; exit 1; }
  took=$(run_all "$work/small" "$HOSTS" hello)
  control_times+=("$took")
done
pssh_median=$(printf '%s\n' "${pssh_times[@]}" | median)
control_median=$(printf '%s\n' "${control_times[@]}" | median)
printf '  pssh over OpenSSH, %d hosts   median %6.3f s   (rounds: %s)\n' "$HOSTS" "$pssh_median" "${pssh_times[*]}"
printf '  control run, %d agents       median %6.3f s   (rounds: %s)\n' "$HOSTS" "$control_median" "${control_times[*]}"
printf '  control is %.0fx faster (each agent starting a real /bin/echo; the time includes signing and the socket)\n' \
  "$(echo "$pssh_median / $control_median" | bc -l)"
kill "$swarm_pid" "$master_pid" 2>/dev/null || true
wait "$swarm_pid" "$master_pid" 2>/dev/null || true

echo "== the load test: a master and $AGENTS simulated agents, in two processes"
start_master "$work/load" "$operator_key"
sleep 0.5
before=$(rss_kib "$master_pid")
sources=$(( (AGENTS + 9999) / 10000 + 1 ))
start_swarm "$work/load" "$AGENTS" --sources "$sources"
printf '  %d agents connected in %.1f s (each a Noise handshake and an enrolment, from %d loopback addresses)\n' \
  "$AGENTS" "$connect_seconds" "$sources"
sleep 2
after=$(rss_kib "$master_pid")
printf '  master resident memory: %d KiB before, %d KiB with the agents idle: %.1f KiB a connected agent\n' \
  "$before" "$after" "$(echo "($after - $before) / $AGENTS" | bc -l)"
times=() cpus=()
tick=$(getconf CLK_TCK)
for round in $(seq "$ROUNDS"); do
  cpu_before=$(cpu_ticks "$master_pid")
  # The simulated agents echo: their answer is the command itself.
  took=$(run_all "$work/load" "$AGENTS" "/bin/echo hello")
  times+=("$took")
  cpus+=("$(echo "($(cpu_ticks "$master_pid") - $cpu_before) / $tick" | bc -l)")
done
printf '  broadcast to %d agents, every result gathered: median %.3f s (rounds: %s)\n' \
  "$AGENTS" "$(printf '%s\n' "${times[@]}" | median)" "${times[*]}"
printf '  the master'"'"'s CPU time a broadcast: median %.2f s\n' "$(printf '%s\n' "${cpus[@]}" | median)"
printf '  master resident memory after the broadcasts: %d KiB\n' "$(rss_kib "$master_pid")"
kill "$swarm_pid" "$master_pid" 2>/dev/null || true
wait "$swarm_pid" "$master_pid" 2>/dev/null || true

echo "== fuzzing the handshake for $FUZZ_SECONDS s"
"$fuzz" --seconds "$FUZZ_SECONDS"
