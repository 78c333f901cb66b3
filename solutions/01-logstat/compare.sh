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

# Named by target, not by package: the workspace's default members then choose the features, as for
# every other release build of the course, so one build serves them all (see .ci/run).
cargo build --quiet --release --bin logstat-ref --bin gen
logstat=target/release/logstat-ref
log=datasets/generated/nginx-$size-seed0.log
mkdir -p datasets/generated
[ -f "$log" ] || target/release/gen nginx --size "$size" --seed 0 -o "$log" >/dev/null
bytes=$(stat -c %s "$log")
cat "$log" >/dev/null

# measure NAME COMMAND: runs COMMAND through sh, appends "NAME seconds max-rss-KiB" to the results.
# Wall time from bash's microsecond clock (GNU time's %e has a 10 ms resolution); peak RSS from GNU
# time, which for a pipeline is the largest process in it.
measure() {
  local name=$1 command=$2 start end
  start=$EPOCHREALTIME
  /usr/bin/time -f "%M" -o "$work/rss" sh -c "$command" >"$work/$name.out" 2>"$work/$name.err"
  end=$EPOCHREALTIME
  echo "$name $(python3 -c "print(f'{$end - $start:.4f}')") $(tail -n 1 "$work/rss")" >>"$work/results"
}

# The time ranges: a second and a minute in the middle of the log, from its first and last times.
summary=$($logstat summary --json -q "$log")
read -r from to_second to < <(python3 -c '
import json, sys, datetime as d
s = json.loads(sys.argv[1])
parse = lambda t: d.datetime.strptime(t, "%d/%b/%Y:%H:%M:%S %z")
first, last = parse(s["first"]), parse(s["last"])
mid = (first + (last - first) / 2).replace(microsecond=0)
print(mid.isoformat(), (mid + d.timedelta(seconds=1)).isoformat(), (mid + d.timedelta(minutes=1)).isoformat())' "$summary")

# The pipeline as people type it (LC_ALL=C on awk only: sort runs in the environment's locale), and
# the fastest form of it (every stage compares bytes).
awk_as_typed="LC_ALL=C awk '{print \$7}' '$log' | sort | uniq -c | sort -rn | head"
awk_all_c="LC_ALL=C awk '{print \$7}' '$log' | LC_ALL=C sort | LC_ALL=C uniq -c | LC_ALL=C sort -rn | head"
for round in $(seq "$rounds"); do
  echo "round $round/$rounds" >&2
  measure logstat-top-url "$logstat top --by url -n 10 -q '$log'"
  measure logstat-top-url-1-thread "$logstat top --by url -n 10 -q --threads 1 '$log'"
  measure logstat-summary-full-scan "$logstat summary -q '$log'"
  measure logstat-range-1-second "$logstat range --from '$from' --to '$to_second' '$log'"
  measure logstat-range-1-minute "$logstat range --from '$from' --to '$to' '$log'"
  if [ "$round" -le "$slow_rounds" ]; then
    measure awk-sort-uniq-as-typed "$awk_as_typed"
    measure awk-sort-uniq-all-LC_ALL=C "$awk_all_c"
    measure goaccess "goaccess '$log' --log-format=COMBINED --no-progress --no-global-config -o '$work/goaccess.json'"
  fi
done
# Memory follows distinct keys, not input size: the same log four times over, through a pipe.
measure logstat-top-url-4x-via-pipe "cat '$log' '$log' '$log' '$log' | $logstat top --by url -n 10 -q"

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
    print(f"| {name} | {wall:.3f} | {len(samples)} | {ratio:.2f}x | {rss:.0f} | {size / 1e6 / wall if wall else 0:.0f} |")
median = lambda name: statistics.median(t for t, _ in runs[name])
for name in [n for n in runs if n.startswith("awk") or n == "goaccess"]:
    print(f"\n{name} / logstat-top-url: {median(name) / base:.1f}x", end="")
for window in ["second", "minute"]:
    share = 100 * median(f"logstat-range-1-{window}") / median("logstat-summary-full-scan")
    print(f"\nrange query for one {window} / full scan: {share:.2f}%", end="")
print()
PY

echo
echo "top URLs, logstat (valid lines only) | awk (every line's 7th field):"
paste -d'|' <(tail -n +2 "$work/logstat-top-url.out" | awk '{print $1, $2}') <(awk '{print $1, $2}' "$work/awk-sort-uniq-all-LC_ALL=C.out")
echo
echo "range queries: $(wc -l <"$work/logstat-range-1-second.out") lines from $from to $to_second, $(wc -l <"$work/logstat-range-1-minute.out") to $to"
echo "machine: $(nproc) cores, $(uname -sr); goaccess $(goaccess --version | head -1 | awk '{print $3}'); $(sort --version | head -1)"
