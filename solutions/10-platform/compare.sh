#!/usr/bin/env bash
# Lab 10 measured, side by side in one run on this machine:
#
#   1. The storage tests (stages 1, 2 and 4) on SQLite and on a real MariaDB: the same tests, each
#      on a fresh database of each backend; and stage 5's availability tests, their leases in etcd
#      on a real etcd as well as on the tests' stand-in for its JSON gateway.
#   2. The records' batch goal: a run on HOSTS hosts, every host's result written in batches of
#      BATCH as a master reports them, ROUNDS rounds on SQLite and on MariaDB; then the same with
#      a transaction a result (batches of 1, on ONE_BY_ONE hosts), the way it is not done.
#   3. The API under load: `platform demo` with 1,000 hosts, and wrk (Debian's) on the host list
#      and one host's page for SECONDS each, logged in; every answer must be a 200.
#   4. A command through the platform on FLEET simulated hosts (lab 09's `control swarm` in a
#      process of its own, dialing `platform serve`), on SQLite and on MariaDB: from the form's
#      request to the run recorded complete, and from the last result's arrival to its commit
#      (the goal: under 2 s).
#   5. kill -9 of `platform serve` mid-run (200 hosts running /bin/sleep 1), KILLS times: after
#      each restart the run must end complete, or incomplete with every host without a result
#      listed, never partial unsaid.
#   6. A release rolled out: to RELEASE_FLEET simulated hosts in batches of 10 % with no bake (the
#      platform's own overhead: every host echoes its deploy at once; the goal for 1,000 hosts is
#      under 5 s in all), then to REAL_HOSTS real hosts (`platform agent` processes on this
#      machine, each running the deploy routine and the release's hooks) beside Ansible's rolling
#      update (`serial: 10%`, Debian's ansible) of the same package to as many loopback hosts over
#      OpenSSH (an sshd of its own on a free port), per host.
#   7. Failover: two `platform serve` sharing the records, the data directory and the addresses,
#      one leading and one standing by; kill -9 of the leader FAILOVERS times, the roles
#      alternating, for each lease (the lock file, and a key in etcd with a 1 s time to live):
#      from the kill to the standby answering on the same HTTP address, and each new leader's
#      fencing token greater than the last.
#
# MariaDB is the server PLATFORM_MARIADB_URL names, or a private one started here with
# solutions/10-platform/mariadb.sh (Debian's mariadb-server; .ci/compare-platform installs it) and
# stopped at the end; etcd, the one PLATFORM_ETCD_URL names (HOST:PORT), or a private one started
# with solutions/10-platform/etcd.sh (Debian's etcd-server) the same way. Exits 1 only when a test
# fails, a result is missing or a standby does not take over; the timings are printed, never
# asserted.
#
# Usage: solutions/10-platform/compare.sh     (HOSTS=10000 BATCH=1000 ROUNDS=5 ONE_BY_ONE=2000
#        SECONDS_EACH=10 FLEET=10000 KILLS=20 RELEASE_FLEET=1000 REAL_HOSTS=50 FAILOVERS=100 for
#        the chapter; the defaults are CI's)
set -euo pipefail
cd "$(dirname "$0")/../.."

HOSTS=${HOSTS:-10000}
BATCH=${BATCH:-1000}
ROUNDS=${ROUNDS:-3}
ONE_BY_ONE=${ONE_BY_ONE:-500}
SECONDS_EACH=${SECONDS_EACH:-5}
FLEET=${FLEET:-2000}
KILLS=${KILLS:-3}
RELEASE_FLEET=${RELEASE_FLEET:-1000}
REAL_HOSTS=${REAL_HOSTS:-50}
FAILOVERS=${FAILOVERS:-20}

source solutions/08-monitor/compare-lib.sh
work_dir platform-compare
started_mariadb=
started_etcd=
# A private MariaDB or etcd started here stops before the work directory goes, and after the
# servers that use it.
stop_mariadb() { [[ -z $started_mariadb ]] || bash solutions/10-platform/mariadb.sh stop "$work/mariadb"; }
stop_etcd() { [[ -z $started_etcd ]] || bash solutions/10-platform/etcd.sh stop "$work/etcd"; }
stop_started() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'stop_started; stop_etcd; stop_mariadb; cleanup' EXIT
now() { date +%s.%N; }

url=${PLATFORM_MARIADB_URL:-}
if [[ -z $url ]]; then
  # A free loopback port for the private server.
  port=$(free_port)
  started_mariadb=yes
  url=$(bash solutions/10-platform/mariadb.sh start "$work/mariadb" "$port" | tail -n 1)
fi
echo "MariaDB: $(mariadb --version 2>/dev/null | head -n 1)"

etcd=${PLATFORM_ETCD_URL:-}
if [[ -z $etcd ]]; then
  port=$(free_port)
  started_etcd=yes
  etcd=$(bash solutions/10-platform/etcd.sh start "$work/etcd" "$port" | tail -n 1)
fi
etcd=${etcd#http://}
etcd=${etcd%/}
echo "etcd: $(/usr/bin/etcd --version 2>/dev/null | head -n 1) on $etcd"

echo
echo "== the storage tests on SQLite and MariaDB (stage 1's; stage 2's and stage 4's, with their migrations), and stage 5's leases on etcd too"
tests=(--test stage1_records --test stage2_api --test stage4_release --test stage5_availability)
# Named by target, not by package: the workspace's default members then choose the features, as for
# every other release build of the course, so one build serves them all (see .ci/run).
if ! PLATFORM_MARIADB_URL=$url PLATFORM_ETCD_URL=$etcd cargo test --release -q "${tests[@]}" >"$work/tests.log" 2>&1; then
  echo "compare: the storage tests failed on SQLite, MariaDB or etcd" >&2
  tail -n 60 "$work/tests.log" >&2
  exit 1
fi
grep -E '^test result' "$work/tests.log"

cargo build --release -q --example batch
batch=$PWD/target/release/examples/batch

echo
echo "== $HOSTS results in batches of $BATCH, $ROUNDS rounds a database"
PLATFORM_MARIADB_URL=$url "$batch" --hosts "$HOSTS" --batch "$BATCH" --rounds "$ROUNDS"

echo
echo "== for contrast: $ONE_BY_ONE results, a transaction each"
PLATFORM_MARIADB_URL=$url "$batch" --hosts "$ONE_BY_ONE" --batch 1 --rounds 1

cargo build --release -q --bin platform-ref --bin control-ref
platform=$PWD/target/release/platform-ref
control=$PWD/target/release/control-ref

# Logs `admin` in at $1 with the password in $2's output: sets $cookie and $csrf.
login() {
  local base=$1 out=$2 password answer
  password=$(awk '/password/ { for (i = 1; i <= NF; i++) if ($i == "password") print $(i + 1) }' "$out" | head -n 1)
  [[ -n $password ]] || fail "no password in $out"
  answer=$(curl -s -D "$work/headers" -H 'content-type: application/json' \
    -d "{\"user\":\"admin\",\"password\":\"$password\"}" "$base/api/login")
  cookie=$(sed -n 's/^[Ss]et-[Cc]ookie: \(platform_session=[0-9a-f]*\).*/\1/p' "$work/headers")
  csrf=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["data"]["csrf"])' "$answer")
  [[ -n $cookie && -n $csrf ]] || fail "cannot log in at $base: $answer"
}

# A run on target $2 at $1 of program $3 with the JSON list of arguments $4 (/bin/echo hello by
# default): its id.
start_run() {
  local body answer
  body="{\"target\":\"$2\",\"program\":\"${3:-/bin/echo}\",\"args\":${4:-[\"hello\"]}}"
  answer=$(curl -s -b "$cookie" -H "x-csrf-token: $csrf" -H 'content-type: application/json' -d "$body" "$1/api/runs")
  python3 -c 'import json, sys; print(json.loads(sys.argv[1])["data"]["run"])' "$answer" 2>/dev/null || fail "run refused: $answer"
}

# Waits until run $2 at $1 has ended (for at most $3 seconds); prints state, results, hosts, missing.
wait_run() {
  for _ in $(seq $((${3:-60} * 20))); do
    curl -s -b "$cookie" "$1/api/runs/$2" >"$work/run.json"
    if ! grep -q '"state":"running"' "$work/run.json" && grep -q '"state"' "$work/run.json"; then
      python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))["data"]; print(d["run"]["state"], d["run"]["results"], d["run"]["hosts"], len(d["missing"]))' "$work/run.json"
      return 0
    fi
    sleep 0.05
  done
  fail "run $2 did not end: $(head -c 500 "$work/run.json")"
}

echo
echo "== the API under load: 1,000 hosts, wrk for $SECONDS_EACH s a route (2 threads, 32 connections)"
port=$(free_port)
"$platform" demo --hosts 1000 --http "127.0.0.1:$port" --dir "$work/demo" >"$work/demo.out" 2>"$work/demo.log" &
pids+=($!)
wait_match "$work/demo.out" "Ctrl-C" 60
base=http://127.0.0.1:$port
login "$base" "$work/demo.out"
for _ in $(seq 300); do
  curl -s -b "$cookie" "$base/api/hosts?limit=1" | grep -q '"connected":1000' && break
  sleep 0.1
done
for route in /api/hosts /api/hosts/host-500 /hosts/host-500; do
  wrk -t2 -c32 -d"${SECONDS_EACH}s" -H "Cookie: $cookie" "$base$route" >"$work/wrk.out"
  ! grep -q "Non-2xx" "$work/wrk.out" || fail "$route: some answers were not 200: $(cat "$work/wrk.out")"
  printf '%-18s %s requests/s, latency %s (%s)\n' "$route" "$(awk '/Requests\/sec/ { print $2 }' "$work/wrk.out")" \
    "$(awk '/Latency/ { print $2 }' "$work/wrk.out")" "$(awk '/read$/ { print $1, "requests" }' "$work/wrk.out")"
done
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

# Starts `platform serve` on database $1 in directory $2 (with the options in serve_extra): sets
# serve_pid, base and control_addr.
serve_extra=()
start_serve() {
  local db=$1 dir=$2 port
  port=$(free_port)
  mkdir -p "$dir"
  local started
  started=$(grep -c '^platform on' "$dir/serve.out" 2>/dev/null || true)
  "$platform" serve --db "$db" --listen "127.0.0.1:$port" --control "127.0.0.1:${control_port:-0}" --dir "$dir" \
    --auto-accept "${serve_extra[@]}" >>"$dir/serve.out" 2>>"$dir/serve.log" &
  serve_pid=$!
  pids+=("$serve_pid")
  base=http://127.0.0.1:$port
  # Ready once it has said where it listens (with the admin's password on a first start, written
  # in the same flush): the HTTP port may answer a moment before.
  for _ in $(seq 300); do
    (($(grep -c '^platform on' "$dir/serve.out" 2>/dev/null || true) > ${started:-0})) && break
    kill -0 "$serve_pid" 2>/dev/null || { tail -n 20 "$dir/serve.log" >&2; fail "platform serve stopped at its start"; }
    sleep 0.1
  done
  (($(grep -c '^platform on' "$dir/serve.out" 2>/dev/null || true) > ${started:-0})) \
    || { tail -n 20 "$dir/serve.log" >&2; fail "platform serve said nothing in 30 s"; }
  control_addr=$(awk '/^control master on/ { print $4 }' "$dir/serve.out" | tail -n 1)
  master_key=$(awk '/^control master on/ { print $6 }' "$dir/serve.out" | tail -n 1 | tr -d ')')
  operator_key=$(awk '/^agents must trust/ { print $NF }' "$dir/serve.out" | tail -n 1)
}

# A swarm of $1 agents for the server just started (more options after): sets swarm_pid once all
# are connected.
start_swarm() {
  local count=$1
  shift
  "$control" swarm --agents "$count" --master "$control_addr" --master-key "$master_key" --operator "$operator_key" \
    "$@" >"$work/swarm.out" 2>"$work/swarm.log" &
  swarm_pid=$!
  pids+=("$swarm_pid")
  wait_match "$work/swarm.out" "agents connected" 120
}

echo
echo "== a command on $FLEET simulated hosts through the platform (control swarm in its own process)"
for backend in sqlite mariadb; do
  case $backend in
    sqlite) db="sqlite://$work/fleet-sqlite/platform.db" ;;
    mariadb) db=$(PLATFORM_MARIADB_URL=$url python3 - <<'PY'
import os, random
url = os.environ["PLATFORM_MARIADB_URL"]
print(url.rsplit("/", 1)[0] + "/platform_fleet_%d" % random.randrange(10**9))
PY
) ;;
  esac
  if [[ $backend == mariadb ]]; then
    # The URL's user may make databases named platform...: this run's is new.
    mariadb --no-defaults -h 127.0.0.1 -P "$(sed 's|.*:\([0-9]*\)/.*|\1|' <<<"$url")" -u platform -pplatform \
      -e "CREATE DATABASE ${db##*/}"
  fi
  start_serve "$db" "$work/fleet-$backend"
  login "$base" "$work/fleet-$backend/serve.out"
  start_swarm "$FLEET"
  sent=$(now)
  run=$(start_run "$base" "sim*")
  read -r state results hosts missing < <(wait_run "$base" "$run" 120)
  took=$(echo "$(now) - $sent" | bc)
  [[ $state == complete && $results == "$FLEET" && $hosts == "$FLEET" ]] || fail "$backend: run $run $state, $results of $hosts results"
  for _ in $(seq 100); do grep -q "run ended" "$work/fleet-$backend/serve.log" && break; sleep 0.05; done
  lag=$(sed -n 's/.*last_to_recorded_ms=\([0-9]*\).*/\1/p' "$work/fleet-$backend/serve.log" | tail -n 1)
  printf '%-8s %s hosts: request to run recorded complete %.2f s; last result to its commit %s ms (goal: under 2,000)\n' \
    "$backend" "$FLEET" "$took" "${lag:-?}"
  kill "$swarm_pid" "$serve_pid"; wait "$swarm_pid" "$serve_pid" 2>/dev/null || true
done

echo
echo "== kill -9 of platform serve mid-run, $KILLS times (200 hosts running /bin/sleep 1 as real processes)"
dir=$work/crash
control_port=$(free_port)
start_serve "sqlite://$dir/platform.db" "$dir"
login "$base" "$dir/serve.out"
printf '/bin/sleep\n' >"$work/allow"
start_swarm 200 --processes --allow "$work/allow"
complete=0; incomplete=0
for round in $(seq "$KILLS"); do
  run=$(start_run "$base" "sim*" /bin/sleep '["1"]')
  sleep 0.$((RANDOM % 5 + 2))
  kill -9 "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
  taken_before=$(grep -c "taken up" "$dir/serve.log" || true)
  start_serve "sqlite://$dir/platform.db" "$dir"
  login "$base" "$dir/serve.out"
  read -r state results hosts missing < <(wait_run "$base" "$run" 120)
  case $state in
    complete) [[ $results == "$hosts" && $missing == 0 ]] || fail "round $round: run $run complete with $results of $hosts" ; complete=$((complete + 1)) ;;
    incomplete) [[ $((results + missing)) == "$hosts" ]] || fail "round $round: run $run incomplete, $results results and $missing listed of $hosts" ; incomplete=$((incomplete + 1)) ;;
    *) fail "round $round: run $run $state" ;;
  esac
  for _ in $(seq 50); do grep -q "run ended" "$dir/serve.log" && break; sleep 0.1; done
  if (($(grep -c "taken up" "$dir/serve.log" || true) > taken_before)); then how="taken up by the restarted server"; else how="had ended before the kill"; fi
  echo "round $round: run $run $how; $state: $results results of $hosts, $missing hosts listed as missing"
done
echo "kill -9 mid-run: $complete runs completed after the restart, $incomplete ended incomplete with their missing hosts listed, none silently partial"

echo
echo "== a release rolled out to $RELEASE_FLEET simulated hosts in batches of 10 %, no bake (the platform's own overhead)"
kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null || true
control_port=
# Each host keeps its releases under its own working directory: the real ones below are processes
# of one machine.
serve_extra=(--host-releases releases)
# The release: three hooks that exit 0, and a file, packed as `platform pack` packs.
mkdir -p "$work/hello/bin" "$work/hello/share"
cat >"$work/hello/release.toml" <<'TOML'
name = "hello"
version = "1.0"
healthy_within_secs = 0

[hooks]
start = "bin/start"
stop = "bin/stop"
status = "bin/status"
TOML
for hook in start stop status; do
  printf '#!/bin/sh\necho "%s $RELEASE_VERSION" >> ../../../../events\n' "$hook" >"$work/hello/bin/$hook"
  chmod +x "$work/hello/bin/$hook"
done
echo "hello" >"$work/hello/share/greeting"
"$platform" pack "$work/hello" -o "$work/hello-1.0.tar.gz" >/dev/null

# Uploads the package at $2 to the platform at $1.
upload_release() {
  python3 -c 'import base64, json, sys; print(json.dumps({"package": base64.b64encode(open(sys.argv[1], "rb").read()).decode()}))' \
    "$2" >"$work/upload.json"
  curl -s -b "$cookie" -H "x-csrf-token: $csrf" -H 'content-type: application/json' -d @"$work/upload.json" \
    "$1/api/releases" | grep -q '"status":"success"' || fail "the release was not uploaded"
}
# Rolls hello 1.0 out at $1 on target $2 with the JSON strategy fields $3; waits for it to end and
# prints its state, how many hosts are done, and how many batches it had.
roll_out() {
  local answer id
  answer=$(curl -s -b "$cookie" -H "x-csrf-token: $csrf" -H 'content-type: application/json' \
    -d "{\"target\":\"$2\",$3}" "$1/api/releases/hello/1.0/deployments")
  id=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["data"]["id"])' "$answer" 2>/dev/null) || fail "rollout refused: $answer"
  for _ in $(seq 6000); do
    curl -s -b "$cookie" "$1/api/deployments/$id" >"$work/deployment.json"
    if grep -q '"state"' "$work/deployment.json" && ! grep -q '"deployment":{[^}]*"state":"\(running\|paused\)"' "$work/deployment.json"; then
      python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))["data"]; h = d["hosts"]; print(d["deployment"]["state"], sum(x["state"] == "done" for x in h), max(x["batch"] for x in h) + 1)' "$work/deployment.json"
      return 0
    fi
    sleep 0.02
  done
  fail "rollout $id did not end: $(head -c 500 "$work/deployment.json")"
}

start_serve "sqlite://$work/release-sim/platform.db" "$work/release-sim"
login "$base" "$work/release-sim/serve.out"
upload_release "$base" "$work/hello-1.0.tar.gz"
printf '%s\n' "$platform" >"$work/allow-platform"
start_swarm "$RELEASE_FLEET" --allow "$work/allow-platform"
sent=$(now)
read -r state done batches < <(roll_out "$base" "sim*" '"canary":0,"batch":"10%","bake_secs":0')
took=$(echo "$(now) - $sent" | bc)
[[ $state == succeeded && $done == "$RELEASE_FLEET" ]] || fail "rollout to the swarm $state, $done of $RELEASE_FLEET hosts done"
printf '%s simulated hosts in %s batches: request to rollout recorded succeeded %.2f s (goal: under 5 s), %.0f ms a batch\n' \
  "$RELEASE_FLEET" "$batches" "$took" "$(echo "$took * 1000 / $batches" | bc -l)"
kill "$swarm_pid" "$serve_pid"; wait "$swarm_pid" "$serve_pid" 2>/dev/null || true

echo
echo "== the same release to $REAL_HOSTS real hosts: platform agent processes against Ansible's rolling update over OpenSSH"
start_serve "sqlite://$work/release-real/platform.db" "$work/release-real"
login "$base" "$work/release-real/serve.out"
upload_release "$base" "$work/hello-1.0.tar.gz"
relay_addr=$(awk '/^monitoring relay on/ { print $4 }' "$work/release-real/serve.out" | tail -n 1)
agents=()
for n in $(seq "$REAL_HOSTS"); do
  dir=$work/real/host-$n
  mkdir -p "$dir"
  (cd "$dir" && exec "$platform" agent --id "real-$n" --master "$control_addr" --master-key "$master_key" \
    --operator-key "$operator_key" --relay "$relay_addr" --allow "$work/allow-platform" --scripts scripts \
    --spool spool --tag role=web >agent.out 2>agent.log) &
  agents+=($!)
  pids+=($!)
done
for _ in $(seq 600); do
  curl -s -b "$cookie" "$base/api/hosts?limit=1" | grep -q "\"connected\":$REAL_HOSTS" && break
  sleep 0.1
done
curl -s -b "$cookie" "$base/api/hosts?limit=1" | grep -q "\"connected\":$REAL_HOSTS" || fail "not every agent connected"
sent=$(now)
read -r state done batches < <(roll_out "$base" "real-*" '"canary":0,"batch":"10%","bake_secs":0')
platform_took=$(echo "$(now) - $sent" | bc)
[[ $state == succeeded && $done == "$REAL_HOSTS" ]] || fail "rollout to the agents $state, $done of $REAL_HOSTS hosts done"
for n in $(seq "$REAL_HOSTS"); do
  [[ $(readlink "$work/real/host-$n/releases/hello/current" 2>/dev/null) == 1.0 ]] || fail "host-$n: 1.0 is not current"
done
kill "${agents[@]}" "$serve_pid"; wait "${agents[@]}" "$serve_pid" 2>/dev/null || true

# Ansible: an sshd of its own on a free port, $REAL_HOSTS inventory hosts on it, and a play that
# does what the deploy routine does, `serial: 10%`.
mkdir -p "$work/ansible"
start_sshd "$work/ssh"
{
  echo "[web]"
  for n in $(seq "$REAL_HOSTS"); do
    echo "ansible-$n ansible_host=127.0.0.1 ansible_port=$ssh_port ansible_user=$(id -un) ansible_ssh_private_key_file=$work/ssh/id"
  done
} >"$work/ansible/inventory"
cat >"$work/ansible/release.yml" <<YAML
- hosts: web
  serial: "10%"
  gather_facts: false
  vars:
    service: "$work/ansible/hosts/{{ inventory_hostname }}/releases/hello"
  tasks:
    - name: download and unpack
      ansible.builtin.file: { path: "{{ service }}/1.0/files", state: directory }
    - ansible.builtin.unarchive: { src: "$work/hello-1.0.tar.gz", dest: "{{ service }}/1.0/files" }
    - name: verify
      ansible.builtin.stat: { path: "{{ service }}/1.0/files/bin/start", checksum_algorithm: sha256 }
    - name: switch
      ansible.builtin.file: { src: "1.0", dest: "{{ service }}/current", state: link }
    - name: start
      ansible.builtin.command: { cmd: ./bin/start, chdir: "{{ service }}/current/files" }
    - name: status
      ansible.builtin.command: { cmd: ./bin/status, chdir: "{{ service }}/current/files" }
YAML
sent=$(now)
ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_SSH_ARGS='-o UserKnownHostsFile=/dev/null -o ControlMaster=auto -o ControlPersist=60s' \
  ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ANSIBLE_NOCOLOR=1 ANSIBLE_LOCAL_TEMP="$work/ansible/tmp" \
  ANSIBLE_SSH_CONTROL_PATH_DIR="$work/ansible/cp" \
  ansible-playbook -i "$work/ansible/inventory" "$work/ansible/release.yml" >"$work/ansible/play.log" 2>&1 ||
  { tail -20 "$work/ansible/play.log" >&2; fail "ansible-playbook failed"; }
ansible_took=$(echo "$(now) - $sent" | bc)
# Ansible keeps its SSH connections open for a minute after the play (ControlPersist, its
# default): close them now, so nothing of this run outlives it.
for socket in "$work"/ansible/cp/*; do
  [[ -S $socket ]] && ssh -o ControlPath="$socket" -O exit placeholder >/dev/null 2>&1 || true
done
for n in $(seq "$REAL_HOSTS"); do
  [[ $(readlink "$work/ansible/hosts/ansible-$n/releases/hello/current" 2>/dev/null) == 1.0 ]] || fail "ansible-$n: 1.0 is not current"
done
printf '%s hosts, batches of 10 %%: platform %.2f s (%.0f ms a host), Ansible over OpenSSH %.2f s (%.0f ms a host): Ansible/platform %.1f\n' \
  "$REAL_HOSTS" "$platform_took" "$(echo "$platform_took * 1000 / $REAL_HOSTS" | bc -l)" \
  "$ansible_took" "$(echo "$ansible_took * 1000 / $REAL_HOSTS" | bc -l)" "$(echo "$ansible_took / $platform_took" | bc -l)"

echo
echo "== failover: kill -9 of the leading platform serve, $FAILOVERS times a lease, the standby taking over on the same addresses"
# The microseconds since the epoch, without a process of their own.
micros() { local t=${EPOCHREALTIME/[.,]/}; echo "$((10#$t))"; }
# The fencing token in out file $1 (each process start has its own, with one leadership at most).
token_in() { sed -n 's/.* leads, with the fencing token \([0-9][0-9]*\).*/\1/p' "$1" | tail -n 1; }
# Starts `platform serve` as node $1 with the options in failover_args, its output in a file of
# this start's own: sets node_pid[$1] (emptied once it is killed) and node_out[$1].
declare -A node_pid node_out
node_starts=0
start_node() {
  node_starts=$((node_starts + 1))
  node_out[$1]=$fdir/$1-$node_starts.out
  "$platform" serve "${failover_args[@]}" --node "$1" >"${node_out[$1]}" 2>"${node_out[$1]%.out}.log" &
  node_pid[$1]=$!
  pids+=("${node_pid[$1]}")
}
for kind in embedded etcd; do
  fdir=$work/failover-$kind
  mkdir -p "$fdir"
  case $kind in
    embedded) lease=embedded ;;
    etcd) lease="etcd://$etcd/platform-compare/leader-$RANDOM$RANDOM?ttl=1" ;;
  esac
  port=$(free_port)
  failover_args=(--db "sqlite://$fdir/records.db" --dir "$fdir/data" --listen "127.0.0.1:$port"
    --control "127.0.0.1:$(free_port)" --relay "127.0.0.1:$(free_port)" --auto-accept --lease "$lease")
  fbase=http://127.0.0.1:$port
  start_node a
  wait_match "${node_out[a]}" '^platform on' 60
  start_node b
  leader=a
  standby=b
  took_ms=()
  tokens=("$(token_in "${node_out[a]}")")
  for round in $(seq "$FAILOVERS"); do
    # The standby killed as the leader the round before starts again, and stands by.
    [[ -n ${node_pid[$standby]} ]] || start_node "$standby"
    wait_match "${node_out[$standby]}" '^standing by' 30
    wait_match "${node_out[$leader]}" '^platform on' 30
    old=$(token_in "${node_out[$leader]}")
    [[ -n $old ]] || fail "$kind, round $round: $leader serves without a fencing token"
    killed=$(micros)
    kill -9 "${node_pid[$leader]}"
    wait "${node_pid[$leader]}" 2>/dev/null || true
    node_pid[$leader]=
    code=
    while (($(micros) - killed < 15000000)); do
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$fbase/api/me" || true)
      [[ $code == 401 ]] && break
      sleep 0.01
    done
    taken=$(($(micros) - killed))
    [[ $code == 401 ]] || { tail -n 20 "${node_out[$standby]%.out}.log" >&2; fail "$kind, round $round: nothing served on $fbase within 15 s of the leader's death (last answer: ${code:-none})"; }
    took_ms+=("$(echo "scale=1; $taken / 1000" | bc)")
    wait_match "${node_out[$standby]}" '^platform on' 30
    new=$(token_in "${node_out[$standby]}")
    if [[ -z $new ]] || ((new <= old)); then
      fail "$kind, round $round: $standby leads with the fencing token ${new:-none}, after $leader's $old"
    fi
    tokens+=("$new")
    read -r leader standby <<<"$standby $leader"
  done
  for node in a b; do
    [[ -z ${node_pid[$node]} ]] || { kill "${node_pid[$node]}"; wait "${node_pid[$node]}" 2>/dev/null || true; }
  done
  python3 - "$kind" "${tokens[0]}" "${tokens[-1]}" "${took_ms[@]}" <<'PY'
import math, sys
kind, first, last, samples = sys.argv[1], sys.argv[2], sys.argv[3], sorted(map(float, sys.argv[4:]))
n = len(samples)
median = (samples[(n - 1) // 2] + samples[n // 2]) / 2
# The nearest rank: of 100 samples or fewer, the 99th percentile is the greatest.
p99 = samples[math.ceil(0.99 * n) - 1]
note = " (of %d samples, their max)" % n if n <= 100 else ""
lease = "the lock file" if kind == "embedded" else "etcd, ttl 1 s"
print("%-8s %d failovers, kill -9 to 401 on the same address: median %.0f ms, p99 %.0f ms%s; min %.0f ms, max %.0f ms (%s); fencing tokens %s to %s, greater each time"
      % (kind, n, median, p99, note, samples[0], samples[-1], lease, first, last))
PY
done
