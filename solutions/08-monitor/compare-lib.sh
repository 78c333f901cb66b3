# What the lab's compare scripts share, sourced by each after its `cd` to the course's root: a
# work directory removed on exit with every process started, and waits with a deadline.
#
#   work_dir NAME      makes $work, and on exit kills every pid in $pids and removes $work
#                      (kept, and said, when KEEP is set)
#   fail MESSAGE...    says what went wrong, as the script, and exits 1
#   free_port          a free port of 127.0.0.1
#   wait_http URL      until URL answers, for at most 30 s
#   wait_lines FILE N [S]   until FILE has N lines (a server saying where it listens), for S s (30)
#   wait_match FILE PATTERN [S]   until a line of FILE matches PATTERN, for S s (30); on failure
#                      prints FILE and the .log beside a .out
#   wait_exit PID      until PID has exited, for at most 60 s
#   start_sshd DIR     an sshd of its own (root needed) on a free port of 127.0.0.1, its keys and
#                      configuration in DIR, letting in the key DIR/id: sets ssh_port and
#                      ssh_options (what ssh needs to log in with that key, asking nothing)

script=${0##*/}
pids=()

work_dir() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  trap cleanup EXIT
}

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "$script: files kept in $work" >&2; else rm -rf "$work"; fi
}

fail() {
  echo "$script: $*" >&2
  exit 1
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_http() {
  for _ in $(seq 300); do
    python3 -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "$1 does not answer"
}

wait_lines() {
  local file=$1 lines=$2 limit=${3:-30}
  for _ in $(seq $((limit * 10))); do
    [ -f "$file" ] && [ "$(wc -l <"$file")" -ge "$lines" ] && return 0
    sleep 0.1
  done
  cat "$work"/*.log >&2 || true
  fail "nothing in $file after $limit s"
}

wait_match() {
  local file=$1 pattern=$2 limit=${3:-30}
  for _ in $(seq $((limit * 10))); do
    grep -q "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$file" "${file%.out}.log" >&2 2>/dev/null || true
  fail "nothing like '$pattern' in $file after $limit s"
}

wait_exit() {
  for _ in $(seq 600); do
    kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  fail "process $1 did not stop within 60 s"
}

start_sshd() {
  local dir=$1
  mkdir -p "$dir" /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$dir/host"
  ssh-keygen -q -t ed25519 -N '' -f "$dir/id"
  cp "$dir/id.pub" "$dir/authorized_keys"
  chmod 600 "$dir/authorized_keys"
  ssh_port=$(free_port)
  cat >"$dir/sshd_config" <<SSHD
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $dir/host
AuthorizedKeysFile $dir/authorized_keys
PidFile $dir/sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 1000
MaxSessions 1000
PerSourceMaxStartups none
UseDNS no
PermitRootLogin prohibit-password
SSHD
  /usr/sbin/sshd -f "$dir/sshd_config" -D -e 2>"$dir/sshd.log" &
  pids+=($!)
  local _
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$ssh_port") 2>/dev/null && break; sleep 0.1; done
  ssh_options="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -i $dir/id"
}
