#!/usr/bin/env bash
# Measures the reference `monitor agent` against Prometheus's node_exporter on this machine, side by
# side in one run:
#
#   1. values: node_exporter and the agent read the same /proc at the same moments (the agent reads
#      at multiples of its step since the epoch; this script scrapes node_exporter at the same
#      multiples), with one core kept busy so that the CPU has something to show. CPU busy %
#      (total), available memory, the 1-minute load, every filesystem's free and available bytes,
#      and every interface's byte rates (with a steady 4 MB/s on the loopback one) must agree within the tolerances the chapter states;
#   2. cost: the agent collecting every second, and node_exporter scraped every second, for the
#      same number of readings: each one's resident memory (VmRSS) and CPU time per reading;
#   3. Prometheus: the agent's /metrics page passes `promtool check metrics`, and a real Prometheus
#      scraping it answers a query with the agent's value.
#
#   bash solutions/08-monitor/compare.sh              # 5 s step, 3 intervals compared, 20 readings
#   STEP=2 INTERVALS=2 READINGS=10 bash solutions/08-monitor/compare.sh   # a quick run
#
# Needs prometheus-node-exporter, prometheus (for promtool and the server) and python3 (Debian:
# apt-get install prometheus-node-exporter prometheus).
# Exits 1 only on a disagreement past a tolerance, never because of a time.
set -euo pipefail
cd "$(dirname "$0")/../.."

step=${STEP:-5}
intervals=${INTERVALS:-3}
readings=${READINGS:-20}
node_exporter=${NODE_EXPORTER:-$(command -v prometheus-node-exporter || command -v node_exporter || echo /usr/bin/prometheus-node-exporter)}
[ -x "$node_exporter" ] || { echo "compare.sh: prometheus-node-exporter is needed" >&2; exit 2; }
command -v python3 >/dev/null || { echo "compare.sh: python3 is needed" >&2; exit 2; }
prometheus=${PROMETHEUS:-$(command -v prometheus || echo /usr/bin/prometheus)}
promtool=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}
[ -x "$prometheus" ] && [ -x "$promtool" ] || { echo "compare.sh: prometheus and promtool are needed" >&2; exit 2; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
# Named by target, not by package: the workspace's default members then choose the features, as for
# every other release build of the course, so one build serves them all (see .ci/run).
cargo build --quiet --release --bin monitor-ref
agent=$CARGO_TARGET_DIR/release/monitor-ref

. solutions/08-monitor/compare-lib.sh
work_dir monitor-compare

port=$(free_port)
# Debian's node_exporter leaves out the loopback interface by default; the comparison wants it, as
# the one interface with traffic this script controls.
"$node_exporter" --web.listen-address="127.0.0.1:$port" --collector.netdev.device-exclude='^$' \
  >"$work/node_exporter.log" 2>&1 &
pids+=($!)
node_pid=$!
"$node_exporter" --version 2>&1 | head -1

# One core busy for the whole comparison: CPU % is then far from 0 and steady.
python3 -c 'import time
end = time.time() + 600
while time.time() < end: pass' &
pids+=($!)
# A steady 4 MB/s across the loopback interface, so that its byte rates are far from 0 too.
python3 -c 'import socket, threading, time
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(1)
client = socket.create_connection(server.getsockname()); peer, _ = server.accept()
threading.Thread(target=lambda: [peer.recv(1 << 16) for _ in iter(int, 1)], daemon=True).start()
chunk, end = b"x" * 40_000, time.time() + 600
while time.time() < end:
    client.sendall(chunk); time.sleep(0.01)' &
pids+=($!)

python3 - "$agent" "$port" "$node_pid" "$step" "$intervals" "$readings" "$work" <<'EOF'
import math, os, re, subprocess, sys, time, urllib.request

agent, port, node_pid, step, intervals, readings, work = sys.argv[1:]
step, intervals, readings, node_pid = int(step), int(intervals), int(readings), int(node_pid)
url = f"http://127.0.0.1:{port}/metrics"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

def scrape():
    for attempt in range(50):
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                text = answer.read().decode()
            break
        except OSError:
            time.sleep(0.1)  # node_exporter is starting
    else:
        sys.exit("compare.sh: node_exporter does not answer")
    values = {}
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if match:
            labels = tuple(sorted(LABEL.findall(match.group(3) or "")))
            values[(match.group(1), labels)] = float(match.group(4))
    return values

def node_cpu_busy(before, after):
    idle = total = 0.0
    for (name, labels), value in after.items():
        if name == "node_cpu_seconds_total":
            delta = value - before.get((name, labels), value)
            total += delta
            if dict(labels).get("mode") == "idle":
                idle += delta
    return 100.0 * (1 - idle / total) if total else float("nan")

def node_rate(before, after, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    return (after[key] - before[key]) / step

def node_value(values, name, **labels):
    return values[(name, tuple(sorted(labels.items())))]

def wait_for_tick():
    """Sleeps until the next multiple of the step since the epoch, as the agent's scheduler does."""
    now = time.time()
    tick = (math.floor(now / step) + 1) * step
    time.sleep(tick - now)
    return int(tick * 1000)

POINT = re.compile(r'^(\S+) ([^{\s]+)(\{([^}]*)\})? (\d+) (\S+) (\w+)$')

def agent_points(lines):
    points = {}
    for line in lines:
        match = POINT.match(line)
        if match:
            tags = tuple(sorted(tuple(t.split("=", 1)) for t in (match.group(4) or "").split(",") if t))
            points[(int(match.group(5)), match.group(2), tags)] = float(match.group(6))
    return points

# 1. values, at the same ticks
out = open(os.path.join(work, "agent.out"), "w+")
proc = subprocess.Popen([agent, "agent", "--host", "compare", "--step", str(step)], stdout=out, stderr=subprocess.DEVNULL)
ticks, scrapes = [], []
wait_for_tick()  # the agent's first reading primes its rates
for _ in range(intervals + 1):
    ticks.append(wait_for_tick())
    scrapes.append(scrape())
time.sleep(min(1.0, step / 2))  # the agent prints the last tick's points
proc.terminate()
proc.wait()
out.seek(0)
points = agent_points(out.read().splitlines())

rows, failures = [], 0
def check(what, ours, theirs, tolerance, relative):
    global failures
    diff = abs(ours - theirs)
    limit = tolerance * abs(theirs) if relative else tolerance
    ok = diff <= limit
    failures += not ok
    unit = f"{tolerance:.0%}" if relative else f"{tolerance:g}"
    rows.append(f"  {'ok ' if ok else 'BAD'} {what:<44} agent {ours:>16.6g}   node_exporter {theirs:>16.6g}   (tolerance {unit})")

for i in range(1, len(ticks)):
    tick, before, after = ticks[i], scrapes[i - 1], scrapes[i]
    get = lambda metric, **tags: points.get((tick, metric, tuple(sorted(tags.items()))))
    busy = get("cpu.busy")
    if busy is None:
        print(f"the agent printed no cpu.busy for tick {tick}"); failures += 1; continue
    check(f"[{i}] cpu.busy %", busy, node_cpu_busy(before, after), 3.0, False)
    check(f"[{i}] mem.available bytes", get("mem.available"), node_value(after, "node_memory_MemAvailable_bytes"), 0.02, True)
    check(f"[{i}] load.1min", get("load.1min"), node_value(after, "node_load1"), 0.25, False)
    for (metric, tags), value in [((m, t), v) for (t0, m, t), v in points.items() if t0 == tick and m in ("df.bytes.free", "df.bytes.avail")]:
        mount = dict(tags).get("mount")
        name = {"df.bytes.free": "node_filesystem_free_bytes", "df.bytes.avail": "node_filesystem_avail_bytes"}[metric]
        theirs = [v for (n, labels), v in after.items() if n == name and dict(labels).get("mountpoint") == mount]
        if theirs:
            check(f"[{i}] {metric}{{mount={mount}}}", value, theirs[0], 0.01, True)
    for metric, name in [("net.if.in.bytes", "node_network_receive_bytes_total"), ("net.if.out.bytes", "node_network_transmit_bytes_total")]:
        # Every interface both report. A scrape itself crosses the loopback interface (tens of
        # kB): an absolute slack as well as a relative one.
        for (t0, m, tags), ours in points.items():
            iface = dict(tags).get("iface")
            if t0 == tick and m == metric and (name, (("device", iface),)) in after:
                theirs = node_rate(before, after, name, device=iface)
                check(f"[{i}] {metric}{{iface={iface}}} B/s", ours, theirs, max(0.15 * theirs, 40_000 / step), False)
print("values, agent against node_exporter at the same ticks:")
print("\n".join(rows))

# 2. cost per reading
def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0

proc = subprocess.Popen([agent, "agent", "--host", "compare", "--step", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(2.5)
start = cpu_seconds(proc.pid)
time.sleep(readings)
agent_cpu, agent_rss = (cpu_seconds(proc.pid) - start) / readings, rss_kib(proc.pid)
proc.terminate()
proc.wait()
start = cpu_seconds(node_pid)
for _ in range(readings):
    begun = time.time()
    scrape()
    time.sleep(max(0.0, 1 - (time.time() - begun)))
node_cpu, node_rss = (cpu_seconds(node_pid) - start) / readings, rss_kib(node_pid)
print(f"cost per reading over {readings} readings, one a second:")
print(f"  agent          CPU {agent_cpu * 1000:7.2f} ms   RSS {agent_rss / 1024:6.1f} MiB")
print(f"  node_exporter  CPU {node_cpu * 1000:7.2f} ms   RSS {node_rss / 1024:6.1f} MiB")
print(f"  agent / node_exporter: CPU {agent_cpu / node_cpu if node_cpu else float('nan'):.2f}, RSS {agent_rss / node_rss if node_rss else float('nan'):.2f}")
if failures:
    sys.exit(f"compare.sh: {failures} value(s) disagree past their tolerance")
EOF

# 3. Prometheus scrapes the agent.
metrics_port=$(free_port)
prom_port=$(free_port)
"$agent" agent --host compare --step 1 --metrics "127.0.0.1:$metrics_port" >/dev/null 2>"$work/agent.log" &
pids+=($!)
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: agent
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
YAML
"$prometheus" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
python3 - "$metrics_port" "$prom_port" "$promtool" <<'PY'
import json, subprocess, sys, time, urllib.parse, urllib.request
metrics_port, prom_port, promtool = sys.argv[1:]
def get(url):
    with urllib.request.urlopen(url, timeout=5) as answer:
        return answer.read()
deadline = time.time() + 60
page = None
while time.time() < deadline:
    try:
        page = get(f"http://127.0.0.1:{metrics_port}/metrics")
        if b"cpu_busy" in page:
            break
    except OSError:
        pass
    time.sleep(0.2)
if not page or b"cpu_busy" not in page:
    sys.exit("compare.sh: the agent's /metrics page never showed cpu_busy")
check = subprocess.run([promtool, "check", "metrics"], input=page, capture_output=True)
print(f"promtool check metrics on the agent's page ({len(page)} bytes, {page.count(b'# TYPE')} metrics): "
      + ("passed" if check.returncode == 0 else "FAILED"))
if check.returncode != 0:
    sys.exit((check.stdout + check.stderr).decode())
query = urllib.parse.quote('cpu_busy{job="agent"}')
while time.time() < deadline:
    try:
        answer = json.loads(get(f"http://127.0.0.1:{prom_port}/api/v1/query?query={query}"))
        result = answer["data"]["result"]
        if result:
            print(f"Prometheus scraped the agent: cpu_busy = {result[0]['value'][1]}")
            break
    except OSError:
        pass
    time.sleep(0.5)
else:
    sys.exit("compare.sh: Prometheus never had the agent's cpu_busy")
PY
