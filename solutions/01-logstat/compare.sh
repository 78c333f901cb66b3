#!/usr/bin/env bash
# Measures the reference `logstat` against the tools it imitates, side by side in one run, on a
# generated nginx log: `LC_ALL=C awk | sort | uniq -c | sort -rn | head` and GoAccess for the top
# URLs, and a full scan for the time-range query. Prints a Markdown table of medians, ratios and
# peak memory (RSS), then the top URLs of logstat and awk next to each other.
#
#   bash solutions/01-logstat/compare.sh            # 1 GB log, 5 rounds
#   SIZE=200M ROUNDS=3 bash solutions/01-logstat/compare.sh
#
# Needs awk, sort, GNU time (/usr/bin/time) and goaccess (Debian: apt-get install goaccess time).
# The log is read from the page cache: it is read once before timing, so every tool gets it warm.
set -euo pipefail
cd "$(dirname "$0")/../.."

size=${SIZE:-1G}
rounds=${ROUNDS:-5}
slow_rounds=${SLOW_ROUNDS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for tool in awk sort /usr/bin/time goaccess python3; do
  command -v "$tool" >/dev/null || { echo "compare.sh: $tool is needed" >&2; exit 2; }
done

cargo build --quiet --release -p logstat-ref -p datasets --bin logstat-ref --bin gen
logstat=target/release/logstat-ref
log=datasets/generated/nginx-$size-seed0.log
[ -f "$log" ] || target/release/gen nginx --size "$size" --seed 0 -o "$log" >/dev/null
bytes=$(stat -c %s "$log")
cat "$log" >/dev/null

# measure NAME COMMAND: runs COMMAND through sh, appends "NAME seconds max-rss-KiB" to the results.
measure() {
  local name=$1 command=$2
  /usr/bin/time -f "$name %e %M" -a -o "$work/results" sh -c "$command" >"$work/$name.out"
}

# The time range: a minute in the middle of the log, from its first and last times.
summary=$($logstat summary --json -q "$log")
read -r from to < <(python3 -c '
import json, sys, datetime as d
s = json.loads(sys.argv[1])
parse = lambda t: d.datetime.strptime(t, "%d/%b/%Y:%H:%M:%S %z")
first, last = parse(s["first"]), parse(s["last"])
mid = first + (last - first) / 2
print(mid.isoformat(), (mid + d.timedelta(minutes=1)).isoformat())' "$summary")

awk_top="LC_ALL=C awk '{print \$7}' '$log' | LC_ALL=C sort | LC_ALL=C uniq -c | LC_ALL=C sort -rn | head"
for round in $(seq "$rounds"); do
  echo "round $round/$rounds" >&2
  measure logstat-top-url "$logstat top --by url -n 10 -q '$log'"
  measure logstat-top-url-1-thread "$logstat top --by url -n 10 -q --threads 1 '$log'"
  measure logstat-summary-full-scan "$logstat summary -q '$log'"
  measure logstat-range-1-minute "$logstat range --from '$from' --to '$to' '$log'"
  if [ "$round" -le "$slow_rounds" ]; then
    measure awk-sort-uniq "$awk_top"
    measure goaccess "goaccess '$log' --log-format=COMBINED --no-progress --no-global-config -o '$work/goaccess.json'"
  fi
done

python3 - "$work/results" "$bytes" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) == 3 and not parts[0].startswith("Command"):
        runs.setdefault(parts[0], []).append((float(parts[1]), int(parts[2])))
size = int(sys.argv[2])
base = statistics.median(t for t, _ in runs["logstat-top-url"])
print(f"\nlog: {size / 1e9:.2f} GB\n")
print("| run | median wall (s) | runs | vs logstat top-url | peak RSS (MB) | throughput (MB/s) |")
print("|---|---:|---:|---:|---:|---:|")
for name, samples in runs.items():
    wall = statistics.median(t for t, _ in samples)
    rss = max(m for _, m in samples) / 1024
    ratio = wall / base if base else float("nan")
    print(f"| {name} | {wall:.2f} | {len(samples)} | {ratio:.2f}x | {rss:.0f} | {size / 1e6 / wall if wall else 0:.0f} |")
PY

echo
echo "top URLs, logstat (valid lines only) | awk (every line's 7th field):"
paste -d'|' <(tail -n +2 "$work/logstat-top-url.out" | awk '{print $1, $2}') <(awk '{print $1, $2}' "$work/awk-sort-uniq.out")
echo
echo "range query: $(wc -l <"$work/logstat-range-1-minute.out") lines from $from to $to"
