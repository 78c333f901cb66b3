#!/usr/bin/env bash
# The judge and the alarm against Prometheus and Alertmanager, side by side in one run:
#
#   1. alert semantics: each vector of the chapter (one value a minute, `_` for a minute with no
#      sample) goes through our judge's `all(#3) > 90` and through Prometheus's rule
#      `cpu_busy > 90` with `for: 2m` (evaluated every minute, by `promtool test rules`). On the
#      vectors without a gap both must fire at the same minute and stop at the same minute; on
#      those with a gap they must differ exactly as the chapter says (Prometheus carries the last
#      value through a gap of up to 5 minutes; our judge starts the run again after two steps);
#   2. delivery: `monitor alarm` with an Alertmanager receiver posts a problem and its recovery to
#      a real Alertmanager, whose webhook receiver (a small server here) must get the alert
#      firing, then resolved, with our labels; the time from our post to Alertmanager's webhook is
#      printed;
#   3. our own goals, end to end through a relay, two judge shards and the alarm (the `alerts`
#      example): the webhook's latency from each alert's deciding sample (median and p99, against
#      the step), and a storm of SERIES (10,000) series breaching at once, after which a receiver
#      limited to 10 a window must get exactly 10 alerts and one summary of the rest.
#
#   bash solutions/08-monitor/compare-alerts.sh
#
# Needs prometheus (for promtool), prometheus-alertmanager and python3 (Debian: apt-get install
# prometheus prometheus-alertmanager). Exits 1 only on a disagreement, never because of a time.
set -euo pipefail
cd "$(dirname "$0")/../.."

promtool=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}
alertmanager=${ALERTMANAGER:-$(command -v prometheus-alertmanager || command -v alertmanager || echo /usr/bin/prometheus-alertmanager)}
[ -x "$promtool" ] || { echo "compare-alerts.sh: promtool (Debian's prometheus) is needed" >&2; exit 2; }
[ -x "$alertmanager" ] || { echo "compare-alerts.sh: prometheus-alertmanager is needed" >&2; exit 2; }
command -v python3 >/dev/null || { echo "compare-alerts.sh: python3 is needed" >&2; exit 2; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
# Named by target, not by package: the workspace's default members then choose the features, as for
# every other release build of the course, so one build serves them all (see .ci/run).
cargo build --quiet --release --bin monitor-ref --example vectors --example alerts
monitor=$CARGO_TARGET_DIR/release/monitor-ref
vectors=$CARGO_TARGET_DIR/release/examples/vectors
alerts=$CARGO_TARGET_DIR/release/examples/alerts

. solutions/08-monitor/compare-lib.sh
work_dir monitor-alerts

# ------------------------------------------------------------------------------------------------
# 1. The same vectors through both rules.

python3 - "$promtool" "$vectors" "$work" <<'EOF'
import re, subprocess, sys
promtool, vectors, work = sys.argv[1:]

# name: (values a minute, same in both?)
VECTORS = {
    "three breaches":          ("95 96 97 98", True),
    "a low value in the run":  ("95 96 80 97 98 99", True),
    "a recovery":              ("95 96 97 80 70", True),
    "never three":             ("95 80 96 80 97 80", True),
    "a gap of 180 s":          ("95 96 _ _ 97 80", False),
    "a gap of 120 s":          ("95 96 _ 97 80", False),
}

# Ours: the minutes our alert is in PROBLEM, from its PROBLEM to its OK.
lines = "".join(f"v{i} cpu.busy all(#3) > 90 | {values}\n" for i, (values, _) in enumerate(VECTORS.values()))
ours_out = subprocess.run([vectors], input=lines, capture_output=True, text=True, check=True).stdout.splitlines()
ours = {}
for (name, (values, _)), line in zip(VECTORS.items(), ours_out):
    minutes = len(values.split())
    firing, since = set(), None
    for alert in line.split()[1:]:
        status, minute = alert.split("@")
        if status == "PROBLEM":
            since = int(minute)
        elif since is not None:
            firing |= set(range(since, int(minute)))
            since = None
    if since is not None:
        firing |= set(range(since, minutes))
    ours[name] = firing

# Prometheus: promtool's unit tests, every minute expecting no alert; its failures say which fire.
with open(f"{work}/rules.yml", "w") as rules:
    rules.write("groups:\n- name: compare\n  interval: 1m\n  rules:\n"
                "  - alert: CpuBusy\n    expr: cpu_busy > 90\n    for: 2m\n")
theirs = {}
for name, (values, _) in VECTORS.items():
    minutes = len(values.split())
    tests = "".join(f"  - {{eval_time: {m}m, alertname: CpuBusy, exp_alerts: []}}\n" for m in range(minutes))
    with open(f"{work}/test.yml", "w") as test:
        test.write("rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n- interval: 1m\n"
                   "  input_series:\n  - series: 'cpu_busy{host=\"web1\"}'\n"
                   f"    values: '{values}'\n  alert_rule_test:\n{tests}")
    run = subprocess.run([promtool, "test", "rules", "test.yml"], cwd=work, capture_output=True, text=True)
    theirs[name] = {int(m) for m in re.findall(r"alertname: CpuBusy, time: (\d+)m,\s*\n\s*exp:\[\],\s*\n\s*got:\[\s*\n\s*0:", run.stdout + run.stderr)}

def show(minutes):
    return ",".join(str(m) for m in sorted(minutes)) or "none"

print(f"{'vector (a value a minute)':<44} {'judge all(#3) > 90':>20} {'Prometheus for: 2m':>20}")
disagree = []
for name, (values, same) in VECTORS.items():
    print(f"{name + ': ' + values:<44} {show(ours[name]):>20} {show(theirs[name]):>20}")
    if (ours[name] == theirs[name]) != same:
        disagree.append(name)
if disagree:
    sys.exit(f"compare-alerts.sh: the rules disagree unexpectedly on: {', '.join(disagree)}")
print("the same minutes where the chapter says so; on a gap Prometheus carries the last value, the judge starts again")
EOF

# ------------------------------------------------------------------------------------------------
# 2. Our alarm through a real Alertmanager.

hook_port=$(free_port)
am_port=$(free_port)
alarm_port=$(free_port)

python3 - "$hook_port" "$work/hook.jsonl" <<'EOF' &
import http.server, json, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with open(out, "a") as f:
            f.write(json.dumps({"received": time.time(), "body": body}) + "\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *args): pass
http.server.HTTPServer(("127.0.0.1", port), Hook).serve_forever()
EOF
pids+=($!)

cat >"$work/alertmanager.yml" <<EOF
route:
  receiver: hook
  group_by: [alertname, host]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: hook
  webhook_configs:
  - url: http://127.0.0.1:$hook_port/
    send_resolved: true
EOF
"$alertmanager" --config.file="$work/alertmanager.yml" --storage.path="$work/am" \
  --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= \
  >"$work/alertmanager.log" 2>&1 &
pids+=($!)
"$alertmanager" --version 2>&1 | head -1
wait_http "http://127.0.0.1:$am_port/-/ready"

cat >"$work/alarm.toml" <<EOF
[[receiver]]
name = "alertmanager"
digest_from = 6
alertmanager = "http://127.0.0.1:$am_port"
EOF
"$monitor" alarm --listen "127.0.0.1:$alarm_port" --config "$work/alarm.toml" --journal "$work/alarm.journal" >"$work/alarm.out" 2>"$work/alarm.log" &
pids+=($!)
wait_lines "$work/alarm.out" 1

python3 - "$alarm_port" "$work/hook.jsonl" <<'EOF'
import json, os, sys, time, urllib.request
port, hook = int(sys.argv[1]), sys.argv[2]
now = int(time.time() * 1000)
series = {"host": "web1", "metric": "cpu.busy", "tags": {"cpu": "total"}}
def event(status, value, at, count):
    return {"event": "alert", "rule": 1, "priority": 1, "expr": "cpu.busy all(#3) > 90", "series": series,
            "status": status, "value": value, "at": at, "count": count, "notify": True}
def post(events):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/events", data=json.dumps(events).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200, answer.status
def wait_for(status, since):
    deadline = time.time() + 60
    while time.time() < deadline:
        if os.path.exists(hook):
            for line in open(hook):
                got = json.loads(line)
                if got["body"]["status"] == status and got["received"] >= since:
                    return got
        time.sleep(0.05)
    sys.exit(f"compare-alerts.sh: Alertmanager's webhook never got a {status} alert")
sent = time.time()
post([event("PROBLEM", 97.0, now, 1)])
firing = wait_for("firing", sent)
alert = firing["body"]["alerts"][0]
labels = alert["labels"]
assert labels["alertname"] == "rule_1" and labels["host"] == "web1" and labels["cpu"] == "total", labels
assert labels["priority"] == "P1" and labels["metric"] == "cpu.busy", labels
print(f"alarm -> Alertmanager -> its webhook: firing in {firing['received'] - sent:.2f} s "
      f"(group_wait 1 s), labels {sorted(labels.items())}")
sent = time.time()
post([event("OK", 80.0, int(time.time() * 1000), 0)])
resolved = wait_for("resolved", sent)
print(f"alarm -> Alertmanager -> its webhook: resolved in {resolved['received'] - sent:.2f} s (group_interval 1 s)")
EOF

# ------------------------------------------------------------------------------------------------
# 3. Latency and a storm, end to end.

"$alerts" latency --series "${LATENCY_SERIES:-200}" --step-ms 1000 || fail "alerts missing in the latency run"
"$alerts" storm --series "${SERIES:-10000}" --limit 10 --window-s 10 || fail "the storm broke the limit or lost its summary"
