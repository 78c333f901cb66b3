#!/usr/bin/env bash
# Measures the reference `superd` next to Debian's `start-stop-daemon`: how long `start` and `stop`
# take, how fast a killed command is back (superd only: start-stop-daemon does not supervise), and
# the supervisor's memory. Prints the daemon's /proc/PID/maps for the chapter's memory-layout
# section. Each time is the median of ROUNDS runs.
#
#   bash solutions/05-daemon/compare.sh            # 20 rounds
#   ROUNDS=5 bash solutions/05-daemon/compare.sh
#
# Needs start-stop-daemon (Debian: dpkg) and python3. Exits 1 only if a run fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v start-stop-daemon >/dev/null || { echo "compare.sh: start-stop-daemon is needed" >&2; exit 2; }
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
# Named by target, not by package: the workspace's default members then choose the features, as for
# every other release build of the course, so one build serves them all (see .ci/run).
cargo build --quiet --release --bin superd-ref
SUPERD=$CARGO_TARGET_DIR/release/superd-ref ROUNDS=${ROUNDS:-20} python3 - <<'PY'
import os, signal, statistics, subprocess, tempfile, time

superd, rounds = os.environ["SUPERD"], int(os.environ["ROUNDS"])
work = tempfile.mkdtemp(prefix="superd-compare-")
pidfile, log = os.path.join(work, "d.pid"), os.path.join(work, "d.log")

def run(*args):
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start

def children(pid):
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                fields = open(f"/proc/{name}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == str(pid) and fields[0] != "Z":
                found.append(int(name))
    return found

def wait_for(condition, limit=10.0):
    deadline = time.perf_counter() + limit
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit("compare.sh: timed out")

def pid():
    return int(open(pidfile).read())

def ms(values):
    return f"{statistics.median(values) * 1000:.2f} ms"

rows = {}
# superd: start (returns when the daemon is ready), stop (returns when it is gone).
starts, stops, restarts = [], [], []
for _ in range(rounds):
    starts.append(run(superd, "start", "--pidfile", pidfile, "--log", log, "--backoff-ms", "1",
                      "--restart-max", "1000", "--", "sleep", "1000"))
    daemon = pid()
    wait_for(lambda: len(children(daemon)) == 1)
    child = children(daemon)[0]
    t0 = time.perf_counter()
    os.kill(child, signal.SIGKILL)
    wait_for(lambda: any(c != child for c in children(daemon)))
    restarts.append(time.perf_counter() - t0)
    stops.append(run(superd, "stop", "--pidfile", pidfile))
# The supervisor's memory, once.
run(superd, "start", "--pidfile", pidfile, "--log", log, "--", "sleep", "1000")
daemon = pid()
# Once the command runs, its output thread does too: the supervisor at rest.
wait_for(lambda: "started pid" in open(log).read().split("stopped")[-1])
wait_for(lambda: len(os.listdir(f"/proc/{daemon}/task")) == 2)
status = dict(line.split(":", 1) for line in open(f"/proc/{daemon}/status"))
rss, vsz = status["VmRSS"].strip(), status["VmSize"].strip()
maps = open(f"/proc/{daemon}/maps").read()
run(superd, "stop", "--pidfile", pidfile)

# start-stop-daemon: --background forks once and returns; --make-pidfile writes the pid.
ssd_starts, ssd_stops = [], []
for _ in range(rounds):
    ssd_starts.append(run("start-stop-daemon", "--start", "--background", "--make-pidfile",
                          "--pidfile", pidfile, "--exec", "/bin/sleep", "--", "1000"))
    ssd_stops.append(run("start-stop-daemon", "--stop", "--pidfile", pidfile, "--retry", "TERM/5/KILL/1",
                         "--remove-pidfile"))

print(f"rounds: {rounds}")
print("| tool | start | stop | restart after kill -9 | supervisor RSS |")
print("|---|---:|---:|---:|---:|")
print(f"| superd-ref | {ms(starts)} | {ms(stops)} | {ms(restarts)} (backoff 1 ms) | {rss} (VmSize {vsz}, 2 threads) |")
print(f"| start-stop-daemon | {ms(ssd_starts)} | {ms(ssd_stops)} | no supervision | none |")
print()
print("/proc/PID/maps of a running superd-ref:")
print(maps)
PY
